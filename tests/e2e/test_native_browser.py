"""The Mini App feels native in Chromium at 390 px (issue 13): one sheet at a time with
Telegram's buttons acting on it, no dead ends, 44 px controls, and axe-core finding no serious
or critical issue on any screen, light and dark, English and Russian. Screenshots of every
screen go to test-artifacts/."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from schedule import Booking, services
from schedule.timegrid import parse_date
from schedule.unit import Actor, Unit
from tests.fixtures_browser import DARK, LIGHT, open_app, press_main_button
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER, trainer_unit
from webapp.extensions import db

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parents[1] / "axe.min.js").read_text(encoding="utf-8")  # axe-core 4.14.1
SETTLED = "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"


def seed(app, user: dict, starts: tuple[str, ...]) -> list[int]:
    """`user` books each start on its own day from tomorrow on (one booking a day)."""
    with app.app_context():
        session, settings, now = db.session(), app.config["SCHEDULE"], app.config["CLOCK"]()
        client = services.upsert_user(session, user)
        first = parse_date(TOMORROW)
        ids = [
            services.book(
                Unit(session, settings, Actor.client(client), now=now),
                client,
                first + timedelta(days=n),
                int(start[:2]) * 60 + int(start[3:]),
            ).id
            for n, start in enumerate(starts)
        ]
        session.commit()
        return ids


def tap(page, selector: str) -> None:
    page.locator(selector).first.wait_for()
    page.wait_for_function(SETTLED)
    page.click(selector)


def axe_problems(page) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now."""
    page.wait_for_function(SETTLED)
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(content=AXE)
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"
    )
    return found


def small_controls(page, selector: str) -> list[str]:
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
          .filter(el => el.offsetParent !== null)
          .map(el => [el.outerHTML.slice(0, 80), el.getBoundingClientRect()])
          .filter(([, r]) => r.width < 44 || r.height < 44)
          .map(([html, r]) => `${html} ${Math.round(r.width)}x${Math.round(r.height)}`)""",
        selector,
    )


def test_two_cancels_leave_one_sheet_and_the_main_button_cancels_the_last(
    browser, sqlite_app, live_sqlite_url, artifacts
):
    first, second = seed(sqlite_app, ANNA, ("10:00", "12:00"))
    page = open_app(browser, live_sqlite_url, telegram_stub=True)
    tap(page, "[data-nav=my]")
    tap(page, f"[data-booking-id='{first}'] [data-action=cancel]")
    page.locator(f"#booking-{first} [data-sheet]").wait_for()
    tap(page, f"[data-booking-id='{second}'] [data-action=cancel]")
    page.locator(f"#booking-{second} [data-sheet]").wait_for()
    page.wait_for_function(SETTLED)
    assert page.locator("[data-sheet]").count() == 1
    assert page.locator("[data-action=confirm]").count() == 1
    page.wait_for_function("Telegram.WebApp.MainButton.isVisible")
    assert page.evaluate("Telegram.WebApp.MainButton.color") == "#e53935"  # destructive: red
    page.screenshot(path=artifacts / "one-sheet.png")

    press_main_button(page)  # Telegram's MainButton
    page.locator(f"[data-booking-id='{second}']").wait_for(state="detached")
    assert page.evaluate("window.__tg.calls.some(c => c[0] === 'progress')")
    with sqlite_app.app_context():
        assert db.session.get(Booking, first).status == "active"
        assert db.session.get(Booking, second).status == "cancelled"

    # BackButton closes the open sheet, not another one.
    tap(page, f"[data-booking-id='{first}'] [data-action=cancel]")
    page.locator("[data-sheet]").wait_for()
    page.wait_for_function("Telegram.WebApp.BackButton.isVisible")
    page.evaluate("window.__tg.back()")
    page.locator("[data-sheet]").wait_for(state="detached")


def test_move_on_a_booking_cancelled_meanwhile_keeps_the_tabs_and_says_why(
    browser, sqlite_app, live_sqlite_url, artifacts
):
    [booking_id] = seed(sqlite_app, BORIS, ("10:00",))
    page = open_app(browser, live_sqlite_url, user=BORIS)
    tap(page, "[data-nav=my]")
    page.locator("[data-action=reschedule]").wait_for()
    with sqlite_app.app_context():  # the trainer cancels it while the app stays open
        services.cancel(
            trainer_unit(sqlite_app),
            booking_id,
            reason="Ill",
        )
        db.session.commit()
    tap(page, "[data-action=reschedule]")
    error = page.locator("[data-notice].error:not([hidden])")
    error.wait_for()
    assert "отменил тренер" in error.inner_text()
    assert page.locator("[data-nav=book]").is_visible() and page.locator("[data-nav=my]").count()
    assert page.locator(f"[data-booking-id='{booking_id}']").count() == 0  # the truth
    page.screenshot(path=artifacts / "stale-move.png")


def test_a_failed_day_switch_undoes_the_strip_and_says_so(browser, sqlite_app, live_sqlite_url):
    page = open_app(browser, live_sqlite_url)
    page.wait_for_function(SETTLED)
    chosen = page.locator(".strip [aria-current=true]").get_attribute("data-date")
    page.route("**/app/grid*", lambda route: route.abort("internetdisconnected"))
    page.click(f"[data-date='{TOMORROW}']")
    page.locator("[data-notice].error:not([hidden])").wait_for()
    page.wait_for_function(SETTLED)
    assert page.locator(".strip [aria-current=true]").get_attribute("data-date") == chosen


# Each viewer's screens, walked on one page (a fresh page per screen cost ~0.5 s of Chromium
# each): name, the taps from the screen before, what shows the screen is there.
CLIENT_SCREENS = (
    ("book", (f"[data-date='{TOMORROW}']",), f"#grid[data-grid-date='{TOMORROW}']"),
    ("confirm", ("[data-slot-start='12:00']",), "[data-sheet]"),
    ("my", ("[data-nav=my]",), "[data-nav=my][aria-current=page]"),
    ("cancel", ("[data-booking-id] [data-action=cancel]",), "[data-booking-id] [data-sheet]"),
)
TRAINER_SCREENS = (
    ("week", ("[data-admin-nav=week]",), "[data-admin-nav=week][aria-current=page]"),
    ("hours", ("[data-admin-nav=hours]",), "[data-admin-nav=hours][aria-current=page]"),
    ("clients", ("[data-admin-nav=clients]",), "[data-admin-nav=clients][aria-current=page]"),
    (
        "day",
        ("[data-admin-nav=day]", "[data-admin-date='2026-11-26']"),
        "[data-admin-start='10:00']",  # nobody trains today
    ),
)


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_issue_on_any_screen(
    browser, sqlite_app, live_sqlite_url, artifacts, theme, lang
):
    """Also: the tabs and a card's actions, the trainer's day strip, week arrows and heat map
    cells are 44 px both ways, and the trainer's Day has nothing off screen."""
    seed(sqlite_app, ANNA, ("10:00",))
    seed(sqlite_app, BORIS, ("10:00",))
    problems = {}
    for user, screens in ((ANNA, CLIENT_SCREENS), (TRAINER, TRAINER_SCREENS)):
        page = open_app(
            browser,
            live_sqlite_url,
            user={**user, "language_code": lang},
            theme=DARK if theme == "dark" else LIGHT,
            scheme=theme,
        )
        if user is TRAINER:
            page.locator("[data-admin-nav=day][aria-current=page]").wait_for()
            page.wait_for_function(SETTLED)
            controls = "[data-admin-date], [data-admin-week], [data-admin-nav]"
            assert small_controls(page, controls) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        for name, taps, shown in screens:
            page.evaluate("window.scrollTo(0, 0)")  # where a page opened afresh would be
            for selector in taps:
                tap(page, selector)
            page.locator(shown).wait_for()
            page.wait_for_function(SETTLED)
            page.screenshot(path=artifacts / f"{name}.png", full_page=True)
            if name == "my":
                page.locator("[data-booking-id] [data-action=cancel]").first.wait_for()
                assert small_controls(page, "[data-nav], .card .actions > *") == []
            if name == "week":
                page.locator("button.heat-cell").first.wait_for()
                controls = "button.heat-cell, .heat-day, [data-admin-week]"
                assert small_controls(page, controls) == []
            found = axe_problems(page)
            if found:
                problems[name] = found
    assert problems == {}
