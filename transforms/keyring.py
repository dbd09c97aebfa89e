"""Encryption keys for the ``encrypt`` transform and ``logferry decrypt``: where they live, their ids, rotation.

A key is named by an **id** (``[A-Za-z0-9_.-]``, at most 64 characters) that
is written into every value it encrypts, so a keyring may hold several keys
and decrypt whatever any of them produced. Rotating means: add a new key,
make it ``active_key`` (new values use it), keep the old ones listed for as
long as data encrypted with them must stay readable.

Key material comes from a file or an environment variable and is accepted as

* base64 text (standard or URL-safe alphabet, padding optional), e.g.
  ``head -c 32 /dev/urandom | base64 > orders.key``;
* hex text (``openssl rand -hex 32 > orders.key``);
* raw bytes (files only: ``head -c 32 /dev/urandom > orders.key``).

Surrounding whitespace is ignored. The decoded key must be 32 bytes for
AES-256-GCM (``mode: gcm``) or 64 bytes for AES-SIV-512 (``mode: siv``,
AES-256 strength: SIV splits the key into a MAC half and a CTR half). The
three encodings of a 32- or 64-byte key have different lengths, so a file is
never ambiguous. The length also tells ``logferry decrypt`` which algorithm a
key belongs to, so a keyring file needs no mode.

Key bytes never appear in messages; errors name the key id and its file or
variable. A key file readable by group or others is used, with a warning.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from msgspec import Meta

from logferry.agent.config.common import Strict
from logferry.agent.errors import BuildError
from logferry.agent.keymaterial import decode_key_material

log = logging.getLogger(__name__)
Mode = Literal["gcm", "siv"]
KEY_BYTES: dict[str, int] = {"gcm": 32, "siv": 64}
MODE_OF_LENGTH: dict[int, str] = {n: m for m, n in KEY_BYTES.items()}
KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_MAX_KEY_FILE_BYTES = 4096  # a key file is tiny; anything bigger is the wrong file


class KeySpec(Strict):
    """Where one key's material is: exactly one of ``file`` and ``env``."""

    id: Annotated[str, Meta(description="Key id written into every value encrypted with it ([A-Za-z0-9_.-], <= 64).")]
    file: Annotated[str, Meta(description="File holding the key: base64 or hex text, or raw bytes.")] | None = None
    env: Annotated[str, Meta(description="Environment variable holding the key as base64 or hex text.")] | None = None

    def __post_init__(self) -> None:
        if not KEY_ID.fullmatch(self.id):
            raise ValueError(f"key id {self.id!r}: use 1 to 64 of the characters A-Z a-z 0-9 _ . -")
        if (self.file is None) == (self.env is None):
            raise ValueError(f"key {self.id!r}: set exactly one of `file` and `env`")
        if self.file is not None and not self.file:
            raise ValueError(f"key {self.id!r}: `file` is empty")
        if self.env is not None and not self.env:
            raise ValueError(f"key {self.id!r}: `env` is empty")

    def source(self) -> str:
        """Where the key comes from, for messages."""
        return f"file {self.file}" if self.file is not None else f"environment variable {self.env}"


def check_key_specs(keys: list[KeySpec], active_key: str | None) -> None:
    """The pure checks on a list of keys: unique ids, ``active_key`` among them."""
    ids = [k.id for k in keys]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"keys: duplicate key id {', '.join(map(repr, dupes))}")
    if active_key is not None and active_key not in ids:
        raise ValueError(f"active_key {active_key!r} is not one of the listed keys ({', '.join(ids)})")


def read_key(spec: KeySpec, lengths: Iterable[int], *, base_dir: Path | None = None,
             env: Mapping[str, str] | None = None) -> bytes:
    """Read and decode one key; ``BuildError`` naming the id and the file or variable on any problem."""
    wanted = sorted(set(lengths))
    what = f"key {spec.id!r} ({spec.source()})"
    if spec.file is not None:
        path = Path(spec.file).expanduser()
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        try:
            with open(path, "rb") as f:
                data = f.read(_MAX_KEY_FILE_BYTES + 1)
                if os.fstat(f.fileno()).st_mode & 0o077:
                    log.warning("Key file is readable by other users; chmod 600 it.",
                                extra={"key_id": spec.id, "file": str(path)})
        except FileNotFoundError:
            raise BuildError(f"{what}: the key file does not exist") from None
        except OSError as exc:
            raise BuildError(f"{what}: cannot read the key file: {exc.strerror or exc}") from None
        if len(data) > _MAX_KEY_FILE_BYTES:
            raise BuildError(f"{what}: the file is larger than {_MAX_KEY_FILE_BYTES} bytes; is it a key file?")
        allow_raw = True
    else:
        assert spec.env is not None
        value = (os.environ if env is None else env).get(spec.env)
        if value is None:
            raise BuildError(f"{what}: the variable is not set")
        data = value.encode("utf-8", "surrogateescape")
        allow_raw = False
    if not data.strip():
        raise BuildError(f"{what}: the key is empty")
    key = decode_key_material(data, wanted, allow_raw=allow_raw)
    if key is None:
        sizes = " or ".join(f"{n} bytes" for n in wanted)
        forms = "base64 or hex text, or raw bytes" if allow_raw else "base64 or hex text"
        raise BuildError(f"{what}: expected a key of {sizes} as {forms}")
    return key


class Key:
    """One key with its cipher, built once: ``seal``/``open`` are a single library call each."""

    __slots__ = ("_gcm", "_siv", "id", "mode")

    NONCE_BYTES = 12

    def __init__(self, key_id: str, material: bytes) -> None:
        mode = MODE_OF_LENGTH.get(len(material))
        if mode is None:
            raise ValueError(f"key {key_id!r}: {len(material)} bytes is neither a GCM (32) nor a SIV (64) key")
        self.id = key_id
        self.mode = mode
        self._gcm = AESGCM(material) if mode == "gcm" else None
        self._siv = AESSIV(material) if mode == "siv" else None

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """GCM: ``nonce || ciphertext || tag`` with a random nonce; SIV: ``tag || ciphertext``, deterministic."""
        if self._gcm is not None:
            nonce = os.urandom(self.NONCE_BYTES)
            return nonce + self._gcm.encrypt(nonce, plaintext, aad)
        assert self._siv is not None
        return self._siv.encrypt(plaintext, [aad])

    def sealer(self, count: int) -> Callable[[bytes, bytes], bytes]:
        """``seal`` for up to ``count`` values in a row: GCM draws all their nonces in one system call
        (``os.urandom`` per value costs as much as the encryption itself)."""
        if self._siv is not None:
            siv = self._siv.encrypt
            return lambda data, aad: siv(data, [aad])
        assert self._gcm is not None
        gcm, n = self._gcm.encrypt, self.NONCE_BYTES
        pool = os.urandom(n * count)
        pos = 0

        def seal(data: bytes, aad: bytes) -> bytes:
            nonlocal pos
            if pos + n <= len(pool):
                nonce = pool[pos:pos + n]
                pos += n
            else:  # more values than announced: still a fresh random nonce each
                nonce = os.urandom(n)
            return nonce + gcm(nonce, data, aad)

        return seal

    def open(self, blob: bytes, aad: bytes) -> bytes:
        """The plaintext; ``cryptography.exceptions.InvalidTag`` if anything was changed."""
        if self._gcm is not None:
            n = self.NONCE_BYTES
            return self._gcm.decrypt(blob[:n], blob[n:], aad)
        assert self._siv is not None
        return self._siv.decrypt(blob, [aad])


class Keyring:
    """Keys by id and the one new values are encrypted with."""

    def __init__(self, keys: Iterable[Key], active: str | None = None) -> None:
        self.keys: dict[str, Key] = {}
        for k in keys:
            self.keys[k.id] = k
        self.active_id = active

    @property
    def active(self) -> Key:
        if self.active_id is None:
            raise LookupError("the keyring has no active key")
        return self.keys[self.active_id]

    def get(self, key_id: str) -> Key | None:
        return self.keys.get(key_id)

    def __len__(self) -> int:
        return len(self.keys)

    def merge(self, other: Keyring) -> None:
        """Add ``other``'s keys; the same id with different material is a ``BuildError``."""
        for kid, key in other.keys.items():
            mine = self.keys.get(kid)
            if mine is not None and (mine.mode != key.mode or not _same_key(mine, key)):
                raise BuildError(f"key {kid!r} is listed twice with different key material")
            self.keys[kid] = key


def _same_key(a: Key, b: Key) -> bool:
    """Whether two keys encrypt alike (SIV is deterministic: compare a probe; GCM: open the other's probe)."""
    probe = a.seal(b"logferry-key-probe", b"")
    try:
        b.open(probe, b"")
    except InvalidTag:
        return False
    return True


def load_keyring(specs: Iterable[KeySpec], active: str | None = None, mode: str | None = None, *,
                 base_dir: Path | None = None, env: Mapping[str, str] | None = None) -> Keyring:
    """Read every key; with ``mode`` every key must be of that mode's length."""
    lengths = [KEY_BYTES[mode]] if mode is not None else list(KEY_BYTES.values())
    keys = [Key(s.id, read_key(s, lengths, base_dir=base_dir, env=env)) for s in specs]
    return Keyring(keys, active)


class KeyringFile(Strict):
    """A keyring file for ``logferry decrypt``: ``{keys: [{id, file | env}]}``, YAML or JSON."""

    keys: Annotated[list[KeySpec], Meta(min_length=1)]

    def __post_init__(self) -> None:
        check_key_specs(self.keys, None)


def read_keyring_file(path: Path, env: Mapping[str, str] | None = None) -> Keyring:
    """Load a keyring file; relative key file paths are resolved against the keyring file's folder."""
    try:
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise BuildError(f"{path}: cannot read the keyring file: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise BuildError(f"{path}: not a YAML or JSON keyring file: {exc}") from None
    try:
        spec = msgspec.convert(doc, KeyringFile)
    except msgspec.ValidationError as exc:
        raise BuildError(f"{path}: not a keyring file ({{keys: [{{id, file | env}}]}}): {exc}") from None
    return load_keyring(spec.keys, base_dir=path.parent, env=env)
