"""Melexis MLX90641 (16x12): Hamming-coded EEPROM, calibration maths, inverse model, driver and sim."""
