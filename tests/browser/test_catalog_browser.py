"""A person logs in with Chromium, opens the catalog and a service's dependency graph."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import SYSTEM, Person
from warroom.catalog import service as catalog_service
from warroom.db.uow import UnitOfWork
from warroom.demo import demo_catalog

pytestmark = pytest.mark.browser


def test_a_responder_logs_in_and_reads_a_service_dependency_graph(
    live_server: str,
    browser_page: Page,
    responder: Person,
    admin: Person,
    new_uow: Callable[[], UnitOfWork],
    tmp_path: Path,
) -> None:
    snapshot = demo_catalog()
    for team in snapshot.teams:
        team.members = []
    catalog_service.import_snapshot(new_uow(), SYSTEM, snapshot=snapshot)
    page = browser_page

    page.goto(f"{live_server}/catalog")
    expect(page).to_have_url(f"{live_server}/login?next=/catalog")
    page.get_by_label("E-mail address").fill(responder.email)
    page.get_by_label("Password").fill(responder.password)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(f"{live_server}/catalog")
    expect(page.get_by_role("heading", name="Service catalog")).to_be_visible()
    page.get_by_role("link", name="checkout", exact=True).first.click()

    expect(page.get_by_role("heading", name="checkout")).to_be_visible()
    graph = page.locator("svg.graph")
    expect(graph).to_be_visible()
    expect(graph.locator("a.node.focus")).to_have_count(1)
    expect(graph.locator("a.node", has_text="payments")).to_have_count(1)
    blast = page.locator("section", has=page.get_by_role("heading", name="Blast radius"))
    expect(blast.get_by_role("link", name="api-gateway")).to_be_visible()
    box = graph.bounding_box()
    assert box is not None and box["width"] > 300

    graph.locator("a.node", has_text="payments").click()
    expect(page.get_by_role("heading", name="payments")).to_be_visible()
    page.screenshot(path=str(tmp_path / "service-graph.png"), full_page=True)
    assert (tmp_path / "service-graph.png").stat().st_size > 10_000
