"""Panasonic Grid-EYE AMG88xx (8x8) on I2C: register codec, driver and the simulated `sim-amg88xx`."""
