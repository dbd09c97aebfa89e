"""``encrypt`` transform: encrypt chosen fields with AES-256-GCM or AES-SIV, keyed by id, with rotation.

```yaml
transforms:
  protect:
    type: encrypt
    inputs: [structure]
    fields: [user.name, user.email, http.request.body]
    mode: siv                      # or gcm (default)
    keys:
      - {id: pii-2025, file: /etc/logferry/keys/pii-2025.key}   # head -c 64 /dev/urandom | base64
      - {id: pii-2024, env: LOGFERRY_PII_2024_KEY}              # old key, kept listed for decrypting
    active_key: pii-2025
```

Each listed field that is present is replaced by a string

    enc:v1:<key-id>:<type>:<base64url, no padding>

* ``<type>`` is ``s`` when the value was a string (its UTF-8 bytes are
  encrypted) and ``j`` for anything else (its JSON is encrypted), so
  ``logferry decrypt`` gives back the very value: ``42`` stays an int, a
  dict a dict.
* ``mode: gcm`` (default): AES-256-GCM, 12-byte random nonce; the payload is
  ``nonce || ciphertext || tag``. Equal values give different ciphertexts.
* ``mode: siv``: AES-SIV with a 64-byte key (RFC 5297, AES-256 strength);
  the payload is ``tag || ciphertext``. Deterministic: equal values under the
  same key (and field) give equal ciphertexts, so an exact-match search for an
  encrypted value still works, at the cost of revealing which values are equal.

The associated data binds the header (version, key id, type) and the field
path: a ciphertext copied to another field, or given another key id or type,
fails to decrypt rather than decrypting to something else. So encrypt AFTER
any transform that renames the fields. The path is the dotted name, the same
for ``{"user.name": ...}`` and ``{"user": {"name": ...}}``, so the file output's
``nested: true`` does not break decryption.

``@timestamp`` and ``event.id`` cannot be listed: outputs partition, name
and de-duplicate by them. A missing field is left alone. A value that
already is a well-formed ``enc:v1:`` value is left alone too (events passing
the transform twice, re-processed archives).
A value that cannot be JSON-encoded is removed and the event tagged
``_encrypt_failure``: plaintext must never pass through by accident.

Keys (``keys``, ``active_key``) are described in ``keyring.py``; they are read
when the pipeline is built, so a missing or malformed key stops the agent at
start (exit 78), never later.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any

import msgspec
from cryptography.exceptions import InvalidTag
from msgspec import Meta

from logferry.agent.component import BuildContext, Transform
from logferry.agent.config.common import TransformConfig
from logferry.agent.event import Batch, add_tags
from logferry.transforms.fields import MISSING, FieldPath
from logferry.transforms.keyring import Keyring, KeySpec, Mode, check_key_specs, load_keyring

PREFIX = "enc:v1:"
TYPE_STRING = "s"
TYPE_JSON = "j"
TAG_ENCRYPT_FAILURE = "_encrypt_failure"
ENCRYPTED_VALUE = re.compile(r"enc:v1:([A-Za-z0-9_.-]{1,64}):([sj]):([A-Za-z0-9_-]+)")

# Outputs name, partition and de-duplicate by these; a random ciphertext there would break replays.
_RESERVED_FIELDS = frozenset({"@timestamp", "event.id"})
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder().decode


class EncryptConfig(TransformConfig):
    fields: Annotated[list[str], Meta(min_length=1, description=(
        "Dotted paths of the fields to encrypt (flat `user.name` keys or nested objects alike)."))]
    keys: Annotated[list[KeySpec], Meta(min_length=1, description=(
        "Keys by id, each from a `file` or an `env` variable (base64 or hex text; files may be raw bytes). "
        "32 bytes for gcm, 64 bytes for siv."))]
    mode: Annotated[Mode, Meta(description=(
        "`gcm`: AES-256-GCM, random nonce. `siv`: AES-SIV, deterministic, so exact-match search works."))] = "gcm"
    active_key: Annotated[str, Meta(description="Id of the key new values are encrypted with (default: the first).")
                          ] | None = None

    def __post_init__(self) -> None:
        for f in self.fields:
            FieldPath(f)
        reserved = sorted(set(self.fields) & _RESERVED_FIELDS)
        if reserved:
            raise ValueError(f"fields: {', '.join(reserved)} cannot be encrypted: outputs need it in clear "
                             "(time partitions, replay-safe names and de-duplication)")
        dupes = sorted({f for f in self.fields if self.fields.count(f) > 1})
        if dupes:
            raise ValueError(f"fields: {', '.join(map(repr, dupes))} listed more than once")
        check_key_specs(self.keys, self.active_key)

    def build(self, ctx: BuildContext) -> Transform:
        keyring = load_keyring(self.keys, self.active_key or self.keys[0].id, self.mode)
        return Encrypt(self, keyring)


def associated_data(key_id: str, value_type: str, path: str) -> bytes:
    """What the tag authenticates besides the plaintext: the value's header and its field."""
    return f"{PREFIX}{key_id}:{value_type}:\x00{path}".encode("utf-8", "surrogatepass")


class DecryptError(Exception):
    """A value that could not be decrypted."""


class UnknownKeyError(DecryptError):
    def __init__(self, key_id: str) -> None:
        super().__init__(f"no key with id {key_id!r}")
        self.key_id = key_id


class TamperedValueError(DecryptError):
    """The tag did not verify: the value was changed, moved to another field, or the key is wrong."""


def is_encrypted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX) and ENCRYPTED_VALUE.fullmatch(value) is not None


def open_value(keyring: Keyring, path: str, text: str) -> Any:
    """The original value of an ``enc:v1:`` string found at field ``path``."""
    m = ENCRYPTED_VALUE.fullmatch(text)
    if m is None:
        raise TamperedValueError("not an enc:v1 value")
    key_id, t, payload = m.groups()
    key = keyring.get(key_id)
    if key is None:
        raise UnknownKeyError(key_id)
    try:
        blob = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        data = key.open(blob, associated_data(key_id, t, path))
    except (InvalidTag, binascii.Error, ValueError):
        raise TamperedValueError(
            f"authentication failed (value changed, moved from another field, or wrong key {key_id!r})") from None
    try:
        return data.decode("utf-8", "surrogatepass") if t == TYPE_STRING else _json_decode(data)
    except (UnicodeDecodeError, msgspec.DecodeError):
        raise TamperedValueError("decrypted bytes are not a valid value") from None


class Encrypt(Transform):
    def __init__(self, cfg: EncryptConfig, keyring: Keyring) -> None:
        self.cfg = cfg
        key = keyring.active
        if key.mode != cfg.mode:
            raise ValueError(f"key {key.id!r} is a {key.mode} key but mode is {cfg.mode}")
        self._key = key
        # Per field: its path and the associated data for each value type, computed once.
        self._fields = [
            (FieldPath(f), {t: associated_data(key.id, t, f) for t in (TYPE_STRING, TYPE_JSON)})
            for f in cfg.fields
        ]
        self._prefix = {t: f"{PREFIX}{key.id}:{t}:" for t in (TYPE_STRING, TYPE_JSON)}

    def process(self, batch: Batch) -> Batch | None:
        seal = self._key.sealer(len(batch) * len(self._fields))
        prefix, b64, urlsafe = self._prefix, binascii.b2a_base64, _URLSAFE
        failures = 0
        for e in batch.events:
            for fp, aad in self._fields:
                v = fp.get(e)
                if v is MISSING:
                    continue
                if type(v) is str:
                    if v.startswith(PREFIX) and ENCRYPTED_VALUE.fullmatch(v):
                        continue
                    t, data = TYPE_STRING, v.encode("utf-8", "surrogatepass")
                else:
                    try:
                        t, data = TYPE_JSON, _json_encode(v)
                    except (TypeError, msgspec.EncodeError):
                        fp.delete(e)
                        add_tags(e, (TAG_ENCRYPT_FAILURE,))
                        failures += 1
                        continue
                blob = seal(data, aad[t])
                fp.set(e, prefix[t] + b64(blob, newline=False).translate(urlsafe).rstrip(b"=").decode("ascii"))
        if failures and self.metrics is not None:
            self.metrics.error("encrypt_unencodable_value", n=failures)
        return batch
