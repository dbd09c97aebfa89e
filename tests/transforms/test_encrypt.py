"""The encrypt transform: round trips, SIV determinism, GCM randomness, tamper detection, rotation, config errors."""

from __future__ import annotations

import base64
import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from logferry.agent.config.load import load_config_text
from logferry.agent.errors import BuildError, ConfigError
from logferry.transforms.encrypt import (
    TAG_ENCRYPT_FAILURE,
    Encrypt,
    EncryptConfig,
    TamperedValueError,
    UnknownKeyError,
    is_encrypted,
    open_value,
)
from logferry.transforms.keyring import Key, Keyring, KeySpec, load_keyring
from tests.support.agent import logferry
from tests.transforms.util import build, decode, run

VALUES: dict[str, Any] = {
    "user.name": "Ada Lovelace",
    "user.id": 1815,
    "ml.metrics": {"loss": 0.25, "tags": ["a", "b"], "ok": True},
    "flag": False,
    "empty": None,
    "text.unicode": "héllo wörld ✓",
}


def key_file(tmp_path: Path, name: str, n: int) -> Path:
    """A fresh random key (generated here, never a real one) written as base64 text."""
    path = tmp_path / f"{name}.key"
    path.write_text(base64.b64encode(os.urandom(n)).decode())
    return path


def make(tmp_path: Path, fields: list[str], mode: str = "gcm", keys: list[tuple[str, Path]] | None = None,
         active: str | None = None) -> Encrypt:
    keys = keys or [("k1", key_file(tmp_path, "k1", 32 if mode == "gcm" else 64))]
    body: dict[str, Any] = {"type": "encrypt", "fields": fields, "mode": mode,
                            "keys": [{"id": i, "file": str(p)} for i, p in keys]}
    if active:
        body["active_key"] = active
    t = build(decode(EncryptConfig, body))
    assert isinstance(t, Encrypt)
    return t


def ring_of(t: Encrypt) -> Keyring:
    """Every key of the transform's config, as `logferry decrypt` would load them."""
    return load_keyring(t.cfg.keys)


class TestRoundTrip:
    @pytest.mark.parametrize("mode", ["gcm", "siv"])
    def test_every_value_type_comes_back(self, tmp_path: Path, mode: str) -> None:
        """Strings, ints, bools, null, floats and objects encrypt and decrypt to equal values of the same type."""
        t = make(tmp_path, list(VALUES), mode)
        [out] = run(t, [dict(VALUES, message="kept")])
        assert out["message"] == "kept"
        ring = ring_of(t)
        for path, value in VALUES.items():
            assert is_encrypted(out[path]), path
            back = open_value(ring, path, out[path])
            assert back == value and type(back) is type(value)

    @pytest.mark.parametrize("mode", ["gcm", "siv"])
    def test_nested_field_is_encrypted_in_place(self, tmp_path: Path, mode: str) -> None:
        """A dotted path inside a JSON object is encrypted where it lives and decrypts under the same path."""
        t = make(tmp_path, ["http.request.body"], mode)
        [out] = run(t, [{"http": {"request": {"body": "secret", "method": "GET"}}}])
        enc = out["http"]["request"]["body"]
        assert out["http"]["request"]["method"] == "GET" and is_encrypted(enc)
        assert open_value(ring_of(t), "http.request.body", enc) == "secret"

    def test_format_names_key_and_type(self, tmp_path: Path) -> None:
        """Values look like enc:v1:<key-id>:<s|j>:<base64url without padding>."""
        t = make(tmp_path, ["a", "b"])
        [out] = run(t, [{"a": "x", "b": 7}])
        assert out["a"].startswith("enc:v1:k1:s:") and out["b"].startswith("enc:v1:k1:j:")
        assert "=" not in out["a"] and "+" not in out["a"] and "/" not in out["a"]

    def test_invalid_utf8_survives(self, tmp_path: Path) -> None:
        """A string holding surrogate escapes (invalid UTF-8 from a source) round-trips unchanged."""
        t = make(tmp_path, ["message"])
        odd = "bad \udcff byte"
        [out] = run(t, [{"message": odd}])
        assert open_value(ring_of(t), "message", out["message"]) == odd

    def test_missing_and_already_encrypted_fields_are_left(self, tmp_path: Path) -> None:
        """A missing field stays missing, and a second pass does not encrypt an encrypted value again."""
        t = make(tmp_path, ["user.name", "absent"])
        [once] = run(t, [{"user.name": "bob"}])
        [twice] = run(t, [copy.deepcopy(once)])
        assert twice == once and "absent" not in twice

    def test_lookalike_plaintext_is_encrypted(self, tmp_path: Path) -> None:
        """Plaintext that merely starts with enc:v1: (not a well-formed value) is still encrypted."""
        t = make(tmp_path, ["m"])
        [out] = run(t, [{"m": "enc:v1:k1:s:not base64 at all"}])
        assert out["m"] != "enc:v1:k1:s:not base64 at all"
        assert open_value(ring_of(t), "m", out["m"]) == "enc:v1:k1:s:not base64 at all"

    def test_unencodable_value_is_removed_and_tagged(self, tmp_path: Path) -> None:
        """A value with no JSON form is removed (never passed on in clear) and the event tagged."""
        t = make(tmp_path, ["obj"])
        [out] = run(t, [{"obj": {1.5: object()}, "message": "m"}])
        assert "obj" not in out and out["tags"] == [TAG_ENCRYPT_FAILURE]


class TestDeterminism:
    def test_siv_is_deterministic_per_key_and_field(self, tmp_path: Path) -> None:
        """SIV: equal plaintexts give equal ciphertexts; another key or another field gives another one."""
        t = make(tmp_path, ["a", "b"], "siv")
        other = make(tmp_path, ["a"], "siv", keys=[("k1", key_file(tmp_path, "other", 64))])
        e1, e2 = run(t, [{"a": "same", "b": "same"}, {"a": "same"}])
        [e3] = run(other, [{"a": "same"}])
        assert e1["a"] == e2["a"]
        assert e1["a"] != e1["b"]
        assert e3["a"] != e1["a"]

    def test_siv_flat_and_nested_give_the_same_value(self, tmp_path: Path) -> None:
        """SIV: `user.name` as a flat key and as a nested object encrypt alike (search works across both)."""
        t = make(tmp_path, ["user.name"], "siv")
        flat, nested = run(t, [{"user.name": "bob"}, {"user": {"name": "bob"}}])
        assert flat["user.name"] == nested["user"]["name"]

    def test_gcm_is_randomised(self, tmp_path: Path) -> None:
        """GCM: the same plaintext encrypts differently every time (random nonce)."""
        t = make(tmp_path, ["a"])
        outs = run(t, [{"a": "same"} for _ in range(50)])
        assert len({e["a"] for e in outs}) == 50


class TestTamperDetection:
    @pytest.mark.parametrize("mode", ["gcm", "siv"])
    def test_flipped_byte_fails(self, tmp_path: Path, mode: str) -> None:
        """Changing any byte of the payload makes decryption fail instead of returning other data."""
        t = make(tmp_path, ["a"], mode)
        [out] = run(t, [{"a": "transfer 100 EUR"}])
        head, _, payload = out["a"].rpartition(":")
        blob = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        ring = ring_of(t)
        for i in (0, len(blob) // 2, len(blob) - 1):
            bad = bytearray(blob)
            bad[i] ^= 0x01
            forged = f"{head}:{base64.urlsafe_b64encode(bytes(bad)).decode().rstrip('=')}"
            with pytest.raises(TamperedValueError):
                open_value(ring, "a", forged)

    @pytest.mark.parametrize("mode", ["gcm", "siv"])
    def test_moved_to_another_field_fails(self, tmp_path: Path, mode: str) -> None:
        """A ciphertext copied into another field does not decrypt there."""
        t = make(tmp_path, ["user.name", "user.email"], mode)
        [out] = run(t, [{"user.name": "bob", "user.email": "bob@example.invalid"}])
        ring = ring_of(t)
        with pytest.raises(TamperedValueError):
            open_value(ring, "user.email", out["user.name"])

    def test_changed_type_marker_fails(self, tmp_path: Path) -> None:
        """Turning an `s` value into a `j` value (or truncating it) is detected."""
        t = make(tmp_path, ["a"])
        [out] = run(t, [{"a": "123"}])
        ring = ring_of(t)
        with pytest.raises(TamperedValueError):
            open_value(ring, "a", out["a"].replace(":s:", ":j:"))
        with pytest.raises(TamperedValueError):
            open_value(ring, "a", out["a"][:20])

    def test_wrong_key_with_same_id_fails(self, tmp_path: Path) -> None:
        """A keyring holding a different key under the same id cannot open the value."""
        t = make(tmp_path, ["a"])
        [out] = run(t, [{"a": "x"}])
        with pytest.raises(TamperedValueError, match="wrong key 'k1'"):
            open_value(Keyring([Key("k1", os.urandom(32))]), "a", out["a"])


class TestRotation:
    def test_old_values_stay_readable_after_rotation(self, tmp_path: Path) -> None:
        """Encrypt with key A, rotate to B: new values name B, and a keyring with both opens all of them."""
        a, b = key_file(tmp_path, "a", 32), key_file(tmp_path, "b", 32)
        before = make(tmp_path, ["m"], keys=[("a", a)])
        after = make(tmp_path, ["m"], keys=[("a", a), ("b", b)], active="b")
        [old] = run(before, [{"m": "old"}])
        [new] = run(after, [{"m": "new"}])
        assert old["m"].startswith("enc:v1:a:") and new["m"].startswith("enc:v1:b:")
        both = ring_of(after)
        assert open_value(both, "m", old["m"]) == "old" and open_value(both, "m", new["m"]) == "new"
        with pytest.raises(UnknownKeyError, match="'b'"):
            open_value(ring_of(before), "m", new["m"])

    def test_default_active_key_is_the_first(self, tmp_path: Path) -> None:
        """Without active_key, values are encrypted with the first listed key."""
        keys = [("first", key_file(tmp_path, "f", 32)), ("second", key_file(tmp_path, "s", 32))]
        t = make(tmp_path, ["m"], keys=keys)
        [out] = run(t, [{"m": "x"}])
        assert out["m"].startswith("enc:v1:first:")


def pipeline(tmp_path: Path, key: str, mode: str = "gcm", extra: str = "") -> Path:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"data_dir: {tmp_path / 'data'}\n"
        "api: {enabled: false}\n"
        "sources:\n  in: {type: stdin}\n"
        "transforms:\n"
        "  enc:\n"
        "    type: encrypt\n"
        "    inputs: [in]\n"
        "    fields: [message]\n"
        f"    mode: {mode}\n"
        f"    keys: [{{id: k1, {key}}}]\n{extra}"
        "outputs:\n"
        f"  out: {{type: file, inputs: [enc], path: {tmp_path / 'out.ndjson'}}}\n"
    )
    return cfg


class TestConfig:
    def test_pure_errors_are_config_errors(self, tmp_path: Path) -> None:
        """Bad paths, duplicate or reserved fields, no keys, unknown active_key and an unknown mode fail at load."""
        cases = {
            "fields: [a..b]\n    keys: [{id: k, env: X}]": "invalid field path",
            "fields: [a, a]\n    keys: [{id: k, env: X}]": "listed more than once",
            "fields: [event.id]\n    keys: [{id: k, env: X}]": "event.id cannot be encrypted",
            "fields: [a]\n    keys: []": "keys",
            "fields: []\n    keys: [{id: k, env: X}]": "fields",
            "fields: [a]\n    keys: [{id: k, env: X}]\n    active_key: z": "active_key 'z' is not one of",
            "fields: [a]\n    keys: [{id: k, env: X}]\n    mode: ecb": "mode",
            "fields: [a]\n    keys: [{id: k, env: X, file: /y}]": "exactly one of",
        }
        for body, needle in cases.items():
            text = ("sources:\n  in: {type: stdin}\ntransforms:\n  enc:\n    type: encrypt\n    inputs: [in]\n"
                    f"    {body}\noutputs:\n  o: {{type: console, inputs: [enc]}}\n")
            with pytest.raises(ConfigError, match=needle):
                load_config_text(text, "c.yaml", env={})

    def test_missing_key_is_a_build_error(self, tmp_path: Path) -> None:
        """A missing key file, a short key and an unset variable fail at build with the key id named."""
        cfg = decode(EncryptConfig, {"type": "encrypt", "fields": ["m"],
                                     "keys": [{"id": "k9", "file": "/nonexistent/k"}]})
        with pytest.raises(BuildError, match="key 'k9' \\(file /nonexistent/k\\): the key file does not exist"):
            build(cfg)
        short = key_file(tmp_path, "short", 16)
        cfg = decode(EncryptConfig, {"type": "encrypt", "fields": ["m"], "keys": [{"id": "k9", "file": str(short)}]})
        with pytest.raises(BuildError, match="expected a key of 32 bytes"):
            build(cfg)
        cfg = decode(EncryptConfig, {"type": "encrypt", "fields": ["m"], "mode": "siv",
                                     "keys": [{"id": "k9", "env": "LOGFERRY_TEST_UNSET_KEY_VAR"}]})
        with pytest.raises(BuildError, match="LOGFERRY_TEST_UNSET_KEY_VAR\\): the variable is not set"):
            build(cfg)

    def test_cli_validate_and_run_with_missing_key_file(self, tmp_path: Path) -> None:
        """`validate --no-health` accepts the config; `validate` and `run --once` exit 78 naming the key file."""
        missing = tmp_path / "gone.key"
        cfg = pipeline(tmp_path, f"file: {missing}")
        r = logferry("validate", "--no-health", "-c", str(cfg))
        assert r.returncode == 0, r.stderr
        r = logferry("validate", "-c", str(cfg))
        assert r.returncode == 78
        assert f"transforms.enc: key 'k1' (file {missing}): the key file does not exist" in r.stderr
        r = logferry("run", "--once", "-c", str(cfg), input="hello\n")
        assert r.returncode == 78
        assert f"key 'k1' (file {missing}): the key file does not exist" in r.stderr
        assert not (tmp_path / "out.ndjson").exists()

    def test_cli_run_with_key_from_environment(self, tmp_path: Path) -> None:
        """`run --once` with a SIV key in an environment variable encrypts every line; unset, it exits 78."""
        cfg = pipeline(tmp_path, "env: LOGFERRY_TEST_ENC_KEY", mode="siv")
        r = logferry("run", "--once", "-c", str(cfg), input="hello\n")
        assert r.returncode == 78 and "LOGFERRY_TEST_ENC_KEY" in r.stderr
        material = os.urandom(64)
        r = logferry("run", "--once", "-c", str(cfg), input="hello\nhello\n",
                     env={"LOGFERRY_TEST_ENC_KEY": base64.b64encode(material).decode()})
        assert r.returncode == 0, r.stderr
        lines = [json.loads(x) for x in (tmp_path / "out.ndjson").read_text().splitlines()]
        assert len(lines) == 2 and lines[0]["message"] == lines[1]["message"]
        assert open_value(Keyring([Key("k1", material)]), "message", lines[0]["message"]) == "hello"


class TestKeySpecInConfig:
    def test_spec_struct(self) -> None:
        """Key specs decode from the config as id plus file or env."""
        cfg = decode(EncryptConfig, {"type": "encrypt", "fields": ["m"], "keys": [{"id": "a", "env": "A"}]})
        assert cfg.keys == [KeySpec(id="a", env="A")] and cfg.mode == "gcm" and cfg.active_key is None
