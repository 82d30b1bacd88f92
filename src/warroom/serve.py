"""The ASGI factory uvicorn imports in each worker process (`warroom.serve:build`)."""

from __future__ import annotations

from fastapi import FastAPI

from warroom.app import create_app
from warroom.config import load_settings


def build() -> FastAPI:
    """Build the app from the environment and warroom.toml; one call per worker."""
    return create_app(load_settings())
