"""Fixtures shared by every test tier."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_dir() -> Path:
    configured = os.environ.get("WARROOM_SHARED_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ../shared folder with the real data sets; skip where it is absent."""
    path = _shared_dir()
    if not (path / "data").is_dir():
        pytest.skip(f"real data sets not available: {path / 'data'} does not exist")
    return path
