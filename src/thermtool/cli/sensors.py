"""`thermtool sensors [KIND]`: the sensor kinds thermtool knows, the hardware it can see, one kind's options."""

from __future__ import annotations

import json

import click

from ..errors import UnknownNameError
from ..sensors import SENSORS, TARGETS, sensor_options
from .options import SENSOR_OPTIONS


@click.command("sensors", epilog="Example: thermtool sensors sim   (the options the simulated camera takes)")
@click.argument("kind", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def sensors_command(kind: str | None, as_json: bool) -> None:
    """List sensor kinds and probe for attached hardware (I2C 0x30-0x3F, 0x2A, 0x68, 0x69; spidev and video
    nodes); with KIND, describe the options that kind of sensor takes (they work on every command that has
    --sensor).

    Finding nothing is not an error: the simulated cameras always work (--sensor sim).
    """
    if kind is not None:
        describe_kind(kind, as_json)
        return
    from ..sensors.detect import probe

    findings, notes = probe()
    kinds = SENSORS.names()
    if as_json:
        click.echo(json.dumps({"kinds": kinds, "found": [f.__dict__ for f in findings], "notes": notes}))
        return
    click.echo("Sensor kinds (--sensor KIND[:TARGET]; 'thermtool sensors KIND' lists a kind's options):")
    for name in kinds:
        target = TARGETS.get(name)
        click.echo(f"  {name}" + (f"  [:{target}]" if target else ""))
    click.echo("Hardware found:" if findings else "Hardware found: none")
    for finding in findings:
        click.echo(f"  {finding.description}: --sensor {finding.spec}")
    for note in notes:
        click.echo(f"  ({note})")


def describe_kind(kind: str, as_json: bool) -> None:
    """The target and the sensor options of one kind, with their help."""
    if kind not in SENSORS.names():
        raise UnknownNameError("sensor", kind, SENSORS.names())
    accepted = sensor_options(SENSORS.get(kind))
    rows = [(", ".join(flags), str(settings.get("help", ""))) for flags, key, settings in SENSOR_OPTIONS
            if key in accepted]
    if as_json:
        click.echo(json.dumps({"kind": kind, "target": TARGETS.get(kind), "options": dict(rows)}))
        return
    formatter = click.HelpFormatter(max_width=100)
    formatter.write_text(f"--sensor {kind}" + (f"[:TARGET], TARGET: {TARGETS[kind]}" if kind in TARGETS else ""))
    with formatter.section("Options"):
        formatter.write_dl(rows or [("(none)", "")])
    if "rate" in accepted:
        formatter.write_paragraph()
        formatter.write_text("Commands' --rate sets the frames per second" +
                             (" and watch --scene a scripted scene." if "scene" in accepted else "."))
    click.echo(formatter.getvalue(), nl=False)
