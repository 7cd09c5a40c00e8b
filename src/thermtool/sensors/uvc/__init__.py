"""USB (UVC) thermal cameras through OpenCV's V4L2 capture: PureThermal (Lepton Y16) and InfiRay P2 Pro/TC001."""
