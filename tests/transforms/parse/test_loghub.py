"""Loghub verification: shipped presets reproduce the header fields of the Loghub ground truth.

For each of the 8 Loghub 2k samples in ``<repo>/../shared/corpus/loghub`` every
raw line is parsed, once with ``auto`` and once with the system's preset, and
compared with ``*_structured.csv``: ``@timestamp`` (the ground-truth date and
time, year ignored where the log has none), the level (where the system has
one) and the other header columns. At least 99% of lines must agree on all of
them. Run ``pytest -s`` to see the per-system figures.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from logferry.agent.event import Batch, Event
from logferry.transforms.parse.levels import normalize_level
from logferry.transforms.parse.transform import ParseConfig, ParseTransform

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared"
LOGHUB = SHARED / "corpus" / "loghub"
pytestmark = pytest.mark.skipif(not LOGHUB.is_dir(), reason=f"shared corpus not present at {LOGHUB}")

Row = dict[str, str]
Expect = Callable[[Row], dict[str, Any]]


def _iso(dt: datetime, frac: str = "") -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


def _int_or_absent(text: str) -> int | None:
    return int(text) if text else None


def _apache(r: Row) -> dict[str, Any]:
    out = {"@timestamp": _iso(datetime.strptime(r["Time"], "%a %b %d %H:%M:%S %Y")),
           "log.level": normalize_level(r["Level"])}
    # Loghub leaves "[client 1.2.3.4] " in Content; the preset extracts it as source.address.
    if r["Content"].startswith("[client "):
        client, _, rest = r["Content"][len("[client "):].partition("] ")
        out.update({"source.address": client, "message": rest})
    return out


def _hdfs(r: Row) -> dict[str, Any]:
    return {"@timestamp": _iso(datetime.strptime(r["Date"] + r["Time"], "%y%m%d%H%M%S")),
            "process.thread.id": int(r["Pid"]), "log.level": normalize_level(r["Level"]),
            "log.logger": r["Component"]}


def _healthapp(r: Row) -> dict[str, Any]:
    day, h, m, s, ms = r["Time"].replace("-", ":").split(":")
    dt = datetime(int(day[:4]), int(day[4:6]), int(day[6:]), int(h), int(m), int(s))
    return {"@timestamp": _iso(dt, f"{int(ms):03d}"), "log.logger": r["Component"], "process.pid": int(r["Pid"])}


def _yearless(month: str, day: str, time: str) -> str:
    """The ``MM-DDTHH:MM:SS`` part of ``@timestamp`` (these logs carry no year)."""
    return datetime.strptime(f"2000 {month} {day} {time}", "%Y %b %d %H:%M:%S").strftime("%m-%dT%H:%M:%S")


def _linux(r: Row) -> dict[str, Any]:
    # Loghub's "Level" column of this system holds the host name.
    return {"@timestamp[5:19]": _yearless(r["Month"], r["Date"], r["Time"]), "host.hostname": r["Level"],
            "process.name": r["Component"], "process.pid": _int_or_absent(r["PID"])}


def _openssh(r: Row) -> dict[str, Any]:
    # Loghub's "Component" column of this system holds the host name.
    return {"@timestamp[5:19]": _yearless(r["Date"], r["Day"], r["Time"]), "host.hostname": r["Component"],
            "process.name": "sshd", "process.pid": int(r["Pid"])}


def _proxifier(r: Row) -> dict[str, Any]:
    stamp = datetime.strptime("2000." + r["Time"], "%Y.%m.%d %H:%M:%S").strftime("%m-%dT%H:%M:%S")
    return {"@timestamp[5:19]": stamp, "process.name": r["Program"]}


def _spark(r: Row) -> dict[str, Any]:
    return {"@timestamp": _iso(datetime.strptime(f"{r['Date']} {r['Time']}", "%y/%m/%d %H:%M:%S")),
            "log.level": normalize_level(r["Level"]), "log.logger": r["Component"]}


def _zookeeper(r: Row) -> dict[str, Any]:
    secs, ms = r["Time"].split(",")
    # Loghub splits "[thread:Class@line]" at the first colon; we split at the last one.
    return {"@timestamp": _iso(datetime.strptime(f"{r['Date']} {secs}", "%Y-%m-%d %H:%M:%S"), ms),
            "log.level": normalize_level(r["Level"]), "thread:logger": f"{r['Node']}:{r['Component']}",
            "log.origin.file.line": int(r["Id"])}


SYSTEMS: dict[str, tuple[str, Expect]] = {
    "Apache": ("apache_error", _apache),
    "HDFS": ("hdfs", _hdfs),
    "HealthApp": ("healthapp", _healthapp),
    "Linux": ("syslog", _linux),
    "OpenSSH": ("syslog", _openssh),
    "Proxifier": ("proxifier", _proxifier),
    "Spark": ("log4j", _spark),
    "Zookeeper": ("log4j", _zookeeper),
}


def _actual(ev: Event, key: str) -> Any:
    if key == "@timestamp[5:19]":
        return str(ev.get("@timestamp", ""))[5:19]
    if key == "thread:logger":
        return f"{ev.get('process.thread.name')}:{ev.get('log.logger')}"
    return ev.get(key)


def _load(system: str) -> tuple[list[str], list[Row]]:
    raw = (LOGHUB / system / f"{system}_2k.log").read_text(encoding="utf-8")
    lines = [ln.removesuffix("\r") for ln in raw.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    with open(LOGHUB / system / f"{system}_2k.log_structured.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return lines, rows


def agreement(system: str, fmt: str) -> tuple[float, list[str]]:
    """Share of lines whose parsed header fields all equal the ground truth, and a few mismatches."""
    _preset, expect = SYSTEMS[system]
    lines, rows = _load(system)
    assert len(lines) == len(rows) == 2000
    config = msgspec.convert({"type": "parse", "inputs": ["x"], "formats": [fmt]}, ParseConfig)
    events = ParseTransform(config).process(Batch.from_lines(lines, {"@timestamp": "2000-01-01T00:00:00Z"}))
    assert events is not None
    good = 0
    bad: list[str] = []
    for line, row, ev in zip(lines, rows, events.events):
        want = expect(row)
        content = want.pop("message", row["Content"])
        diff = {k: (v, _actual(ev, k)) for k, v in want.items() if _actual(ev, k) != v}
        if "_parse_failure" in ev.get("tags", ()) or ev.get("message", "").strip() != content.strip():
            diff["message"] = (content, ev.get("message"))
        if diff:
            bad.append(f"{line!r}: {diff}")
        else:
            good += 1
    return good / len(lines), bad[:5]


class TestLoghubPresets:
    @pytest.mark.parametrize("system", sorted(SYSTEMS))
    def test_preset_matches_ground_truth(self, system: str) -> None:
        """The system's preset yields the ground-truth time, level and header fields on >= 99% of lines."""
        share, bad = agreement(system, SYSTEMS[system][0])
        print(f"\nloghub {system:<10} preset {SYSTEMS[system][0]:<13} {share:7.2%} lines equal to ground truth")
        assert share >= 0.99, bad

    @pytest.mark.parametrize("system", sorted(SYSTEMS))
    def test_auto_matches_ground_truth(self, system: str) -> None:
        """``auto`` alone picks the right built-in and reaches the same >= 99% agreement."""
        share, bad = agreement(system, "auto")
        print(f"\nloghub {system:<10} auto                 {share:7.2%} lines equal to ground truth")
        assert share >= 0.99, bad
