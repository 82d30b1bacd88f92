"""Typed settings, read from `WARROOM_*` environment variables and an optional `warroom.toml`.

Nothing here runs at import: `load_settings()` builds a `Settings` when a composition root asks
for one, and `create_app(settings)` / the CLI pass it on explicitly.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "secret", "insecure", "dev", "development", "password", "xxx"}
)
MIN_SECRET_LENGTH = 32


def default_data_dir() -> Path:
    """The per-user data directory on this platform (e.g. ~/.local/share/warroom)."""
    return Path(platformdirs.user_data_dir("warroom", appauthor=False))


class Settings(BaseSettings):
    """Every setting Warroom reads. Each one is documented in docs/settings.md."""

    model_config = SettingsConfigDict(
        env_prefix="WARROOM_", extra="forbid", toml_file="warroom.toml", validate_default=True
    )

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory for the embedded database, the generated secret key and uploads.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL. Empty means the embedded SQLite file "
        "<data_dir>/warroom.db. For PostgreSQL use postgresql+psycopg://user@host/db.",
    )
    secret_key: str = Field(
        default="",
        description="Key that signs session cookies and CSRF tokens. Empty means: generate one on "
        "first run and keep it in <data_dir>/secret_key. Known placeholders are refused.",
    )
    host: str = Field(default="127.0.0.1", description="Address `warroom serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `warroom serve` binds to.")
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body accepted, in bytes; larger bodies get 413.",
    )
    max_bundle_bytes: int = Field(
        default=200_000_000,
        ge=1024,
        description="Largest log bundle uploaded to an incident, in bytes (stored in the "
        "database, analysed in the background); larger uploads get 413.",
    )
    session_lifetime_s: int = Field(
        default=12 * 3600, ge=60, description="How long a browser login stays valid, in seconds."
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark cookies Secure (only sent over HTTPS). Turn on behind TLS.",
    )
    login_max_failures_per_account: int = Field(
        default=5, ge=1, description="Failed logins per account within the window before 429."
    )
    login_max_failures_per_client: int = Field(
        default=20, ge=1, description="Failed logins per client address within the window."
    )
    login_window_s: int = Field(
        default=900, ge=1, description="Window, in seconds, over which failed logins are counted."
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="How long SQLite waits for another writer, in ms."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003 (no .env files by design)
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("secret_key")
    @classmethod
    def _refuse_placeholder_secret(cls, value: str) -> str:
        if value and (value.lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_LENGTH):
            raise ValueError(
                f"secret_key must be a random string of at least {MIN_SECRET_LENGTH} characters; "
                "leave it empty to have one generated"
            )
        return value

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'warroom.db'}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, warroom.toml and explicit overrides.

    A missing secret key is generated once and kept in the data directory, so restarts (and
    several processes sharing the directory) keep sessions valid.
    """
    settings = Settings(**overrides)
    if not settings.secret_key:
        settings.secret_key = stored_secret(
            settings.data_dir / "secret_key", lambda: secrets.token_urlsafe(48)
        )
    return settings


def stored_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret kept in `path` (mode 0600), created with `make()` on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # O_EXCL makes two processes starting together agree on one value.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
    return path.read_text().strip()
