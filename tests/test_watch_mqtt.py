"""MQTT output against a real broker (Debian's mosquitto, started here on a free localhost port)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from thermtool.errors import InputError
from thermtool.sensors.scenes import PersonScene
from thermtool.watch import Box, Event
from thermtool.watch.mqtt import MqttPublisher, MqttTarget, discovery_messages, node_id, parse_mqtt_url

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
MOSQUITTO = shutil.which("mosquitto") or next(
    (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)), None)


def event(kind: str, track: int = 1, active: int = 1) -> Event:
    return Event(kind, track, 26, 6.5, Box(1, 7, 5, 13), 55, 32.25, 29.4, 11.0, 0.25, active, (24, 32), "C", T0, "sim")


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class Broker:
    """A mosquitto process on 127.0.0.1:`port` with persistence in `folder` (so it can be restarted)."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.config = folder / "mosquitto.conf"
        self.config.write_text(textwrap.dedent(f"""\
            listener {self.port} 127.0.0.1
            allow_anonymous true
            persistence true
            persistence_location {folder}/
            user {pwd.getpwuid(os.getuid()).pw_name}
            log_dest stderr
            """))
        self.log = folder / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([str(MOSQUITTO), "-c", str(self.config)], stdout=log, stderr=log)
        if not wait_for(self._accepts, 10.0):
            self.stop()
            pytest.fail(f"mosquitto did not start: {self.log.read_text()[-500:]}")

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    pytest.importorskip("paho.mqtt.client", reason="paho-mqtt is not installed (pip install 'thermtool[mqtt]')")
    server = Broker(tmp_path)
    server.start()
    yield server
    server.stop()


class Listener:
    """A subscriber with a persistent session (clean_session=False): the broker keeps its messages for it."""

    def __init__(self, port: int, topic: str, client_id: str = "thermtool-test-listener") -> None:
        import paho.mqtt.client as paho

        self.messages: list[tuple[str, str, bool]] = []
        self._lock = threading.Lock()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.client.reconnect_delay_set(1, 1)
        self.subscribed = threading.Event()
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        # Messages published before the subscription is in place would be missed (only retained ones come later).
        assert self.subscribed.wait(10), "the test broker did not confirm the subscription"

    def _on_message(self, client: object, userdata: object, message: object) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload.decode(), bool(message.retain)))  # type: ignore[attr-defined]

    def on(self, topic: str) -> list[str]:
        with self._lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publisher(port: int, prefix: str = "thermtool/test", **options: object) -> MqttPublisher:
    target = MqttTarget("127.0.0.1", port, prefix)
    return MqttPublisher(target, reconnect=(1, 1), warn=lambda _: None, **options).start()  # type: ignore[arg-type]


def test_parse_mqtt_url() -> None:
    target = parse_mqtt_url("mqtt://user:p%40ss@broker.local:1884/home/garage/thermal")
    assert target == MqttTarget("broker.local", 1884, "home/garage/thermal", "user", "p@ss", False)
    assert parse_mqtt_url("mqtts://broker").port == 8883 and parse_mqtt_url("mqtts://broker").tls
    assert parse_mqtt_url("mqtt://broker", default_prefix="cams/one").prefix == "cams/one"
    assert parse_mqtt_url("mqtt://broker").prefix.startswith("thermtool/")
    for bad in ("http://broker", "mqtt://", "mqtt://broker/a/#", "mqtt://broker:99999", "broker"):
        with pytest.raises(InputError, match="--mqtt"):
            parse_mqtt_url(bad)


def test_discovery_messages_describe_occupancy_and_temperatures() -> None:
    messages = discovery_messages("home/garage", "C")
    node = node_id("home/garage")
    assert node == "home_garage"
    occupancy = messages[f"homeassistant/binary_sensor/{node}/occupancy/config"]
    assert occupancy["device_class"] == "occupancy" and occupancy["state_topic"] == "home/garage/occupancy"
    assert occupancy["availability_topic"] == "home/garage/availability"
    assert occupancy["unique_id"] == "home_garage_occupancy"
    maximum = messages[f"homeassistant/sensor/{node}/max/config"]
    assert maximum["device_class"] == "temperature" and maximum["unit_of_measurement"] == "°C"
    assert maximum["value_template"] == "{{ value_json.max }}" and maximum["state_topic"] == "home/garage/stats"
    count = messages[f"homeassistant/sensor/{node}/count/config"]
    assert count["state_topic"] == "home/garage/count" and count["state_class"] == "measurement"
    assert len(messages) == 5 and len({json.dumps(m["device"]) for m in messages.values()}) == 1
    raw = discovery_messages("cam", "counts")["homeassistant/sensor/cam/mean/config"]
    assert "device_class" not in raw and raw["unit_of_measurement"] == "counts"


def test_events_occupancy_stats_and_retained_discovery(broker: Broker) -> None:
    listener = Listener(broker.port, "thermtool/test/#")
    with publisher(broker.port) as pub:
        assert wait_for(lambda: pub.connected)
        pub.announce("C")
        pub.stats({"min": 19.5, "max": 32.1, "mean": 21.0, "units": "C", "time": T0.isoformat()})
        for kind, active in (("start", 1), ("start", 2), ("end", 1), ("end", 0)):
            pub.event(event(kind, active=active))
        assert wait_for(lambda: len(listener.on("thermtool/test/event")) == 4)
        assert wait_for(lambda: listener.on("thermtool/test/occupancy")[-1:] == ["OFF"])
        assert wait_for(lambda: listener.on("thermtool/test/count")[-4:] == ["1", "2", "1", "0"])
        events = [json.loads(p) for p in listener.on("thermtool/test/event")]
        assert [e["event"] for e in events] == ["start", "start", "end", "end"] and events[0]["box"]["width"] == 5
        assert "ON" in listener.on("thermtool/test/occupancy")
        assert json.loads(listener.on("thermtool/test/stats")[-1])["max"] == 32.1
        assert listener.on("thermtool/test/availability")[-1] == "online"
        # A newcomer (Home Assistant starting later) gets the retained discovery, state and availability.
        late = Listener(broker.port, "#", client_id="late-listener")
        try:
            topic = "homeassistant/binary_sensor/thermtool_test/occupancy/config"
            assert wait_for(lambda: len(late.on(topic)) == 1)
            assert json.loads(late.on(topic)[0])["device_class"] == "occupancy"
            retained = {t for t, _, kept in late.messages if kept}
            assert {topic, "homeassistant/sensor/thermtool_test/max/config", "thermtool/test/availability",
                    "thermtool/test/occupancy", "thermtool/test/count", "thermtool/test/stats"} <= retained
            assert "thermtool/test/event" not in retained
        finally:
            late.close()
    assert wait_for(lambda: listener.on("thermtool/test/availability")[-1] == "offline")  # said on a clean close
    listener.close()


PUBLISHER_SCRIPT = """
import sys, time
from thermtool.watch.mqtt import MqttPublisher, MqttTarget
pub = MqttPublisher(MqttTarget("127.0.0.1", int(sys.argv[1]), "thermtool/doomed"), keepalive=60).start()
while not pub.connected:
    time.sleep(0.02)
print("connected", flush=True)
time.sleep(60)
"""


def test_last_will_says_offline_when_the_publisher_is_killed(broker: Broker) -> None:
    listener = Listener(broker.port, "thermtool/doomed/availability")
    process = subprocess.Popen([sys.executable, "-c", PUBLISHER_SCRIPT, str(broker.port)], stdout=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "connected"
        assert wait_for(lambda: listener.on("thermtool/doomed/availability") == ["online"])
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        assert wait_for(lambda: listener.on("thermtool/doomed/availability") == ["online", "offline"])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        listener.close()


def test_events_during_a_broker_outage_are_queued_and_sent_after(broker: Broker) -> None:
    listener = Listener(broker.port, "thermtool/test/event")
    with publisher(broker.port, queue_size=2) as pub:
        assert wait_for(lambda: pub.connected)
        pub.event(event("start"))
        assert wait_for(lambda: len(listener.on("thermtool/test/event")) == 1)
        broker.stop()
        assert wait_for(lambda: not pub.connected)
        for track in (2, 3, 4):
            pub.event(event("start", track=track))
        assert pub.queued == 2 and pub.dropped == 1  # bounded: the oldest waiting event made room
        broker.start()
        assert wait_for(lambda: pub.connected and pub.queued == 0, 15.0)
        assert wait_for(lambda: len(listener.on("thermtool/test/event")) == 3, 15.0)
    ids = [json.loads(p)["id"] for p in listener.on("thermtool/test/event")]
    assert ids == [1, 3, 4]
    listener.close()


def test_watch_command_publishes_to_the_broker(broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from thermtool.cli import COMMANDS, run

    monkeypatch.setitem(COMMANDS, "watch", ("thermtool.cli.watch:watch", "Watch for warm movers."))
    scene = PersonScene(speed=0.1, enter=6.0)  # one frame a second: a slow walker
    rng = np.random.default_rng(1)
    stack = np.stack([scene.temperatures(float(t), (24, 32)) + rng.normal(0, 0.15, (24, 32)) for t in range(25)])
    np.save(tmp_path / "walk.npy", stack.astype(np.float32))  # one timestamp: frames spaced 1 s apart
    listener = Listener(broker.port, "#")
    url = f"mqtt://127.0.0.1:{broker.port}/cams/hall"
    assert run(["watch", "--sensor", f"replay:{tmp_path / 'walk.npy'}", "--mqtt", url, "--json"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed[0]["event"] == "start" and printed[-1]["event"] == "end"
    assert wait_for(lambda: len(listener.on("cams/hall/event")) == len(printed))
    assert [json.loads(p) for p in listener.on("cams/hall/event")] == printed
    assert wait_for(lambda: listener.on("cams/hall/availability")[-1:] == ["offline"])
    assert listener.on("cams/hall/occupancy")[-2:] == ["ON", "OFF"]
    assert json.loads(listener.on("cams/hall/stats")[0])["units"] == "C"
    assert listener.on("homeassistant/binary_sensor/cams_hall/occupancy/config")
    listener.close()


def test_an_unreachable_broker_is_reported_once_and_events_wait() -> None:
    pytest.importorskip("paho.mqtt.client", reason="paho-mqtt is not installed (pip install 'thermtool[mqtt]')")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    warnings: list[str] = []
    pub = MqttPublisher(MqttTarget("127.0.0.1", port, "thermtool/nowhere"), reconnect=(1, 1),
                        warn=warnings.append).start()
    try:
        assert wait_for(lambda: bool(warnings), 5.0)
        pub.event(event("start"))
        pub.event(event("end", active=0))
        assert pub.queued == 2 and not pub.connected
        time.sleep(1.5)  # a retry fails again: still one warning
        assert len(warnings) == 1 and "cannot reach" in warnings[0]
    finally:
        pub.close()


@pytest.fixture
def locked_broker(broker: Broker, tmp_path: Path) -> Broker:
    """The broker again, now refusing anonymous clients; `cam` / `s3cr3t word` may publish."""
    passwords = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "cam", "s3cr3t word"], check=True,
                   capture_output=True)
    broker.stop()
    locked = f"allow_anonymous false\npassword_file {passwords}"
    broker.config.write_text(broker.config.read_text().replace("allow_anonymous true", locked))
    broker.start()
    return broker


@pytest.mark.parametrize("source", ["env", "file", "config"])
def test_the_mqtt_password_comes_from_env_file_or_config_and_is_never_shown(
        locked_broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
        source: str) -> None:
    import paho.mqtt.client as paho

    from thermtool.cli import run

    received: list[str] = []
    listener = paho.Client(paho.CallbackAPIVersion.VERSION2)
    listener.username_pw_set("cam", "s3cr3t word")
    listener.on_connect = lambda c, *_: c.subscribe("secret/cam/availability", qos=1)
    listener.on_message = lambda _c, _u, message: received.append(message.payload.decode())
    listener.connect("127.0.0.1", locked_broker.port)
    listener.loop_start()
    args = ["watch", "--sensor", "sim", "--rate", "32", "--count", "8", "--mqtt",
            f"mqtt://cam@127.0.0.1:{locked_broker.port}/secret/cam"]
    if source == "env":
        monkeypatch.setenv("THERMTOOL_MQTT_PASSWORD", "s3cr3t word")
    elif source == "file":
        (tmp_path / "mqtt.pw").write_text("s3cr3t word\n")
        args += ["--mqtt-password-file", str(tmp_path / "mqtt.pw")]
    else:
        (tmp_path / "config.toml").write_text('[watch]\nmqtt-password = "s3cr3t word"\n')
        monkeypatch.setenv("THERMTOOL_CONFIG", str(tmp_path / "config.toml"))
    try:
        assert run(args) == 0
        assert wait_for(lambda: "online" in received and "offline" in received, 10.0)  # accepted by the broker
    finally:
        listener.disconnect()
        listener.loop_stop()
    out, err = capfd.readouterr()
    assert "s3cr3t" not in out + err and "refused" not in err


def test_mqtt_secrets_are_never_echoed(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from thermtool.cli import run

    for bad in ("mqtt://cam:hunter2@broker:99999/x", "mqtt://cam:hunter2@/x", "mqtt://cam:hun/ter2@broker/a/#"):
        assert run(["watch", "--sensor", "sim", "--count", "1", "--mqtt", bad]) == 2
    assert run(["watch", "--sensor", "sim", "--count", "1", "--mqtt", "mqtt://cam@broker",
                "--mqtt-password", "hunter2"]) == 2
    assert run(["watch", "--sensor", "sim", "--count", "1", "--mqtt", "mqtt://cam@broker",
                "--mqtt-password-file", str(tmp_path / "missing")]) == 2
    out, err = capfd.readouterr()
    assert "hunter2" not in out + err and "ter2" not in err
    assert "visible to every user" in err and "cam:***@" in err and "missing: cannot read it" in err
    assert "hunter2" not in repr(parse_mqtt_url("mqtt://cam:hunter2@broker"))
