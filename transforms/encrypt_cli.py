"""``logferry decrypt``: turn the ``enc:v1:`` values written by the ``encrypt`` transform back into plaintext.

    logferry decrypt --key-file keyring.yaml [INPUT ...] [--output FILE]
    logferry decrypt --key orders-2024=/etc/logferry/orders-2024.key --fields user.name < events.ndjson
    logferry decrypt --config /etc/logferry/config.yaml /var/lib/logferry/archive/

Keys (at least one source, any mix, all merged):

* ``--key ID=PATH``: one key file (base64, hex or raw bytes; see ``keyring.py``);
* ``--key-file FILE``: a keyring file, YAML or JSON ``{keys: [{id, file | env}]}``
  (relative paths are relative to that file);
* ``--config FILE``: a pipeline config: the keys of every ``encrypt`` transform.

Inputs are NDJSON: stdin (no input or ``-``), files (gzip and zstd are
recognised by their magic bytes), or directories, such as a local archive,
walked recursively for ``*.ndjson``, ``*.jsonl`` (optionally ``.gz``/``.zst``).
Parquet files are skipped with a note. Every ``enc:v1:`` string anywhere in a
record (nested objects, lists) is decrypted when its key id is known; with
``--fields`` only at those dotted paths. Records are written to stdout or
``--output`` in input order; a record with nothing decrypted is copied
byte for byte.

A value with an unknown key id is left as is and counted. A value that fails
authentication (changed, moved to another field, wrong key) is left as is,
reported on stderr with its input, line and field, and makes the exit code 1
once every input has been processed. Key problems exit 78 before any output.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import msgspec
import zstandard

from logferry.agent.errors import EX_CONFIG, BuildError, ConfigError
from logferry.transforms.encrypt import (
    ENCRYPTED_VALUE,
    PREFIX,
    EncryptConfig,
    TamperedValueError,
    UnknownKeyError,
    open_value,
)
from logferry.transforms.keyring import Key, Keyring, KeySpec, load_keyring, read_key, read_keyring_file

NDJSON_SUFFIXES = (".ndjson", ".jsonl")
COMPRESSED_SUFFIXES = ("", ".gz", ".zst")
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PREFIX_BYTES = PREFIX.encode()
_MAX_ERRORS_SHOWN = 100  # past this, errors are only counted: a wrong key would flood the terminal

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


@dataclass
class Stats:
    records: int = 0
    decrypted: int = 0
    unknown_ids: Counter[str] = field(default_factory=Counter)
    tampered: int = 0
    not_json: int = 0
    unreadable: int = 0
    parquet_skipped: int = 0


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="logferry decrypt", description=(
        "Decrypt the enc:v1 values written by the encrypt transform in NDJSON from stdin, files or archive folders."))
    ap.add_argument("inputs", nargs="*", metavar="INPUT",
                    help="NDJSON file (.gz/.zst ok), folder to walk, or - for stdin (default: stdin)")
    ap.add_argument("--key", action="append", default=[], metavar="ID=PATH", help="a key file and its key id")
    ap.add_argument("--key-file", action="append", default=[], metavar="FILE", type=Path,
                    help="keyring file, YAML or JSON: {keys: [{id, file | env}]}")
    ap.add_argument("--config", action="append", default=[], metavar="FILE",
                    help="pipeline config: use the keys of its encrypt transforms")
    ap.add_argument("--fields", default=None, metavar="A,B",
                    help="only decrypt values at these dotted paths (default: every enc:v1 value)")
    ap.add_argument("-o", "--output", default=None, metavar="FILE", help="write here instead of stdout")
    return ap


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if not (args.key or args.key_file or args.config):
        print("logferry decrypt: no keys: pass --key ID=PATH, --key-file FILE or --config FILE", file=sys.stderr)
        return 2
    try:
        keyring = _keyring(args)
    except (BuildError, ConfigError) as exc:
        print(f"logferry decrypt: {exc}", file=sys.stderr)
        return EX_CONFIG
    fields = frozenset(f.strip() for f in args.fields.split(",") if f.strip()) if args.fields else None
    stats = Stats()
    try:
        out: IO[bytes] = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115
    except OSError as exc:
        print(f"logferry decrypt: {args.output}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        decryptor = Decryptor(keyring, fields, stats, sys.stderr)
        for name, path in _inputs(args.inputs or ["-"], stats):
            with ExitStack() as stack:
                try:
                    stream = _open_input(path, stack)
                except OSError as exc:
                    stats.unreadable += 1
                    print(f"{name}: cannot open: {exc.strerror or exc}", file=sys.stderr)
                    continue
                decryptor.run(name, stream, out)
        out.flush()
    except BrokenPipeError:  # `logferry decrypt ... | head`: the reader has all it wants
        # Point stdout at /dev/null so the interpreter's final flush does not complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if args.output:
            out.close()
    _summary(stats)
    return 1 if stats.tampered or stats.unreadable else 0


def _keyring(args: argparse.Namespace) -> Keyring:
    ring = Keyring([])
    for item in args.key:
        kid, sep, path = item.partition("=")
        if not sep or not path:
            raise BuildError(f"--key {item!r}: expected ID=PATH")
        try:
            spec = KeySpec(id=kid, file=path)
        except ValueError as exc:
            raise BuildError(f"--key {item!r}: {exc}") from None
        ring.merge(Keyring([Key(kid, read_key(spec, (32, 64)))]))
    for path in args.key_file:
        ring.merge(read_keyring_file(path))
    for cfg_path in args.config:
        ring.merge(_pipeline_keys(cfg_path))
    return ring


def _pipeline_keys(path: str) -> Keyring:
    """The keys of every ``encrypt`` transform in a pipeline config, loaded as the agent loads it."""
    from logferry.agent.config.load import load_config  # only this option needs the whole config machinery

    cfg = load_config(path)
    ring = Keyring([])
    for tid, t in cfg.transforms.items():
        if isinstance(t, EncryptConfig):
            try:
                ring.merge(load_keyring(t.keys))
            except BuildError as exc:
                raise BuildError(f"{path}: transforms.{tid}: {exc}") from None
    if not len(ring):
        raise BuildError(f"{path}: no encrypt transform, so no keys")
    return ring


class Decryptor:
    """Decrypts records line by line; problems go to ``err`` and into ``stats``."""

    def __init__(self, keyring: Keyring, fields: frozenset[str] | None, stats: Stats, err: IO[str]) -> None:
        self.keyring = keyring
        self.fields = fields
        self.stats = stats
        self.err = err
        self._where = ""

    def run(self, name: str, stream: Iterable[bytes], out: IO[bytes]) -> None:
        write = out.write
        try:
            for lineno, line in enumerate(stream, 1):
                if not line.endswith(b"\n"):  # last line of an input without one: keep records apart
                    line += b"\n"
                if _PREFIX_BYTES not in line:
                    if line.strip():
                        self.stats.records += 1
                    write(line)
                    continue
                self.stats.records += 1
                try:
                    record = _decode(line)
                except msgspec.DecodeError:
                    self.stats.not_json += 1
                    write(line)
                    continue
                self._where = f"{name}:{lineno}"
                before = self.stats.decrypted
                record = self._walk(record, "")
                if self.stats.decrypted == before:
                    write(line)
                else:
                    write(_encode(record) + b"\n")
        except BrokenPipeError:  # the output side: not this input's fault
            raise
        except (OSError, EOFError, zstandard.ZstdError) as exc:
            self.stats.unreadable += 1
            print(f"{name}: cannot read further: {exc}", file=self.err)

    def _walk(self, node: Any, path: str) -> Any:
        """``node`` with every decryptable value replaced; ``path`` is the dotted field name so far.

        List items share their list's path: the transform encrypts whole field values,
        so a path never needs an index.
        """
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, (dict, list, str)):
                    new = self._walk(v, f"{path}.{k}" if path else k)
                    if new is not v:
                        node[k] = new
            return node
        if isinstance(node, list):
            for i, v in enumerate(node):
                if isinstance(v, (dict, list, str)):
                    new = self._walk(v, path)
                    if new is not v:
                        node[i] = new
            return node
        if isinstance(node, str) and node.startswith(PREFIX) and ENCRYPTED_VALUE.fullmatch(node):
            if self.fields is not None and path not in self.fields:
                return node
            try:
                value = open_value(self.keyring, path, node)
            except UnknownKeyError as exc:
                self.stats.unknown_ids[exc.key_id] += 1
                return node
            except TamperedValueError as exc:
                self.stats.tampered += 1
                if self.stats.tampered <= _MAX_ERRORS_SHOWN:
                    print(f"{self._where}: field {path}: {exc}", file=self.err)
                return node
            self.stats.decrypted += 1
            # A field encrypted inside another encrypted field comes back still encrypted.
            return self._walk(value, path) if isinstance(value, (dict, list, str)) else value
        return node


def _inputs(names: list[str], stats: Stats) -> Iterator[tuple[str, Path | None]]:
    """(display name, path or ``None`` for stdin) of every input, folders expanded in path order."""
    for name in names:
        if name == "-":
            yield "<stdin>", None
            continue
        path = Path(name)
        if not path.is_dir():
            yield name, path
            continue
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            if f.name.startswith("."):  # temporary files of an archive being written
                continue
            if f.name.endswith(".parquet"):
                stats.parquet_skipped += 1
                print(f"{f}: skipped: Parquet files are not decrypted here", file=sys.stderr)
            elif _is_ndjson_name(f.name):
                yield str(f), f


def _is_ndjson_name(name: str) -> bool:
    return any(name.endswith(s + c) for s in NDJSON_SUFFIXES for c in COMPRESSED_SUFFIXES)


def _open_input(path: Path | None, stack: ExitStack) -> io.BufferedIOBase:
    """A line stream of the input, decompressed when it starts with gzip or zstd magic bytes.

    Everything opened is registered on ``stack``; the process's stdin is never closed.
    """
    raw: io.BufferedReader
    if path is None:
        stdin = sys.stdin.buffer
        raw = stdin if isinstance(stdin, io.BufferedReader) else io.BufferedReader(stdin)  # type: ignore[arg-type]
    else:
        raw = stack.enter_context(open(path, "rb"))  # noqa: SIM115 - the stack closes it
    head = raw.peek(4)[:4]
    if head.startswith(_GZIP_MAGIC):
        return stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
    if head.startswith(_ZSTD_MAGIC):
        reader = stack.enter_context(
            zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=False))
        return io.BufferedReader(reader)
    return raw


def _summary(stats: Stats) -> None:
    parts = [f"{stats.decrypted} values decrypted in {stats.records} records"]
    if stats.unknown_ids:
        ids = ", ".join(f"{k} ({n})" for k, n in sorted(stats.unknown_ids.items()))
        parts.append(f"{sum(stats.unknown_ids.values())} left encrypted: unknown key id {ids}")
    if stats.tampered:
        parts.append(f"{stats.tampered} failed authentication")
    if stats.not_json:
        parts.append(f"{stats.not_json} lines not JSON, copied as is")
    if stats.parquet_skipped:
        parts.append(f"{stats.parquet_skipped} Parquet files skipped")
    if stats.unreadable:
        parts.append(f"{stats.unreadable} inputs unreadable")
    print("logferry decrypt: " + "; ".join(parts), file=sys.stderr)
