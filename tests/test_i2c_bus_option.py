"""--i2c names the bus of an I2C sensor (MLX90640, MLX90641, Grid-EYE) like TARGET does, instead of an
internal error; a bus object still passes through, and two different buses are bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from thermtool.cli import cli
from thermtool.errors import InputError, SensorError
from thermtool.sensors.amg88xx.device import open_amg88xx
from thermtool.sensors.mlx90640.device import open_mlx90640
from thermtool.sensors.mlx90641.device import open_mlx90641
from thermtool.sensors.registers import bus_choice

FACTORIES = [open_mlx90640, open_mlx90641, open_amg88xx]


@pytest.mark.parametrize("factory", FACTORIES)
def test_i2c_text_names_the_bus(factory) -> None:  # type: ignore[no-untyped-def]
    assert factory(None, i2c="7").bus_name == "/dev/i2c-7"
    assert factory("/dev/i2c-7", i2c="7").bus_name == "/dev/i2c-7"
    with pytest.raises(InputError, match="--i2c 7 and the sensor's bus 3 differ"):
        factory("3", i2c="7")


def test_a_bus_object_passes_through() -> None:
    bus = object()
    assert bus_choice(None, bus) == (bus, None)  # type: ignore[arg-type]
    assert bus_choice("2", None) == (None, "/dev/i2c-2")


@pytest.mark.parametrize("sensor", ["mlx90640", "mlx90641", "amg88xx"])
def test_cli_i2c_on_a_missing_bus_is_a_sensor_error(sensor: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["snapshot", "--sensor", sensor, "--i2c", "/dev/i2c-250",
                                      "--timeout", "10", "-o", str(tmp_path / "x.npy")])
    assert result.exit_code == 1
    assert isinstance(result.exception, SensorError) and "/dev/i2c-250" in str(result.exception)
    assert not (tmp_path / "x.npy").exists()
