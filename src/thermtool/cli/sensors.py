"""`thermtool sensors`: the sensor kinds thermtool knows and the hardware it can see."""

from __future__ import annotations

import json

import click

from ..sensors import SENSORS, TARGETS
from ..sensors.detect import probe


@click.command("sensors", epilog="Example: thermtool sensors --json")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def sensors_command(as_json: bool) -> None:
    """List sensor kinds and probe for attached hardware (I2C 0x30-0x3F, 0x2A, 0x68, 0x69; spidev and video
    nodes).

    Finding nothing is not an error: the simulated cameras always work (--sensor sim).
    """
    findings, notes = probe()
    kinds = SENSORS.names()
    if as_json:
        click.echo(json.dumps({"kinds": kinds, "found": [f.__dict__ for f in findings], "notes": notes}))
        return
    click.echo("Sensor kinds (--sensor KIND[:TARGET]):")
    for kind in kinds:
        target = TARGETS.get(kind)
        click.echo(f"  {kind}" + (f"  [:{target}]" if target else ""))
    click.echo("Hardware found:" if findings else "Hardware found: none")
    for finding in findings:
        click.echo(f"  {finding.description}: --sensor {finding.spec}")
    for note in notes:
        click.echo(f"  ({note})")
