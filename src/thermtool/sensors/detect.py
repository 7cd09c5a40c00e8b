"""Hardware detection: which I2C addresses answer and which SPI nodes exist, without failing when none do."""

from __future__ import annotations

import contextlib
import errno
from dataclasses import dataclass
from pathlib import Path

from ..buses.i2c import i2c_bus_paths, open_error_advice
from ..errors import install_hint
from . import probes

MLX90640_ADDRESS = 0x33
#: The MLX90640's address is programmable (EEPROM 0x240F); boards and users move it within 0x30..0x3F.
MLX90640_ADDRESSES = range(0x30, 0x40)
MLX90640_ADDRESS_WORD = 0x240F  # bits 7:0 hold the device's own address: what identifies an MLX90640
LEPTON_CCI_ADDRESS = 0x2A


@dataclass(frozen=True)
class Finding:
    """Something the probe saw: a sensor spec to try and a human description."""

    spec: str
    description: str
    address: int | None = None  # the I2C address that answered, for I2C findings


def _answers(bus: object, address: int) -> bool:
    try:
        bus.read_byte(address)  # type: ignore[attr-defined]
    except OSError:
        return False
    return True


def _is_mlx90640(bus: object, address: int) -> bool:
    """True when the device at `address` reads its own address back from EEPROM 0x240F (an MLX90640).

    Other chips live in 0x30..0x3F (an SSD1306 display at 0x3C), so answering is not enough. An adapter that
    cannot do the combined read (EOPNOTSUPP) falls back to "something answers at 0x33".
    """
    from smbus2 import i2c_msg

    write = i2c_msg.write(address, MLX90640_ADDRESS_WORD.to_bytes(2, "big"))
    read = i2c_msg.read(address, 2)
    try:
        bus.i2c_rdwr(write, read)  # type: ignore[attr-defined]
    except OSError as exc:
        return exc.errno == errno.EOPNOTSUPP and address == MLX90640_ADDRESS and _answers(bus, address)
    return bytes(read)[1] == address


def probe_i2c(paths: list[Path] | None = None) -> tuple[list[Finding], list[str]]:
    """(findings, notes): MLX90640s (0x30..0x3F) and a Lepton CCI (0x2A) on each /dev/i2c-N that can be opened;
    the notes say why a bus could not be probed."""
    findings: list[Finding] = []
    notes: list[str] = []
    paths = i2c_bus_paths() if paths is None else paths
    if not paths:
        return findings, ["no I2C buses (/dev/i2c-*); enable I2C (raspi-config on a Pi, jetson-io on a Jetson) "
                          "if a sensor is wired"]
    try:
        from smbus2 import SMBus
    except ImportError:
        return findings, [f"smbus2 is not installed: {install_hint('mlx90640')} to probe I2C"]
    for path in paths:
        try:
            bus = SMBus(str(path))
        except OSError as exc:
            notes.append(f"{path}: cannot open: {open_error_advice(exc)}")
            continue
        with contextlib.closing(bus):
            for address in MLX90640_ADDRESSES:
                if not _answers(bus, address):
                    continue
                if address == MLX90640_ADDRESS and probes.melexis_model(bus, address) == "mlx90641":
                    model = "mlx90641"
                elif _is_mlx90640(bus, address):
                    model = "mlx90640"
                else:
                    continue
                hint = "" if address == MLX90640_ADDRESS else f" (add --address 0x{address:02x})"
                description = f"{model.upper()} answers at 0x{address:02x} on {path}{hint}"
                findings.append(Finding(f"{model}:{path}", description, address))
            if _answers(bus, LEPTON_CCI_ADDRESS):
                findings.append(Finding("lepton", f"Lepton CCI answers at 0x2A on {path}", LEPTON_CCI_ADDRESS))
            findings += [Finding(*f) for f in probes.grid_eyes(lambda a, bus=bus: _answers(bus, a), path)]
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
    usb, usb_notes = probes.usb_cameras()
    return i2c + spi + [Finding(*f) for f in usb], i2c_notes + spi_notes + usb_notes


def choose(findings: list[Finding]) -> Finding | None:
    """The sensor to use when none was named: a lone I2C or USB camera (a Melexis part at its default address,
    which the spec implies), else a Lepton whose CCI answered."""
    mlx = [f for f in findings if f.spec.startswith(("mlx9064", "amg88xx", "uvc:"))]
    if len(mlx) == 1 and (not mlx[0].spec.startswith("mlx9064") or mlx[0].address in (None, MLX90640_ADDRESS)):
        return mlx[0]
    cci = any(f.spec == "lepton" for f in findings)
    spi = [f for f in findings if f.spec.startswith("lepton:")]
    if cci and spi:
        return spi[0]
    return None
