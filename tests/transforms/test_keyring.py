"""Keys for encrypt/decrypt: the accepted file and variable formats, clear errors, keyring files, rotation."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from logferry.agent.errors import BuildError
from logferry.transforms.keyring import (
    Key,
    Keyring,
    KeySpec,
    check_key_specs,
    decode_key_material,
    load_keyring,
    read_key,
    read_keyring_file,
)


def write_key(path: Path, material: bytes, form: str = "base64") -> Path:
    """Write a test key (random bytes made in the test) in one of the accepted forms."""
    if form == "base64":
        path.write_text(base64.b64encode(material).decode() + "\n")
    elif form == "urlsafe":
        path.write_text(base64.urlsafe_b64encode(material).decode().rstrip("="))
    elif form == "hex":
        path.write_text(material.hex() + "\n")
    else:
        path.write_bytes(material)
    return path


class TestKeySpec:
    def test_exactly_one_source(self) -> None:
        """A key with both `file` and `env`, or neither, is rejected naming the key id."""
        with pytest.raises(ValueError, match="'k1'.*exactly one of `file` and `env`"):
            KeySpec(id="k1", file="/x", env="X")
        with pytest.raises(ValueError, match="'k1'.*exactly one"):
            KeySpec(id="k1")

    def test_key_id_charset(self) -> None:
        """A key id with a colon (the value separator) or nothing in it is rejected."""
        with pytest.raises(ValueError, match="key id 'a:b'"):
            KeySpec(id="a:b", file="/x")
        with pytest.raises(ValueError, match="key id ''"):
            KeySpec(id="", file="/x")
        assert KeySpec(id="orders-2024.q1_b", env="K").id == "orders-2024.q1_b"

    def test_duplicate_ids_and_unknown_active_key(self) -> None:
        """Duplicate ids and an `active_key` that is not listed are pure config errors."""
        specs = [KeySpec(id="a", file="/x"), KeySpec(id="a", env="Y")]
        with pytest.raises(ValueError, match="duplicate key id 'a'"):
            check_key_specs(specs, None)
        with pytest.raises(ValueError, match="active_key 'b' is not one of the listed keys"):
            check_key_specs(specs[:1], "b")


class TestKeyMaterial:
    @pytest.mark.parametrize("form", ["base64", "urlsafe", "hex", "raw"])
    @pytest.mark.parametrize("length", [32, 64])
    def test_every_form_decodes_to_the_same_key(self, tmp_path: Path, form: str, length: int) -> None:
        """Base64 (both alphabets), hex and raw files of a 32- or 64-byte key all read as that key."""
        material = os.urandom(length)
        path = write_key(tmp_path / "k", material, form)
        assert read_key(KeySpec(id="k", file=str(path)), [length]) == material

    def test_environment_variable(self) -> None:
        """A key in an environment variable is read as base64 or hex text."""
        material = os.urandom(32)
        spec = KeySpec(id="k", env="LOGFERRY_TEST_KEY")
        assert read_key(spec, [32], env={"LOGFERRY_TEST_KEY": base64.b64encode(material).decode()}) == material
        assert read_key(spec, [32], env={"LOGFERRY_TEST_KEY": material.hex()}) == material

    def test_ambiguous_lengths_do_not_exist(self) -> None:
        """Hex of a 32-byte key is not mistaken for base64 of a 48-byte one, nor raw text for a key."""
        material = os.urandom(32)
        assert decode_key_material(material.hex().encode(), [32, 64]) == material
        assert decode_key_material(b"too-short", [32, 64]) is None

    def test_missing_file_names_id_and_path(self, tmp_path: Path) -> None:
        """A missing key file is a BuildError naming the key id and the file."""
        path = tmp_path / "nope.key"
        with pytest.raises(BuildError, match=f"key 'orders' \\(file {path}\\): the key file does not exist"):
            read_key(KeySpec(id="orders", file=str(path)), [32])

    def test_wrong_length_does_not_show_the_key(self, tmp_path: Path) -> None:
        """A key of the wrong length is a BuildError stating the expected size, without the key text."""
        text = base64.b64encode(os.urandom(16)).decode()
        path = tmp_path / "short.key"
        path.write_text(text)
        with pytest.raises(BuildError, match="expected a key of 32 bytes") as info:
            read_key(KeySpec(id="short", file=str(path)), [32])
        assert text not in str(info.value)
        assert "'short'" in str(info.value)

    def test_unset_and_empty_variable(self) -> None:
        """An unset variable and an empty one are BuildErrors naming the variable."""
        spec = KeySpec(id="k", env="LOGFERRY_TEST_UNSET_KEY")
        with pytest.raises(BuildError, match=r"variable LOGFERRY_TEST_UNSET_KEY\): the variable is not set"):
            read_key(spec, [32], env={})
        with pytest.raises(BuildError, match="the key is empty"):
            read_key(spec, [32], env={"LOGFERRY_TEST_UNSET_KEY": "  "})

    def test_raw_bytes_not_accepted_from_environment(self) -> None:
        """An environment variable holding 32 raw characters is not taken as a key (only base64/hex)."""
        spec = KeySpec(id="k", env="K")
        with pytest.raises(BuildError, match="as base64 or hex text$"):
            read_key(spec, [32], env={"K": "x" * 32})

    def test_large_file_is_refused(self, tmp_path: Path) -> None:
        """A file far larger than any key (the wrong file) is refused without reading it all."""
        path = tmp_path / "big"
        path.write_bytes(b"a" * 100_000)
        with pytest.raises(BuildError, match="is it a key file"):
            read_key(KeySpec(id="k", file=str(path)), [32])


class TestKeyring:
    def test_mode_follows_key_length(self) -> None:
        """A 32-byte key is a GCM key, a 64-byte key a SIV key; other lengths are refused."""
        assert Key("a", os.urandom(32)).mode == "gcm"
        assert Key("b", os.urandom(64)).mode == "siv"
        with pytest.raises(ValueError, match="neither"):
            Key("c", os.urandom(48))

    def test_mode_constrains_length(self, tmp_path: Path) -> None:
        """With mode siv a 32-byte key file is a BuildError asking for 64 bytes."""
        path = write_key(tmp_path / "k", os.urandom(32))
        with pytest.raises(BuildError, match="expected a key of 64 bytes"):
            load_keyring([KeySpec(id="k", file=str(path))], "k", "siv")

    def test_seal_open_round_trip_and_aad(self) -> None:
        """A sealed blob opens with the same associated data only."""
        from cryptography.exceptions import InvalidTag

        for n in (32, 64):
            key = Key("k", os.urandom(n))
            blob = key.seal(b"secret", b"field-a")
            assert key.open(blob, b"field-a") == b"secret"
            with pytest.raises(InvalidTag):
                key.open(blob, b"field-b")

    def test_batch_sealer_nonces_are_fresh_past_the_count(self) -> None:
        """A GCM sealer for 3 values used 6 times gives 6 distinct nonces, and every blob opens."""
        key = Key("k", os.urandom(32))
        seal = key.sealer(3)
        blobs = [seal(b"same", b"f") for _ in range(6)]
        assert len({b[: Key.NONCE_BYTES] for b in blobs}) == 6
        assert all(key.open(b, b"f") == b"same" for b in blobs)

    def test_merge_refuses_same_id_with_other_material(self) -> None:
        """Merging two keyrings that disagree about one id is an error; the same key twice is fine."""
        material = os.urandom(32)
        ring = Keyring([Key("a", material)])
        ring.merge(Keyring([Key("a", material), Key("b", os.urandom(64))]))
        assert sorted(ring.keys) == ["a", "b"]
        with pytest.raises(BuildError, match="'a' is listed twice"):
            ring.merge(Keyring([Key("a", os.urandom(32))]))

    def test_keyring_file_yaml_and_json_relative_paths(self, tmp_path: Path) -> None:
        """A keyring file (YAML or JSON) resolves relative key paths against its own folder."""
        (tmp_path / "keys").mkdir()
        a, b = os.urandom(32), os.urandom(64)
        write_key(tmp_path / "keys" / "a.key", a)
        write_key(tmp_path / "keys" / "b.key", b, "hex")
        yml = tmp_path / "ring.yaml"
        yml.write_text("keys:\n  - {id: a, file: keys/a.key}\n  - {id: b, file: keys/b.key}\n")
        ring = read_keyring_file(yml)
        assert {k: v.mode for k, v in ring.keys.items()} == {"a": "gcm", "b": "siv"}
        js = tmp_path / "ring.json"
        js.write_text(json.dumps({"keys": [{"id": "a", "file": "keys/a.key"}]}))
        assert list(read_keyring_file(js).keys) == ["a"]

    def test_bad_keyring_file(self, tmp_path: Path) -> None:
        """A keyring file of the wrong shape or unreadable is a BuildError naming the file."""
        bad = tmp_path / "ring.yaml"
        bad.write_text("keys: [{id: a}]\n")
        with pytest.raises(BuildError, match=f"{bad}: not a keyring file"):
            read_keyring_file(bad)
        with pytest.raises(BuildError, match="cannot read the keyring file"):
            read_keyring_file(tmp_path / "missing.yaml")


class TestKeyFilePermissions:
    def test_group_readable_key_file_warns(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        """A key file others can read is still used, with a warning naming the key (a 0600 file gives none)."""
        path = write_key(tmp_path / "k", os.urandom(32))
        path.chmod(0o640)
        with caplog.at_level("WARNING", logger="logferry.transforms.keyring"):
            read_key(KeySpec(id="loose", file=str(path)), [32])
        assert [r.key_id for r in caplog.records] == ["loose"]  # type: ignore[attr-defined]
        caplog.clear()
        path.chmod(0o600)
        with caplog.at_level("WARNING", logger="logferry.transforms.keyring"):
            read_key(KeySpec(id="tight", file=str(path)), [32])
        assert caplog.records == []
