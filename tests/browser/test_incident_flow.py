"""In Chromium, a responder declares an incident, takes command, logs an assumption, posts a
customer update and resolves it, using only the keyboard-friendly plain forms (no JavaScript).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import Person

pytestmark = pytest.mark.browser


def test_declare_assign_ic_add_assumption_post_update_resolve(
    live_server: str, browser_page: Page, responder: Person
) -> None:
    page = browser_page
    page.goto(f"{live_server}/incidents/new")
    page.get_by_label("E-mail address").fill(responder.email)
    page.get_by_label("Password").fill(responder.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server}/incidents/new")

    page.get_by_label("Title").fill("Checkout errors for card payments")
    page.get_by_label("Severity").select_option("SEV2")
    page.get_by_label("Customer impact").fill("Some customers cannot pay by card.")
    page.get_by_role("button", name="Declare").click()
    expect(page).to_have_url(re.compile(r"/incidents/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Checkout errors for card payments"
    )
    incident_url = page.url

    page.locator("#role-user").fill(responder.email)
    page.locator("#role-role").select_option("commander")
    page.get_by_role("button", name="Assign").click()
    first_role = page.locator("#roles li").first
    expect(first_role).to_contain_text("commander:")
    expect(first_role).to_contain_text(responder.email)

    page.locator("#as-statement").fill("Only card payments are affected")
    page.locator("#as-evidence").fill("Wallet success rate is flat")
    page.locator("#as-confidence").select_option("high")
    page.get_by_role("button", name="Add assumption").click()
    expect(page.locator("#assumptions")).to_contain_text("Only card payments are affected")

    customer = page.locator("#up-customer")
    expect(customer).to_contain_text("Some customers cannot pay by card.")
    page.get_by_role("button", name="Post customer update").click()
    expect(page.locator("#updates ol")).to_contain_text("customer")

    page.goto(f"{live_server}/status")
    expect(page.locator("main")).to_contain_text("Some customers cannot pay by card.")
    page.goto(incident_url)

    page.locator("#status").select_option("resolved")
    page.locator("#status-note").fill("Rolled back the deploy")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#header")).to_contain_text("resolved")
    expect(page.locator("#timeline")).to_contain_text("Status triage → resolved: Rolled back")
    page.goto(f"{live_server}/status")
    expect(page.locator("main")).to_contain_text("All systems operational")
