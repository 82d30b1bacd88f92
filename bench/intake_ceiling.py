"""The ceiling for bench/intake.py: a bare FastAPI endpoint that only parses the JSON."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/api/v1/intake/alertmanager")
async def ingest(request: Request) -> dict[str, Any]:
    document = json.loads(await request.body())
    return {"status": "success", "alerts": len(document.get("alerts", []))}


@app.get("/api/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
