"""MQTT output of the watch mode (extra `thermtool[mqtt]`, paho-mqtt): events, occupancy, statistics,
availability with a last will, and Home Assistant discovery.

Topics under PREFIX (from the URL, default thermtool/HOSTNAME):

    PREFIX/availability   online / offline (retained; the broker sends offline if the process dies)
    PREFIX/event          one JSON event per message (QoS 1)
    PREFIX/occupancy      ON / OFF (retained)
    PREFIX/count          objects (people) present now, e.g. 2 (retained)
    PREFIX/stats          {"min", "max", "mean", "units", "time"} (retained)
    homeassistant/binary_sensor/NODE/occupancy/config, homeassistant/sensor/NODE/{count,min,max,mean}/config

paho reconnects on its own with exponential backoff. Events published while the broker is away wait in
a bounded queue (the oldest are dropped first when it is full) and go out, in order, on reconnection;
availability, discovery, occupancy, count and the latest statistics are re-published then too.
"""

from __future__ import annotations

import collections
import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .. import __version__
from ..errors import InputError, MissingDependencyError
from ..fileio import read_regular_file
from ..units import TEMPERATURE_UNITS, UNIT_SYMBOLS
from .events import Event

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
STATS_KEYS = ("min", "max", "mean")
STATS_NAMES = {"min": "Minimum temperature", "max": "Maximum temperature", "mean": "Mean temperature"}


@dataclass(frozen=True)
class MqttTarget:
    """Where to publish: broker `host` and `port`, topic `prefix`, optional credentials, TLS for mqtts://."""

    host: str
    port: int
    prefix: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a repr, a log or a traceback
    tls: bool = False


def redact_url(url: str) -> str:
    """`url` with any password in its user part replaced by *** (works on URLs too broken to parse)."""
    start = url.find("://") + 3 if "://" in url else 0
    at = url.rfind("@")
    if at < start:
        return url
    user, colon, _ = url[start:at].partition(":")
    return url[:start] + user + (":***" if colon else "") + url[at:]


def parse_mqtt_url(url: str, default_prefix: str | None = None) -> MqttTarget:
    """Parse mqtt[s]://[USER[:PASSWORD]@]HOST[:PORT][/PREFIX]; PREFIX defaults to thermtool/HOSTNAME.

    Errors name the URL with its password redacted.
    """
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InputError(f"--mqtt {shown!r}: {str(exc).replace(url, shown)}") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise InputError(f"--mqtt {shown!r}: expected mqtt://HOST[:PORT][/PREFIX] (or mqtts:// for TLS)")
    prefix = parts.path.strip("/") or default_prefix or f"thermtool/{_hostname()}"
    if "#" in url or "+" in prefix or "//" in prefix or parts.query:
        raise InputError(f"--mqtt {shown!r}: the topic prefix {prefix!r} must not hold +, # or empty levels")
    return MqttTarget(parts.hostname, port or DEFAULT_PORTS[parts.scheme], prefix,
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None, parts.scheme == "mqtts")


def with_password(target: MqttTarget, password: str | None = None, password_file: Path | None = None) -> MqttTarget:
    """`target` with its password from `password_file` (first line), else `password` (environment or config),
    else the URL's own; InputError when the file cannot be read (naming the file, never its content)."""
    if password_file is not None:
        try:
            lines = read_regular_file(password_file).decode("utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise InputError(f"--mqtt-password-file {password_file}: cannot read it ({reason})") from None
        if not lines or not lines[0]:
            raise InputError(f"--mqtt-password-file {password_file}: the first line (the password) is empty")
        password = lines[0]
    if password is None:
        return target
    if not target.username:
        raise InputError("an MQTT password needs a user name: --mqtt mqtt://USER@HOST/...")
    return replace(target, password=password)


def _hostname() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname().split(".")[0]) or "camera"


def node_id(prefix: str) -> str:
    """The Home Assistant node id of a topic prefix: thermtool/garage -> thermtool_garage."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", prefix)


def discovery_messages(prefix: str, units: str, *, discovery_prefix: str = "homeassistant", name: str | None = None,
                       model: str = "") -> dict[str, dict[str, Any]]:
    """Home Assistant MQTT discovery: topic -> config of the occupancy binary sensor, the people count and the
    min/max/mean sensors."""
    node = node_id(prefix)
    device = {"identifiers": [node], "name": name or f"thermtool {prefix.rsplit('/', 1)[-1]}",
              "manufacturer": "thermtool", "model": model or "thermal camera", "sw_version": __version__}
    common = {"availability_topic": f"{prefix}/availability", "payload_available": "online",
              "payload_not_available": "offline", "device": device}
    messages = {f"{discovery_prefix}/binary_sensor/{node}/occupancy/config": {
        "name": "Occupancy", "unique_id": f"{node}_occupancy", "device_class": "occupancy",
        "state_topic": f"{prefix}/occupancy", "payload_on": "ON", "payload_off": "OFF",
        "json_attributes_topic": f"{prefix}/event", **common},
        f"{discovery_prefix}/sensor/{node}/count/config": {
            "name": "People", "unique_id": f"{node}_count", "state_topic": f"{prefix}/count",
            "state_class": "measurement", "icon": "mdi:account-multiple", **common}}
    temperature = units in TEMPERATURE_UNITS
    for key in STATS_KEYS:
        config: dict[str, Any] = {
            "name": STATS_NAMES[key] if temperature else f"{key.capitalize()} reading",
            "unique_id": f"{node}_{key}", "state_topic": f"{prefix}/stats",
            "value_template": f"{{{{ value_json.{key} }}}}", "unit_of_measurement": UNIT_SYMBOLS.get(units, units),
            "state_class": "measurement", **common}
        if temperature:
            config["device_class"] = "temperature"
        messages[f"{discovery_prefix}/sensor/{node}/{key}/config"] = config
    return messages


class MqttPublisher:
    """Publishes watch output to an MQTT broker from a background network thread (paho's loop).

    `queue_size` bounds the events kept while disconnected; `reconnect` is paho's (first, longest) retry
    delay in seconds; `warn` receives one line per connection problem.
    """

    def __init__(self, target: MqttTarget | str, *, discovery: bool = True, discovery_prefix: str = "homeassistant",
                 name: str | None = None, model: str = "", queue_size: int = 1000, keepalive: int = 30,
                 reconnect: tuple[int, int] = (1, 60), client_id: str | None = None,
                 warn: Callable[[str], None] = print) -> None:
        self.target = parse_mqtt_url(target) if isinstance(target, str) else target
        if queue_size < 1:
            raise InputError(f"the MQTT queue must hold at least 1 event, got {queue_size}")
        self.discovery, self.discovery_prefix = discovery, discovery_prefix
        self.name, self.model = name, model
        self.keepalive, self.reconnect, self.client_id = keepalive, reconnect, client_id
        self.warn = warn
        self.units: str | None = None
        self.dropped = 0
        self._queue: collections.deque[str] = collections.deque(maxlen=queue_size)
        self._count = 0
        self._stats: str | None = None
        self._connected = False
        self._unreachable_said = False
        self._lock = threading.RLock()
        self._client: Any = None

    @property
    def prefix(self) -> str:
        """The topic prefix."""
        return self.target.prefix

    @property
    def connected(self) -> bool:
        """True while the broker has accepted the connection."""
        return self._connected

    @property
    def queued(self) -> int:
        """Events waiting for the broker."""
        return len(self._queue)

    def start(self) -> MqttPublisher:
        """Connect in the background (retrying with backoff until the broker answers); returns self."""
        try:
            import paho.mqtt.client as paho
        except ImportError:
            raise MissingDependencyError("--mqtt", "mqtt") from None
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=self.client_id or "")
        if self.target.username:
            client.username_pw_set(self.target.username, self.target.password)
        if self.target.tls:
            client.tls_set()
        client.will_set(f"{self.prefix}/availability", "offline", qos=1, retain=True)
        client.reconnect_delay_set(*self.reconnect)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        self._client = client
        client.connect_async(self.target.host, self.target.port, keepalive=self.keepalive)
        client.loop_start()
        return self

    def __enter__(self) -> MqttPublisher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def announce(self, units: str) -> None:
        """Say the units of the frames (they shape the discovery config); publishes discovery when connected."""
        with self._lock:
            self.units = units
            if self._connected:
                self._publish_discovery()

    def event(self, event: Event) -> None:
        """Publish an event (queued while disconnected) and the occupancy it implies."""
        with self._lock:
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 100 == 0:
                    self.warn(f"MQTT: {self.dropped} queued event(s) dropped while the broker is unreachable")
            self._queue.append(event.to_json())
            changed, self._count = event.active != self._count, event.active
            if self._connected:
                self._flush()
                if changed:
                    self._publish_occupancy()

    def stats(self, values: dict[str, Any]) -> None:
        """Publish frame statistics (min, max, mean, units, time); the latest is re-sent on reconnection."""
        with self._lock:
            self._stats = json.dumps(values)
            if self._connected:
                self._client.publish(f"{self.prefix}/stats", self._stats, qos=0, retain=True)

    def close(self, timeout: float = 2.0) -> None:
        """Send what is queued and `offline` (best effort within `timeout`), then disconnect."""
        client = self._client
        if client is None:
            return
        self._client = None
        if self._connected:
            info = client.publish(f"{self.prefix}/availability", "offline", qos=1, retain=True)
            # If the connection went away meanwhile, the broker's last will says offline instead.
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
            client.disconnect()
        client.loop_stop()
        self._connected = False

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.warn(f"MQTT: {self.target.host}:{self.target.port} refused the connection: {reason}")
            return
        with self._lock:
            self._connected, self._unreachable_said = True, False
            client.publish(f"{self.prefix}/availability", "online", qos=1, retain=True)
            if self.units is not None:
                self._publish_discovery()
            self._publish_occupancy()
            if self._stats is not None:
                client.publish(f"{self.prefix}/stats", self._stats, qos=0, retain=True)
            self._flush()

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        if not self._unreachable_said:
            self._unreachable_said = True
            self.warn(f"MQTT: cannot reach {self.target.host}:{self.target.port}; retrying with backoff, "
                      f"events are queued (up to {self._queue.maxlen})")

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        with self._lock:
            was_connected, self._connected = self._connected, False
        if was_connected and self._client is not None:
            self.warn(f"MQTT: lost {self.target.host}:{self.target.port} ({reason}); reconnecting, "
                      f"events are queued (up to {self._queue.maxlen})")

    def _flush(self) -> None:
        """Hand queued events to paho in order (it keeps QoS 1 messages until the broker acknowledges)."""
        import paho.mqtt.client as paho

        while self._queue and self._connected:
            info = self._client.publish(f"{self.prefix}/event", self._queue[0], qos=1)
            if info.rc == paho.MQTT_ERR_QUEUE_SIZE:
                break
            self._queue.popleft()

    def _publish_occupancy(self) -> None:
        self._client.publish(f"{self.prefix}/occupancy", "ON" if self._count else "OFF", qos=1, retain=True)
        self._client.publish(f"{self.prefix}/count", str(self._count), qos=1, retain=True)

    def _publish_discovery(self) -> None:
        if not self.discovery or self.units is None:
            return
        messages = discovery_messages(self.prefix, self.units, discovery_prefix=self.discovery_prefix,
                                      name=self.name, model=self.model)
        for topic, config in messages.items():
            self._client.publish(topic, json.dumps(config), qos=1, retain=True)
