"""``logferry buffer inspect | verify | repair DIR``: look at and fix a disk buffer, for an operator at 3 a.m.

* ``inspect``: what is there (segments, ledger, records and events not yet
  acknowledged, age of the oldest, a torn tail), read only, fast (headers only).
* ``verify``: reads every record, checks its CRC32C and, when the key is
  given (or records are plain), decrypts and decodes it; exit 1 if anything
  is damaged.
* ``repair``: with the agent stopped (the buffer's lock is checked), cuts a
  torn tail, moves segments with a damaged header aside (``.seg.bad``),
  replaces a damaged ledger (records are then replayed from the oldest
  segment: duplicates, no loss) and removes stale temporary files. Damaged
  records inside a segment are left: the agent skips and counts them.

``DIR`` is the buffer directory: ``<data_dir>/outputs/<output id>/buffer``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from logferry.agent.buffers.disk.crypto import BufferKeyring, read_key
from logferry.agent.buffers.disk.ledger import Ledger
from logferry.agent.buffers.disk.reader import SegmentReader
from logferry.agent.buffers.disk.recover import recover
from logferry.agent.buffers.disk.segment import (
    BufferLockedError,
    release_lock,
    segment_path,
    take_lock,
)
from logferry.agent.config.common import BufferKeyConfig
from logferry.agent.errors import BuildError


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="logferry buffer", description="Inspect, verify or repair a disk buffer.")
    sub = ap.add_subparsers(dest="action", required=True)
    for name, text in (("inspect", "summarise the buffer (read only)"),
                       ("verify", "check every record; exit 1 if any is damaged (read only)"),
                       ("repair", "make the buffer usable again (stop the agent first)")):
        p = sub.add_parser(name, help=text)
        p.add_argument("directory", type=Path, help="the buffer directory: <data_dir>/outputs/<id>/buffer")
        p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
        if name == "verify":
            p.add_argument("--key-id", help="id of the key the segments were encrypted with")
            group = p.add_mutually_exclusive_group()
            group.add_argument("--key-file", help="file holding that key")
            group.add_argument("--key-env", help="environment variable holding that key")
    return ap


def _inspect(directory: Path) -> dict[str, Any]:
    rec = recover(directory, modify=False)
    ledger = rec.ledger
    now = time.time()
    return {
        "directory": str(directory),
        "segments": [{"id": sid, "bytes": info.size,
                      "key_id": info.header.key_id if info.header else None,
                      "created": (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(info.header.created_ms / 1000))
                                  if info.header else None),
                      "problem": info.problem or None} for sid, info in rec.segments.items()],
        "bytes": sum(i.size for i in rec.segments.values()),
        "ledger": {"read": list(ledger.read) if ledger else None, "write": list(ledger.write) if ledger else None,
                   "problem": rec.ledger_problem or None},
        "resume_at": list(rec.read) if rec.segments else None,
        "unacknowledged_records": rec.records,
        "unacknowledged_events": rec.events,
        "oldest_record_age_secs": round(now - rec.oldest_ms / 1000, 3) if rec.oldest_ms else None,
        "torn_tail_bytes": rec.truncated_bytes,
    }


def _keyring(args: argparse.Namespace) -> BufferKeyring | None:
    if args.key_id is None and args.key_file is None and args.key_env is None:
        return None
    if args.key_id is None or (args.key_file is None and args.key_env is None):
        raise BuildError("--key-id needs --key-file or --key-env (and the other way round)")
    spec = BufferKeyConfig(key_id=args.key_id, key_file=args.key_file, key_env=args.key_env)
    return BufferKeyring({args.key_id: read_key(spec)}, args.key_id)


def _verify(directory: Path, keyring: BufferKeyring | None) -> dict[str, Any]:
    rec = recover(directory, modify=False)
    reader = SegmentReader(directory, keyring)
    records = events = 0
    damaged: list[dict[str, Any]] = []
    unchecked = 0
    try:
        for sid, info in rec.segments.items():
            if info.header is None:
                damaged.append({"segment": sid, "offset": 0, "bytes": info.size, "reason": info.problem})
                continue
            key_id = info.header.key_id
            no_key = key_id is not None and (keyring is None or not keyring.has(key_id))
            if no_key:
                unchecked += 1  # CRCs are still checked below; decryption needs the key
            pos, limit = info.header.size, info.size
            while pos < limit:
                items, pos = reader.read(sid, key_id, pos, limit)
                for item in items:
                    if item.events is None and not (no_key and item.reason == "decrypt"):
                        damaged.append({"segment": sid, "offset": item.offset, "bytes": item.end - item.offset,
                                        "reason": item.reason})
                    else:  # whole (its CRC holds), decoded or not decryptable without the key
                        records += 1
                        events += item.count
                if not items:
                    break
    finally:
        reader.close()
    return {"directory": str(directory), "records": records, "events": events, "damaged": damaged,
            "segments_not_decrypted": unchecked, "ok": not damaged}


def _repair(directory: Path) -> dict[str, Any]:
    lock = take_lock(directory, wait_secs=0.0)
    try:
        actions: list[str] = []
        before = recover(directory, modify=False)
        for sid, info in before.segments.items():
            if info.header is None:
                bad = segment_path(directory, sid).with_suffix(".seg.bad")
                os.replace(segment_path(directory, sid), bad)
                actions.append(f"moved segment {sid} aside to {bad.name}: {info.problem}")
        if before.ledger_problem:
            Ledger.path(directory).unlink()
            actions.append(f"removed the damaged ledger ({before.ledger_problem}); "
                           "records replay from the oldest segment")
        after = recover(directory, modify=True)
        if after.deleted_tmp_files:
            actions.append(f"removed temporary files {', '.join(after.deleted_tmp_files)}")
        if after.truncated_bytes:
            actions.append(f"cut a torn tail of {after.truncated_bytes} bytes from the last segment")
        if after.deleted_segments:
            actions.append(f"deleted fully acknowledged segments {after.deleted_segments}")
        return {"directory": str(directory), "actions": actions,
                "unacknowledged_records": after.records, "unacknowledged_events": after.events}
    finally:
        release_lock(lock)


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        if isinstance(value, list) and value and isinstance(value[0], (dict, str)):
            print(f"{key}:")
            for v in value:
                print(f"  - {json.dumps(v) if isinstance(v, dict) else v}")
        else:
            print(f"{key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    directory: Path = args.directory
    if not directory.is_dir():
        print(f"logferry buffer: {directory} is not a directory", file=sys.stderr)
        return 2
    try:
        if args.action == "inspect":
            _print(_inspect(directory), args.json)
            return 0
        if args.action == "verify":
            result = _verify(directory, _keyring(args))
            _print(result, args.json)
            return 0 if result["ok"] else 1
        result = _repair(directory)
        _print(result, args.json)
        return 0
    except BufferLockedError:
        print(f"logferry buffer: {directory} is in use; stop the agent first", file=sys.stderr)
        return 3
    except (BuildError, OSError) as exc:
        print(f"logferry buffer: {exc}", file=sys.stderr)
        return 2
