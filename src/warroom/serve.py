"""The ASGI factory uvicorn imports in each worker process (`warroom.serve:build`)."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from warroom.app import create_app
from warroom.config import load_settings

# Allocations between two young-generation collections (CPython's default is 700).
GC_YOUNG_THRESHOLD = 10_000


def build() -> FastAPI:
    """Build the app from the environment and warroom.toml; one call per worker.

    Then the garbage collector is set for a long-running server: what exists once the app is
    built (modules, routes, models, templates) lives as long as the process, so it is frozen
    out of every collection, and the young generation is collected less often. Why: a
    request allocates thousands of short-lived objects, and with CPython's defaults a batch
    of alerts paid for collections that walked the same long-lived objects again and again.
    Cyclic garbage is still collected; RSS stays flat over the intake benchmark's 100,000
    alerts (`bench/intake.py`).
    """
    app = create_app(load_settings())
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
    return app
