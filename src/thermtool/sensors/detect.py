"""Hardware detection: which I2C addresses answer and which SPI nodes exist, without failing when none do."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from ..buses.i2c import i2c_bus_paths
from ..errors import install_hint

MLX90640_ADDRESS = 0x33
LEPTON_CCI_ADDRESS = 0x2A


@dataclass(frozen=True)
class Finding:
    """Something the probe saw: a sensor spec to try and a human description."""

    spec: str
    description: str


def _answers(bus: object, address: int) -> bool:
    try:
        bus.read_byte(address)  # type: ignore[attr-defined]
    except OSError:
        return False
    return True


def probe_i2c(paths: list[Path] | None = None) -> tuple[list[Finding], list[str]]:
    """(findings, notes): MLX90640 (0x33) and Lepton CCI (0x2A) on each /dev/i2c-N that can be opened."""
    findings: list[Finding] = []
    notes: list[str] = []
    paths = i2c_bus_paths() if paths is None else paths
    if not paths:
        return findings, ["no I2C buses (/dev/i2c-*); enable I2C with raspi-config if a sensor is wired"]
    try:
        from smbus2 import SMBus
    except ImportError:
        return findings, [f"smbus2 is not installed: {install_hint('mlx90640')} to probe I2C"]
    for path in paths:
        try:
            bus = SMBus(str(path))
        except OSError as exc:
            notes.append(f"{path}: cannot open ({exc.strerror})")
            continue
        with contextlib.closing(bus):
            if _answers(bus, MLX90640_ADDRESS):
                findings.append(Finding(f"mlx90640:{path}", f"MLX90640 answers at 0x33 on {path}"))
            if _answers(bus, LEPTON_CCI_ADDRESS):
                findings.append(Finding("lepton", f"Lepton CCI answers at 0x2A on {path}"))
    return findings, notes


def probe_spi() -> tuple[list[Finding], list[str]]:
    """(findings, notes): spidev nodes where a Lepton may be attached."""
    nodes = sorted(Path("/dev").glob("spidev*"))
    if not nodes:
        return [], ["no SPI devices (/dev/spidev*); enable SPI with raspi-config if a Lepton is wired"]
    return [Finding(f"lepton:{n}", f"SPI device {n} (a Lepton may be attached)") for n in nodes], []


def probe() -> tuple[list[Finding], list[str]]:
    """Everything the probes found, and notes on what could not be probed."""
    i2c, i2c_notes = probe_i2c()
    spi, spi_notes = probe_spi()
    return i2c + spi, i2c_notes + spi_notes


def choose(findings: list[Finding]) -> Finding | None:
    """The sensor to use when none was named: a lone MLX90640, else a Lepton whose CCI answered."""
    mlx = [f for f in findings if f.spec.startswith("mlx90640")]
    if len(mlx) == 1:
        return mlx[0]
    cci = any(f.spec == "lepton" for f in findings)
    spi = [f for f in findings if f.spec.startswith("lepton:")]
    if cci and spi:
        return spi[0]
    return None
