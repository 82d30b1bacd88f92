"""The landing page after login: where each product area lives."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from warroom.http.deps import current_actor
from warroom.http.templating import render

router = APIRouter()


@router.get("/", dependencies=[Depends(current_actor)])
def home(request: Request) -> Response:
    return render(request, "home.html", {"title": "Warroom"})
