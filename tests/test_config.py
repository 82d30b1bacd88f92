"""Settings: defaults, validation and the generated secret key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from warroom.config import Settings, load_settings


def test_the_default_database_is_sqlite_in_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'warroom.db'}"


def test_postgres_urls_are_normalised_to_psycopg3() -> None:
    settings = Settings(database_url="postgres://u@h/db")
    assert settings.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("secret", ["changeme", "secret", "short-but-not-placeholder"])
def test_placeholder_and_short_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="secret_key"):
        Settings(secret_key=secret)


def test_a_missing_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path).secret_key
    second = load_settings(data_dir=tmp_path).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="colour"):
        Settings(colour="red")  # type: ignore[call-arg]


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WARROOM_PORT", "9123")
    monkeypatch.setenv("WARROOM_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.port == 9123 and settings.data_dir == tmp_path


def test_settings_come_from_warroom_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "warroom.toml").write_text("port = 9999\nmax_body_bytes = 4096\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.port == 9999 and settings.max_body_bytes == 4096
