"""Argon2id password hashing and token digests.

Passwords use a slow memory-hard hash; API and session tokens are 256-bit random secrets, for
which a fast SHA-256 is enough (there is nothing to guess) and lookups stay indexed.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's Password Storage Cheat Sheet configuration for Argon2id (19 MiB, 2 passes, 1 lane):
# strong against offline guessing while keeping a login near 0.1 s on a small server.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


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
