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
    page.context.close()


def test_tabs_and_card_actions_are_44_px_both_ways(browser, sqlite_app, live_sqlite_url):
    seed(sqlite_app, ANNA, ("10:00",))
    page = open_app(browser, live_sqlite_url)
    tap(page, "[data-nav=my]")
    page.locator("[data-booking-id] [data-action=cancel]").wait_for()
    page.wait_for_function(SETTLED)
    assert small_controls(page, "[data-nav], .card .actions > *") == []
    page.context.close()


def test_the_trainers_day_strip_week_arrows_and_heat_map_cells_are_44_px(
    browser, sqlite_app, live_sqlite_url
):
    seed(sqlite_app, ANNA, ("10:00",))
    page = open_app(browser, live_sqlite_url, user=TRAINER)
    page.locator("[data-admin-nav=day][aria-current=page]").wait_for()
    page.wait_for_function(SETTLED)
    assert small_controls(page, "[data-admin-date], [data-admin-week], [data-admin-nav]") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing off screen

    tap(page, "[data-admin-nav=week]")
    page.locator("button.heat-cell").first.wait_for()
    page.wait_for_function(SETTLED)
    assert small_controls(page, "button.heat-cell, .heat-day, [data-admin-week]") == []
    page.context.close()


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
    page.context.close()


def test_a_failed_day_switch_undoes_the_strip_and_says_so(browser, sqlite_app, live_sqlite_url):
    page = open_app(browser, live_sqlite_url)
    page.wait_for_function(SETTLED)
    chosen = page.locator(".strip [aria-current=true]").get_attribute("data-date")
    page.route("**/app/grid*", lambda route: route.abort("internetdisconnected"))
    page.click(f"[data-date='{TOMORROW}']")
    page.locator("[data-notice].error:not([hidden])").wait_for()
    page.wait_for_function(SETTLED)
    assert page.locator(".strip [aria-current=true]").get_attribute("data-date") == chosen
    page.context.close()


SCREENS = [
    ("book", ANNA, ()),
    ("confirm", ANNA, ("[data-slot-start='12:00']",)),
    ("my", ANNA, ("[data-nav=my]",)),
    ("cancel", ANNA, ("[data-nav=my]", "[data-booking-id] [data-action=cancel]")),
    ("day", TRAINER, ("[data-admin-date='2026-11-26']",)),
    ("week", TRAINER, ("[data-admin-nav=week]",)),
    ("hours", TRAINER, ("[data-admin-nav=hours]",)),
    ("clients", TRAINER, ("[data-admin-nav=clients]",)),
]


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_issue_on_any_screen(
    browser, sqlite_app, live_sqlite_url, artifacts, theme, lang
):
    seed(sqlite_app, ANNA, ("10:00",))
    seed(sqlite_app, BORIS, ("10:00",))
    problems = {}
    for name, user, taps in SCREENS:
        viewer = {**user, "language_code": lang}
        page = open_app(
            browser,
            live_sqlite_url,
            user=viewer,
            theme=DARK if theme == "dark" else LIGHT,
            scheme=theme,
        )
        if user is ANNA:
            tap(page, f"[data-date='{TOMORROW}']")
            page.locator(f"[data-date='{TOMORROW}'][aria-current=true]").wait_for()
        else:
            page.locator("[data-admin-nav=day][aria-current=page]").wait_for()
        for selector in taps:
            tap(page, selector)
        page.wait_for_timeout(150)
        page.screenshot(path=artifacts / f"{name}.png", full_page=True)
        found = axe_problems(page)
        if found:
            problems[name] = found
        page.context.close()
    assert problems == {}
