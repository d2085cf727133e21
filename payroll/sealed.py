"""Field encryption for what must never sit in the database in clear: NI numbers and bank details.

``FieldCipher`` wraps ``cryptography``'s Fernet (AES-128-CBC with an HMAC-SHA256, authenticated) and MultiFernet
(key rotation). Keys come from configuration, newest first: the first key seals, every key may open, and
``rotate`` re-seals a token under the newest key, so old keys can be retired once every token is rotated.

A sealed value cannot be searched or compared, so a value that must be unique (the NI number) also gets a
``fingerprint``: an HMAC-SHA256 under a key derived (HKDF) from the encryption key. The fingerprint changes when
the newest key changes; ``fingerprints`` gives one per configured key, so a lookup still finds values
fingerprinted before a rotation.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_FINGERPRINT_INFO = b"care-wallet payroll field fingerprint v1"


class SealedFieldError(Exception):
    """A key that cannot be used, or a sealed value that none of the configured keys can open."""


class FieldCipher:
    """Seal and open text fields with the configured Fernet keys (newest first)."""

    def __init__(self, keys: Sequence[bytes | str]):
        if isinstance(keys, (bytes, str)):
            raise SealedFieldError("FieldCipher takes a list of keys, newest first, not a single key")
        if not keys:
            raise SealedFieldError("no encryption key configured: set WALLET_ENCRYPTION_KEYS to one or more "
                                   "Fernet keys, newest first, separated by commas")
        fernets: list[Fernet] = []
        raw_keys: list[bytes] = []
        for position, key in enumerate(keys, start=1):
            key_bytes = key.encode("ascii") if isinstance(key, str) else bytes(key)
            key_bytes = key_bytes.strip()
            try:
                fernets.append(Fernet(key_bytes))
                raw_keys.append(base64.urlsafe_b64decode(key_bytes))
            except (ValueError, TypeError):
                # Never echo the key itself: it is a secret even when malformed.
                raise SealedFieldError(
                    f"encryption key number {position} is not a Fernet key (32 url-safe base64-encoded bytes; "
                    f"make one with `python -c \"from cryptography.fernet import Fernet; "
                    f"print(Fernet.generate_key().decode())\"`)") from None
        self._fernet = MultiFernet(fernets)
        self._newest = fernets[0]
        self._fingerprint_keys = [_derive_fingerprint_key(raw) for raw in raw_keys]

    @property
    def key_count(self) -> int:
        return len(self._fingerprint_keys)

    def seal(self, text: str) -> str:
        """Encrypt ``text`` under the newest key; the token is ASCII, safe for a text column."""
        if not isinstance(text, str):
            raise SealedFieldError(f"only text can be sealed, not {type(text).__name__}")
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        """Decrypt a token sealed under any configured key."""
        try:
            return self._fernet.decrypt(_token_bytes(token)).decode("utf-8")
        except InvalidToken:
            raise SealedFieldError(
                "a sealed field cannot be opened with the configured encryption keys: it was sealed with a key "
                "that is not in WALLET_ENCRYPTION_KEYS (or the stored value was altered)") from None

    def rotate(self, token: str) -> str:
        """Re-seal a token under the newest key (it may have been sealed under any configured key)."""
        try:
            return self._fernet.rotate(_token_bytes(token)).decode("ascii")
        except InvalidToken:
            raise SealedFieldError(
                "a sealed field cannot be rotated: none of the configured encryption keys opens it") from None

    def sealed_with_newest(self, token: str) -> bool:
        """Whether ``token`` opens with the newest key alone: once every token does, older keys can go."""
        try:
            self._newest.decrypt(_token_bytes(token))
        except InvalidToken:
            return False
        return True

    def fingerprint(self, text: str) -> str:
        """Keyed hash (HMAC-SHA256, hex) of ``text`` under the newest key: equal texts, equal fingerprints."""
        return _hmac(self._fingerprint_keys[0], text)

    def fingerprints(self, text: str) -> list[str]:
        """The fingerprint of ``text`` under every configured key, newest first (for lookups across rotation)."""
        return [_hmac(key, text) for key in self._fingerprint_keys]

    def __repr__(self) -> str:   # never show key material
        return f"FieldCipher({self.key_count} key{'s' if self.key_count != 1 else ''})"


def _derive_fingerprint_key(raw_fernet_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_FINGERPRINT_INFO).derive(raw_fernet_key)


def _hmac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _token_bytes(token: str | bytes) -> bytes:
    if isinstance(token, bytes):
        return token
    if not isinstance(token, str):
        raise SealedFieldError(f"a sealed token is text, not {type(token).__name__}")
    try:
        return token.encode("ascii")
    except UnicodeEncodeError:
        raise SealedFieldError("a sealed field holds characters no sealed token has: it was altered") from None
