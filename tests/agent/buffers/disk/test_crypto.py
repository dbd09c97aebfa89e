"""Buffer keys from files and variables, and AES-256-GCM records bound to their segment."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from logferry.agent.buffers.disk.crypto import BufferKeyring, DecryptError, read_key
from logferry.agent.config.common import BufferKeyConfig
from logferry.agent.errors import BuildError

KEY = bytes(range(32))


class TestKeys:
    @pytest.mark.parametrize("content", [KEY, KEY.hex().encode(), base64.b64encode(KEY) + b"\n"],
                             ids=["raw", "hex", "base64"])
    def test_key_file_encodings(self, tmp_path: Path, content: bytes) -> None:
        """A key file may hold raw bytes, hex or base64 text."""
        (tmp_path / "k").write_bytes(content)
        assert read_key(BufferKeyConfig(key_id="a", key_file=str(tmp_path / "k"))) == KEY

    def test_missing_variable_names_key_and_variable(self) -> None:
        """An unset key variable is a BuildError naming the key id and the variable, never the key."""
        with pytest.raises(BuildError, match=r"buffer key 'a' \(environment variable NOPE_X\): the variable is not set"):
            read_key(BufferKeyConfig(key_id="a", key_env="NOPE_X"), env={})

    def test_wrong_length_is_refused(self) -> None:
        """A 16-byte key is refused: the buffer uses AES-256."""
        with pytest.raises(BuildError, match="expected a 32-byte key"):
            read_key(BufferKeyConfig(key_id="a", key_env="K"), env={"K": bytes(16).hex()})


class TestKeyring:
    def test_seal_open_round_trip_and_binding(self) -> None:
        """A sealed record opens in its own segment only, and a changed byte is detected."""
        ring = BufferKeyring({"a": KEY}, "a")
        blob = ring.seal(5, "a", b"payload")
        assert b"payload" not in blob
        assert ring.open(5, "a", blob) == b"payload"
        with pytest.raises(DecryptError):
            ring.open(6, "a", blob)
        with pytest.raises(DecryptError):
            ring.open(5, "a", blob[:-1] + bytes([blob[-1] ^ 1]))
