"""At-rest encryption of disk buffer records: AES-256-GCM, one random nonce per record.

The key id is written in each segment's header, so a segment stays readable
after the active key changes as long as its key is still configured
(``previous_keys``). A sealed payload is ``nonce (12) || ciphertext || tag (16)``;
the associated data binds it to its segment (id and key id), so a record
copied into another segment does not decrypt.

Keys come from a file (base64 or hex text, or 32 raw bytes) or an
environment variable (base64 or hex text). Key bytes never appear in messages.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from logferry.agent.config.common import BufferEncryptionConfig, BufferKeyConfig
from logferry.agent.errors import BuildError
from logferry.agent.keymaterial import decode_key_material

KEY_BYTES = 32
NONCE_BYTES = 12
_MAX_KEY_FILE_BYTES = 4096


class DecryptError(Exception):
    """A record that does not decrypt with its segment's key (damaged or tampered with)."""


def read_key(spec: BufferKeyConfig, env: Mapping[str, str] | None = None) -> bytes:
    """The 32-byte key ``spec`` points at; ``BuildError`` naming the key id and its source otherwise."""
    if spec.key_file is not None:
        what = f"buffer key {spec.key_id!r} (file {spec.key_file})"
        try:
            data = Path(spec.key_file).expanduser().read_bytes()[: _MAX_KEY_FILE_BYTES + 1]
        except FileNotFoundError:
            raise BuildError(f"{what}: the key file does not exist") from None
        except OSError as exc:
            raise BuildError(f"{what}: cannot read the key file: {exc.strerror or exc}") from None
        allow_raw = True
    else:
        assert spec.key_env is not None
        what = f"buffer key {spec.key_id!r} (environment variable {spec.key_env})"
        value = (os.environ if env is None else env).get(spec.key_env)
        if value is None:
            raise BuildError(f"{what}: the variable is not set")
        data = value.encode("utf-8", "surrogateescape")
        allow_raw = False
    key = decode_key_material(data, (KEY_BYTES,), allow_raw=allow_raw)
    if key is None:
        raise BuildError(f"{what}: expected a {KEY_BYTES}-byte key as base64 or hex text"
                         + (", or raw bytes" if allow_raw else ""))
    return key


def _aad(segment_id: int, key_id: str) -> bytes:
    return segment_id.to_bytes(8, "little") + key_id.encode()


class BufferKeyring:
    """The active key (for new segments) and every older key still configured (for reading)."""

    def __init__(self, keys: dict[str, bytes], active: str) -> None:
        self.active = active
        self._ciphers = {kid: AESGCM(k) for kid, k in keys.items()}

    @classmethod
    def from_config(cls, cfg: BufferEncryptionConfig, env: Mapping[str, str] | None = None) -> BufferKeyring:
        keys = {cfg.key_id: read_key(cfg, env)}
        for spec in cfg.previous_keys:
            keys[spec.key_id] = read_key(spec, env)
        return cls(keys, cfg.key_id)

    def has(self, key_id: str) -> bool:
        return key_id in self._ciphers

    def seal(self, segment_id: int, key_id: str, payload: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._ciphers[key_id].encrypt(nonce, payload, _aad(segment_id, key_id))

    def open(self, segment_id: int, key_id: str, blob: bytes) -> bytes:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptError(f"key id {key_id!r} is not configured")
        try:
            return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(segment_id, key_id))
        except (InvalidTag, ValueError) as exc:
            raise DecryptError("record does not decrypt (damaged or tampered with)") from exc
