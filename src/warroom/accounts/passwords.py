"""Argon2id password hashing and token digests."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    # Verified against when the account does not exist, so timing does not reveal which
    # e-mail addresses have accounts.
    return _hasher.hash("not-a-real-password-but-same-cost")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str) -> str:
    """A random bearer secret with a recognisable prefix (for secret scanners)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    """SHA-256 hex digest; enough for random 256-bit secrets, which need no slow hash."""
    return hashlib.sha256(secret.encode()).hexdigest()
