"""The Mini App in Chromium under its Content-Security-Policy (enforced, unlike in the other
browser tests): Telegram's script and the app's own run, a booking is made and cancelled, and
no violation is reported; an injected inline script is refused."""

from __future__ import annotations

import pytest

from tests.fixtures_browser import open_app, press_main_button
from tests.fixtures_web import TOMORROW

pytestmark = pytest.mark.browser

# Runs before the page's own scripts (Playwright injects it past the CSP): collect violations.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def violations(page) -> list[str]:
    return page.evaluate("window.__violations")


def test_the_app_works_under_its_csp_and_inline_scripts_do_not_run(
    browser, live_sqlite_url, artifacts
):
    page = open_app(browser, live_sqlite_url, telegram_stub=True, enforce_csp=True)
    page.context.add_init_script(WATCH_VIOLATIONS)
    page.reload()
    page.locator("[data-slot-start]").first.wait_for()
    assert page.evaluate("document.readyState") == "complete"
    # Telegram's script (stubbed at its real URL) ran, and so did htmx and app.js.
    assert page.evaluate("Boolean(window.Telegram && window.Telegram.WebApp && window.htmx)")

    page.click(f"[data-date='{TOMORROW}']")
    page.locator(f"[data-date='{TOMORROW}'][aria-current=true]").wait_for()
    page.locator("#grid h2", has_text="26").wait_for()
    page.click("[data-slot-start='10:00']")
    page.locator("[data-sheet] [data-action=confirm]").wait_for(state="attached")
    press_main_button(page)  # inside Telegram its MainButton confirms
    page.locator("[data-notice]:not([hidden])").wait_for()
    page.locator("[data-slot-start='10:00'][data-free='3']").wait_for()
    page.click("[data-nav=my]")
    page.locator("[data-booking-id] [data-action=cancel]").click()
    page.locator("[data-booking-id] [data-action=confirm]").wait_for(state="attached")
    press_main_button(page)
    page.locator("[data-booking-id]").wait_for(state="detached")
    page.screenshot(path=artifacts / "booked-and-cancelled-under-csp.png")
    assert violations(page) == []

    page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "window.__injected = true";
        document.body.appendChild(script);
    }"""
    )
    assert page.evaluate("window.__injected") is None
    page.wait_for_timeout(200)  # the violation event is queued as a task
    assert any(v.startswith("script-src") for v in violations(page))
    page.context.close()
