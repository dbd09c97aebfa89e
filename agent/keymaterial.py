"""Decoding key material given as hex, base64 (standard or URL-safe) or raw bytes.

Shared by the `encrypt` transform's keyring and the disk buffer's at-rest
encryption, so an operator writes a key file the same way for both.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable


def decode_key_material(data: bytes, lengths: Iterable[int], *, allow_raw: bool = True) -> bytes | None:
    """The key in ``data`` (hex, base64 or raw) if it decodes to one of ``lengths``; else ``None``."""
    wanted = set(lengths)
    text = data.strip()
    if text and text.isascii():
        try:
            key = bytes.fromhex(text.decode("ascii"))
            if len(key) in wanted:
                return key
        except ValueError:
            pass
        compact = re.sub(rb"\s+", b"", text).rstrip(b"=")
        padded = compact + b"=" * (-len(compact) % 4)
        for alphabet in (b"+/", b"-_"):
            try:
                key = base64.b64decode(padded, altchars=alphabet, validate=True)
            except (binascii.Error, ValueError):
                continue
            if len(key) in wanted:
                return key
    if allow_raw and len(data) in wanted:
        return data
    return None
