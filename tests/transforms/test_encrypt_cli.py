"""`logferry decrypt` as a user runs it: stdin, files, gzip/zstd, archive folders, keyrings, tampering, the agent."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard

from logferry.agent.event import Batch
from logferry.transforms.encrypt import Encrypt, EncryptConfig
from logferry.transforms.keyring import Key, Keyring, KeySpec
from tests.support.agent import logferry

RECORDS: list[dict[str, Any]] = [
    {"message": "login ok", "user": {"name": "ada", "id": 1815}, "n": 0},
    {"message": "payment", "user.name": "bob", "card": {"last4": "0000", "brand": "fake"}, "n": 1},
    {"message": "no secrets here", "n": 2},
]
FIELDS = ("user.name", "user.id", "card")


@dataclass
class Keys:
    """Two random test keys (generated per test, never real keys) and their files: GCM `a`, SIV `b`."""

    a: Key
    b: Key
    dir: Path

    def args(self, *ids: str) -> list[str]:
        out: list[str] = []
        for kid in ids or ("a", "b"):
            out += ["--key", f"{kid}={self.dir / f'{kid}.key'}"]
        return out


def make_keys(tmp_path: Path) -> Keys:
    material = {"a": os.urandom(32), "b": os.urandom(64)}
    folder = tmp_path / "keys"
    folder.mkdir()
    for kid, m in material.items():
        (folder / f"{kid}.key").write_text(base64.b64encode(m).decode())
    return Keys(Key("a", material["a"]), Key("b", material["b"]), folder)


def encrypt_records(records: list[dict[str, Any]], key: Key) -> list[dict[str, Any]]:
    """The records as the encrypt transform writes them (the transform itself, no agent)."""
    cfg = EncryptConfig(type="encrypt", inputs=["x"], fields=list(FIELDS), mode=key.mode,
                        keys=[KeySpec(id=key.id, env="UNUSED_KEY_IS_PASSED_IN")])
    out = Encrypt(cfg, Keyring([key], key.id)).process(Batch.from_events(json.loads(json.dumps(records))))
    assert out is not None
    return out.events


def ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def decrypt(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    """Run `logferry decrypt` feeding ``stdin`` as bytes; stdout and stderr come back as text."""
    r = subprocess.run([sys.executable, "-m", "logferry.agent", "decrypt", *args], check=False, input=stdin,
                       capture_output=True, timeout=60)
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode(), r.stderr.decode())


def parsed(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


class TestInputs:
    def test_stdin(self, tmp_path: Path) -> None:
        """NDJSON on stdin comes back decrypted, with a summary on stderr."""
        keys = make_keys(tmp_path)
        enc = encrypt_records(RECORDS, keys.a)
        assert enc != RECORDS
        r = decrypt(*keys.args(), stdin=ndjson(enc))
        assert r.returncode == 0, r.stderr
        assert parsed(r.stdout) == RECORDS
        assert "4 values decrypted in 3 records" in r.stderr

    def test_plain_gzip_and_zstd_files(self, tmp_path: Path) -> None:
        """A plain, a gzip and a zstd NDJSON file (named anyhow) all decrypt, in argument order."""
        keys = make_keys(tmp_path)
        body = ndjson(encrypt_records(RECORDS, keys.b))
        (tmp_path / "plain.ndjson").write_bytes(body)
        (tmp_path / "g.log").write_bytes(gzip.compress(body))
        (tmp_path / "z.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(body))
        r = decrypt(*keys.args("b"), str(tmp_path / "plain.ndjson"), str(tmp_path / "g.log"),
                    str(tmp_path / "z.jsonl.zst"))
        assert r.returncode == 0, r.stderr
        assert parsed(r.stdout) == RECORDS * 3

    def test_gzip_on_stdin(self, tmp_path: Path) -> None:
        """gzip-compressed NDJSON piped in (`-`) is recognised by its magic bytes."""
        keys = make_keys(tmp_path)
        r = decrypt(*keys.args(), "-", stdin=gzip.compress(ndjson(encrypt_records(RECORDS, keys.a))))
        assert r.returncode == 0, r.stderr
        assert parsed(r.stdout) == RECORDS

    def test_archive_folder(self, tmp_path: Path) -> None:
        """A folder is walked recursively in path order; Parquet is skipped with a note, other files ignored."""
        keys = make_keys(tmp_path)
        root = tmp_path / "archive" / "dt=2024-01-01"
        (root / "hour=00").mkdir(parents=True)
        (root / "hour=01").mkdir(parents=True)
        first, second = encrypt_records(RECORDS[:2], keys.a), encrypt_records(RECORDS[2:], keys.b)
        (root / "hour=00" / "s-00-01.ndjson.gz").write_bytes(gzip.compress(ndjson(first)))
        (root / "hour=00" / "s-00-01.ndjson.gz.meta.json").write_text('{"enc:v1:a:s:AAAA": 1}')
        (root / "hour=01" / "s-02-02.ndjson.zst").write_bytes(zstandard.ZstdCompressor().compress(ndjson(second)))
        (root / "hour=01" / ".s-03.ndjson.123.tmp").write_bytes(b"{partial")
        (root / "hour=01" / "s-04.parquet").write_bytes(b"PAR1")
        r = decrypt(*keys.args(), str(tmp_path / "archive"))
        assert r.returncode == 0, r.stderr
        assert parsed(r.stdout) == RECORDS
        assert "s-04.parquet: skipped" in r.stderr and "1 Parquet files skipped" in r.stderr

    def test_output_file_and_untouched_lines(self, tmp_path: Path) -> None:
        """--output writes there; lines without encrypted values, even non-JSON ones, are copied byte for byte."""
        keys = make_keys(tmp_path)
        body = b'{"keep":  "spacing"}\nnot json at all\n' + ndjson(encrypt_records(RECORDS[:1], keys.a))
        out = tmp_path / "out.ndjson"
        r = decrypt(*keys.args(), "-o", str(out), stdin=body)
        assert r.returncode == 0, r.stderr
        assert r.stdout == ""
        lines = out.read_bytes().splitlines(keepends=True)
        assert lines[:2] == [b'{"keep":  "spacing"}\n', b"not json at all\n"]
        assert json.loads(lines[2]) == RECORDS[0]


    def test_files_without_final_newline_stay_separate(self, tmp_path: Path) -> None:
        """Two inputs whose last line lacks a newline still give one record per line."""
        keys = make_keys(tmp_path)
        one = tmp_path / "one.ndjson"
        one.write_bytes(ndjson(encrypt_records(RECORDS[:1], keys.a)).rstrip(b"\n"))
        two = tmp_path / "two.ndjson"
        two.write_bytes(b'{"plain": true}')
        r = decrypt(*keys.args(), str(one), str(two), str(one))
        assert parsed(r.stdout) == [RECORDS[0], {"plain": True}, RECORDS[0]]

    def test_missing_and_corrupt_inputs_do_not_stop_the_rest(self, tmp_path: Path) -> None:
        """A missing file and a truncated gzip file are reported and exit 1; the other inputs are still decrypted."""
        keys = make_keys(tmp_path)
        body = ndjson(encrypt_records(RECORDS, keys.a))
        (tmp_path / "cut.ndjson.gz").write_bytes(gzip.compress(body)[:-12])
        (tmp_path / "ok.ndjson").write_bytes(body)
        r = decrypt(*keys.args(), str(tmp_path / "nope.ndjson"), str(tmp_path / "cut.ndjson.gz"),
                    str(tmp_path / "ok.ndjson"))
        assert r.returncode == 1
        assert f"{tmp_path / 'nope.ndjson'}: cannot open: No such file or directory" in r.stderr
        assert f"{tmp_path / 'cut.ndjson.gz'}: cannot read further" in r.stderr
        assert parsed(r.stdout)[-3:] == RECORDS


class TestKeys:
    def test_keyring_file(self, tmp_path: Path) -> None:
        """A YAML keyring file with relative paths supplies both keys (rotation: old and new values)."""
        keys = make_keys(tmp_path)
        ring = tmp_path / "ring.yaml"
        ring.write_text("keys:\n  - {id: a, file: keys/a.key}\n  - {id: b, file: keys/b.key}\n")
        enc = encrypt_records(RECORDS[:1], keys.a) + encrypt_records(RECORDS[1:], keys.b)
        r = decrypt("--key-file", str(ring), stdin=ndjson(enc))
        assert r.returncode == 0, r.stderr
        assert parsed(r.stdout) == RECORDS

    def test_unknown_key_id_is_left_and_counted(self, tmp_path: Path) -> None:
        """Values under a key id not given stay encrypted and are counted per id; the exit code stays 0."""
        keys = make_keys(tmp_path)
        enc = encrypt_records(RECORDS[:1], keys.a) + encrypt_records(RECORDS[1:], keys.b)
        r = decrypt(*keys.args("a"), stdin=ndjson(enc))
        assert r.returncode == 0, r.stderr
        out = parsed(r.stdout)
        assert out[0] == RECORDS[0] and out[1]["user.name"].startswith("enc:v1:b:")
        assert "2 left encrypted: unknown key id b (2)" in r.stderr

    def test_fields_filter(self, tmp_path: Path) -> None:
        """With --fields only values at those paths are decrypted."""
        keys = make_keys(tmp_path)
        r = decrypt(*keys.args(), "--fields", "user.name", stdin=ndjson(encrypt_records(RECORDS, keys.a)))
        out = parsed(r.stdout)
        assert out[0]["user"]["name"] == "ada" and out[0]["user"]["id"].startswith("enc:v1:a:j:")
        assert out[1]["user.name"] == "bob" and out[1]["card"].startswith("enc:v1:")

    def test_key_problems_exit_78_before_output(self, tmp_path: Path) -> None:
        """A missing key file, a malformed --key and no key at all fail at once with a clear message."""
        r = decrypt("--key", f"a={tmp_path / 'none.key'}", stdin=b"{}\n")
        assert r.returncode == 78 and r.stdout == ""
        assert f"key 'a' (file {tmp_path / 'none.key'}): the key file does not exist" in r.stderr
        r = decrypt("--key", "just-a-path", stdin=b"{}\n")
        assert r.returncode == 78 and "expected ID=PATH" in r.stderr
        r = decrypt(stdin=b"{}\n")
        assert r.returncode == 2 and "no keys" in r.stderr


class TestTampering:
    def test_tampered_value_is_reported_and_others_processed(self, tmp_path: Path) -> None:
        """A changed value and a value moved to another field are named by line and field; exit 1 at the end."""
        keys = make_keys(tmp_path)
        enc = encrypt_records(RECORDS, keys.a)
        payload = enc[0]["user"]["name"]
        flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
        enc[0]["user"]["name"] = flipped
        enc[1]["message"] = enc[1]["user.name"]  # a ciphertext copied into another field
        r = decrypt(*keys.args(), "-", stdin=ndjson(enc))
        assert r.returncode == 1
        assert "<stdin>:1: field user.name: authentication failed" in r.stderr
        assert "<stdin>:2: field message: authentication failed" in r.stderr
        out = parsed(r.stdout)
        assert out[0]["user"] == {"name": flipped, "id": 1815}
        assert out[1]["user.name"] == "bob" and out[1]["card"] == RECORDS[1]["card"]
        assert out[2] == RECORDS[2]
        assert "2 failed authentication" in r.stderr


PIPELINE = """\
data_dir: {tmp}/data
api: {{enabled: false}}
sources:
  in: {{type: stdin}}
transforms:
{parse}  enc:
    type: encrypt
    inputs: [{enc_input}]
    fields: {fields}
    mode: {mode}
    keys: [{{id: k2, file: {tmp}/keys/b.key}}, {{id: k1, file: {tmp}/keys/a.key}}]
    active_key: {active}
outputs:
  out: {{type: file, inputs: [enc], path: {tmp}/out.ndjson, encoding: {{nested: {nested}}}}}
"""


def run_agent(tmp_path: Path, stdin: str, **fmt: Any) -> Path:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(PIPELINE.format(tmp=tmp_path, **fmt))
    r = logferry("run", "--once", "-c", str(cfg), input=stdin)
    assert r.returncode == 0, r.stderr
    return cfg


class TestWithTheAgent:
    def test_agent_output_decrypts_to_the_input_lines(self, tmp_path: Path) -> None:
        """stdin -> encrypt -> file with the real agent, then `logferry decrypt` on the file gives the lines back."""
        make_keys(tmp_path)
        (tmp_path / "keys" / "b.key").write_text(os.urandom(32).hex())  # k2 must be a GCM key here
        lines = [f"line {i} with secret {i * 7}" for i in range(200)] + ["", "ünïcode ✓"]
        run_agent(tmp_path, "\n".join(lines) + "\n", parse="", enc_input="in", fields="[message]", mode="gcm",
                  active="k1", nested="false")
        written = parsed((tmp_path / "out.ndjson").read_text())
        assert all(e["message"].startswith("enc:v1:k1:s:") for e in written)
        r = decrypt("--key", f"k1={tmp_path / 'keys' / 'a.key'}", str(tmp_path / "out.ndjson"))
        assert r.returncode == 0, r.stderr
        assert [e["message"] for e in parsed(r.stdout)] == lines

    def test_parsed_json_fields_round_trip_nested_output(self, tmp_path: Path) -> None:
        """JSON lines parsed, fields encrypted with SIV, written nested; decrypt with --config restores them."""
        make_keys(tmp_path)
        (tmp_path / "keys" / "a.key").write_text(base64.b64encode(os.urandom(64)).decode())
        inputs = [{"user": {"name": f"user{i}", "id": i}, "payload": {"x": [i, i + 1]}} for i in range(20)]
        cfg = run_agent(tmp_path, "".join(json.dumps(x) + "\n" for x in inputs),
                        parse="  p: {type: parse, inputs: [in], formats: [json]}\n", enc_input="p",
                        fields="[user.name, user.id, payload]", mode="siv", active="k2", nested="true")
        written = parsed((tmp_path / "out.ndjson").read_text())
        assert written[0]["user"]["name"].startswith("enc:v1:k2:s:")
        r = decrypt("--config", str(cfg), str(tmp_path / "out.ndjson"))
        assert r.returncode == 0, r.stderr
        back = parsed(r.stdout)
        for src, got in zip(inputs, back, strict=True):
            assert got["user"] == src["user"] and got["payload"] == src["payload"]
