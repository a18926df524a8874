"""The client card and passes in Debian's Chromium at 390 px: the trainer records a pass on a
client's card and the client sees its visits in My trainings; the trainer marks attendance in
the Day view once the training has started. Screenshots of the card and My trainings, light
and dark, English and Russian, go to test-artifacts/; every control there is at least 44 px
both ways, nothing runs off the screen, and text stays readable in dark mode."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from schedule import Booking, Settings, User, attendance, passes, services
from schedule.timegrid import parse_date
from schedule.unit import Actor, Unit
from tests.e2e.test_native_browser import axe_problems
from tests.fixtures_browser import DARK, LIGHT, TIMEOUT_MS, contrast, open_app
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER
from webapp.extensions import db

pytestmark = pytest.mark.browser

CONTROLS = "button, input, summary, a"


def until(page, expression: str) -> None:
    """Poll with evaluate: the app's Content-Security-Policy refuses Playwright's string eval."""
    for _ in range(TIMEOUT_MS // 20):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(20)
    raise AssertionError(f"never true: {expression}")


def settled(page) -> None:
    until(page, "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def tap(page, selector: str) -> None:
    page.locator(selector).first.wait_for()
    settled(page)
    page.click(selector)
    settled(page)


def book(app, user: dict, day: str, minute: int) -> int:
    with app.app_context():
        session, settings, now = db.session(), app.config["SCHEDULE"], app.config["CLOCK"]()
        client = services.upsert_user(session, user)
        booking = services.book(
            Unit(session, settings, Actor.client(client), now=now), client, parse_date(day), minute
        )
        session.commit()
        return booking.id


def test_a_pass_recorded_on_the_card_reaches_the_client_and_attendance_is_marked(
    browser, sqlite_app, live_sqlite_url, artifacts, clock
):
    booking_id = book(sqlite_app, ANNA, TOMORROW, 600)
    page = open_app(browser, live_sqlite_url, user=TRAINER, telegram_stub=True)
    tap(page, "[data-nav=admin]")
    tap(page, "[data-admin-nav=clients]")
    tap(page, f"[data-client-id='{ANNA['id']}'] [data-admin-action=open-client]")
    card = page.locator(f"[data-client-card='{ANNA['id']}']")
    card.wait_for()
    assert card.locator("[data-client-stats]").get_attribute("data-unpaid") == "1"

    form = page.locator("[data-client-form=record-pass]")
    form.locator("[name=visits]").fill("8")
    form.locator("[name=valid_days]").fill("30")
    form.locator("[name=price]").fill("1500")
    form.locator("[name=note]").fill("November")
    tap(page, "[data-client-action=record-pass]")
    page.locator("[data-pass-id]").wait_for()
    assert page.locator("[data-notice]").inner_text() == "Pass recorded."
    until(page, "window.__tg.calls.some(c => c[0] === 'haptic' && c[1] === 'success')")
    recorded = page.locator("[data-pass-id]")
    # Anna's booking from before takes its visit from the pass at once
    assert (recorded.get_attribute("data-visits"), recorded.get_attribute("data-remaining")) == (
        "8",
        "7",
    )
    assert card.locator("[data-client-stats]").get_attribute("data-unpaid") == "0"
    page.screenshot(path=artifacts / "01-card-pass-recorded.png", full_page=True)

    # A correction without a reason is refused in place; with one it joins the history.
    tap(page, "[data-pass-adjust] summary")
    page.fill("[data-client-form=adjust-pass] [name=visits]", "+2")
    page.evaluate(
        "document.querySelector('[data-client-form=adjust-pass] [name=reason]')"
        ".removeAttribute('required')"
    )
    tap(page, "[data-client-action=adjust-pass]")
    until(page, "document.querySelector('[data-notice]').classList.contains('error')")
    assert "Say why the pass changes" in page.locator("[data-notice]").inner_text()
    assert page.locator("[data-client-form=adjust-pass] [name=visits]").input_value() == "+2"
    page.fill("[data-client-form=adjust-pass] [name=reason]", "paid for 2 more")
    tap(page, "[data-client-action=adjust-pass]")
    until(page, "document.querySelector('[data-notice]').textContent === 'Pass corrected.'")
    assert page.locator("[data-pass-id]").get_attribute("data-visits") == "10"
    tap(page, "[data-pass-history] summary")
    assert "paid for 2 more" in page.locator("[data-pass-history]").inner_text()
    page.screenshot(path=artifacts / "02-card-corrected.png", full_page=True)

    # Anna sees the visits left in My trainings.
    client = open_app(browser, live_sqlite_url, user=ANNA)
    tap(client, "[data-nav=my]")
    shown = client.locator("[data-passes] [data-pass-id]")
    shown.wait_for()
    assert shown.get_attribute("data-remaining") == "9"
    assert "9 of 10 visits left" in shown.inner_text()
    client.screenshot(path=artifacts / "03-my-trainings.png", full_page=True)

    # Tomorrow at 10:05 the training has started: the trainer marks Anna attended in Day.
    clock.advance(days=1, hours=1, minutes=5)
    tap(page, "[data-admin-nav=day]")
    visitor = f"[data-admin-booking-id='{booking_id}']"
    tap(page, f"{visitor} [data-action=attended]")
    until(
        page,
        f'document.querySelector("{visitor} [data-attendance]").dataset.attendance'
        " === 'attended'",
    )
    page.screenshot(path=artifacts / "04-day-attended.png", full_page=True)
    with sqlite_app.app_context():
        assert db.session.get(Booking, booking_id).attendance == "attended"
    tap(page, "[data-admin-nav=clients]")
    tap(page, f"[data-client-id='{ANNA['id']}'] [data-admin-action=open-client]")
    stats = page.locator("[data-client-stats]")
    stats.wait_for()
    assert stats.get_attribute("data-attended") == "1"


def as_rgb(css: str) -> str:
    """A computed colour as rgb(r, g, b): color-mix() computes to color(srgb r g b)."""
    if not css.startswith("color(srgb"):
        return css
    channels = css[len("color(srgb") : css.index(")")].split()[:3]
    return "rgb(" + ", ".join(str(round(float(c) * 255)) for c in channels) + ")"


def seed_history(app, user: dict) -> None:
    """`user` holds a used pass, a current one corrected once, and a no-show that pauses them."""
    with app.app_context():
        session, settings, now = db.session(), app.config["SCHEDULE"], app.config["CLOCK"]()
        trainer = services.upsert_user(session, TRAINER)
        client = services.upsert_user(session, user)
        old = passes.record(
            Unit(session, settings, Actor.trainer(), now=now), client, visits=1, valid_days=1
        )
        current = passes.record(
            Unit(session, settings, Actor.trainer(trainer), now=now),
            client,
            visits=10,
            valid_days=60,
            price=4500,
            note="Autumn",
        )
        passes.adjust(
            Unit(session, Settings(), Actor.trainer(trainer), now=now),
            current.id,
            visits=2,
            reason="Bonus for a friend",
        )
        missed = services.book(
            Unit(session, settings, Actor.client(client), now=now),
            client,
            parse_date(TOMORROW),
            600,
        )
        services.book(
            Unit(session, settings, Actor.client(client), now=now),
            client,
            parse_date("2026-11-28"),
            720,
        )
        session.commit()
        assert old.id and missed.id
    app.config["CLOCK"].advance(days=1, hours=1, minutes=5)
    with app.app_context():
        attendance.mark(
            Unit(db.session(), Settings(), Actor.trainer(), now=app.config["CLOCK"]()),
            missed.id,
            "no_show",
        )
        assert db.session.scalar(db.select(User.id).where(User.telegram_id == user["id"]))


def too_small(page, scope: str) -> list[str]:
    """Controls in `scope` smaller than 44 × 44 px (visible ones)."""
    return page.evaluate(
        """([scope, controls]) => [...document.querySelectorAll(scope)].flatMap(root =>
             [...root.querySelectorAll(controls)]).filter(el => {
               const r = el.getBoundingClientRect();
               return r.width > 0 && r.height > 0 && el.type !== 'hidden'
                 && (r.width < 44 || r.height < 44);
             }).map(el => el.outerHTML.slice(0, 120) + ' ' +
               Math.round(el.getBoundingClientRect().width) + 'x' +
               Math.round(el.getBoundingClientRect().height))""",
        [scope, CONTROLS],
    )


def overflowing(page) -> list[str]:
    """Elements that run past the 390 px viewport (cut off or scrolled sideways)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.view *')].filter(el => {
             const r = el.getBoundingClientRect();
             return r.width > 0 && (r.right > innerWidth + 0.5 || r.left < -0.5);
           }).map(el => el.outerHTML.slice(0, 100))"""
    )


@pytest.mark.parametrize(
    ("scheme", "lang"), [("light", "en"), ("dark", "ru"), ("dark", "en"), ("light", "ru")]
)
def test_the_card_and_my_trainings_at_390px(
    browser, sqlite_app, live_sqlite_url, artifacts, scheme, lang
):
    sqlite_app.config["SCHEDULE"] = dataclasses.replace(
        sqlite_app.config["SCHEDULE"], no_show_limit=1
    )
    user = ANNA if lang == "en" else BORIS
    seed_history(sqlite_app, user)
    theme = DARK if scheme == "dark" else LIGHT
    trainer = {**TRAINER, "language_code": lang}
    page = open_app(
        browser, live_sqlite_url, user=trainer, theme=theme, scheme=scheme, telegram_stub=True
    )
    tap(page, "[data-nav=admin]")
    tap(page, "[data-admin-nav=clients]")
    tap(page, f"[data-client-id='{user['id']}'] [data-admin-action=open-client]")
    page.locator("[data-blocked]").wait_for()
    tap(page, "[data-pass-history] summary")
    page.screenshot(path=artifacts / f"card-{scheme}-{lang}.png", full_page=True)
    assert page.locator("[data-pass-id]").count() == 2
    assert too_small(page, ".client-card") == []
    assert overflowing(page) == []
    if scheme == "dark":
        for selector in (
            "[data-client-stats] small",
            "[data-pass-id] .meta",
            ".history li span",
            "[data-blocked] span",
        ):
            colour, background = page.evaluate(
                """(sel) => { const el = document.querySelector(sel);
                     let bg = el, c = 'rgba(0, 0, 0, 0)';
                     while (bg && (c = getComputedStyle(bg).backgroundColor) === 'rgba(0, 0, 0, 0)')
                       bg = bg.parentElement;
                     return [getComputedStyle(el).color, c]; }""",
                selector,
            )
            ratio = contrast(as_rgb(colour), as_rgb(background))
            assert ratio >= 3, (selector, colour, background)

    tap(page, "[data-client-action=unblock]")
    page.locator("[data-blocked]").wait_for(state="detached")

    client = open_app(browser, live_sqlite_url, user=user, theme=theme, scheme=scheme)
    tap(client, "[data-nav=my]")
    client.locator("[data-passes]").wait_for()
    client.screenshot(path=artifacts / f"my-{scheme}-{lang}.png", full_page=True)
    assert overflowing(client) == []
    assert too_small(client, "[data-passes]") == []


# --- the trainer's day leads to the client card (issue 23) ---------------------------------------

SHOTS = Path("/tmp/shots-admin")


def seed_day(app, clock) -> dict[str, int]:
    """Tomorrow at 10:00 Anna (a pass pays) and Boris (unpaid); Anna's 14:00 on Friday was
    cancelled by the studio."""
    with app.app_context():
        session, settings, now = db.session(), app.config["SCHEDULE"], app.config["CLOCK"]()
        anna = services.upsert_user(session, ANNA)
        boris = services.upsert_user(session, BORIS)
        passes.record(
            Unit(session, settings, Actor.trainer(), now=now),
            anna,
            visits=8,
            valid_days=30,
            price=1500,
        )
        friday = services.book(
            Unit(session, settings, Actor.client(anna), now=now),
            anna,
            parse_date("2026-11-27"),
            840,
        )
        services.cancel(
            Unit(session, settings, Actor.trainer(), now=now), friday.id, reason="Repairs"
        )
        ids = {
            "anna": services.book(
                Unit(session, settings, Actor.client(anna), now=now),
                anna,
                parse_date(TOMORROW),
                600,
            ).id,
            "boris": services.book(
                Unit(session, settings, Actor.client(boris), now=now),
                boris,
                parse_date(TOMORROW),
                600,
            ).id,
        }
        session.commit()
        return ids


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_trainers_day_opens_the_client_card_and_axe_finds_nothing_serious(
    browser, sqlite_app, live_sqlite_url, clock, theme, lang
):
    ids = seed_day(sqlite_app, clock)
    trainer = {**TRAINER, "language_code": lang}
    page = open_app(
        browser,
        live_sqlite_url,
        user=trainer,
        theme=DARK if theme == "dark" else LIGHT,
        scheme=theme,
        telegram_stub=True,
    )
    # The tab lands on the day of the next training: tomorrow, where Anna and Boris train.
    page.locator(f"[data-admin-date='{TOMORROW}'][aria-current=true]").wait_for()
    visitor = page.locator(f"[data-admin-booking-id='{ids['boris']}']")
    assert visitor.get_attribute("data-paid") == "false"
    assert page.locator(f"[data-admin-booking-id='{ids['anna']}']").get_attribute("data-paid") == (
        "true"
    )
    SHOTS.mkdir(exist_ok=True)
    settled(page)
    page.screenshot(path=SHOTS / f"day-{theme}-{lang}.png", full_page=True)
    assert axe_problems(page) == []
    assert overflowing(page) == []

    tap(page, f"[data-admin-booking-id='{ids['anna']}'] [data-client-id='{ANNA['id']}']")
    card = page.locator(f"[data-client-card='{ANNA['id']}']")
    card.wait_for()
    upcoming = card.locator("[data-client-bookings=upcoming] [data-booking-id]")
    assert upcoming.first.get_attribute("data-booking-id") == str(ids["anna"])
    past = card.locator("[data-client-bookings=past] [data-booking-id]")
    assert past.first.get_attribute("data-status") == "cancelled"
    price = card.locator("[data-price]").inner_text()
    assert price == ("1\u00a0500\u00a0₽" if lang == "ru" else "RUB\u00a01,500")
    page.screenshot(path=SHOTS / f"card-{theme}-{lang}.png", full_page=True)
    assert axe_problems(page) == []
    assert overflowing(page) == []

    tap(page, "[data-back]")  # back to the day it was opened from
    page.locator(f"[data-admin-date='{TOMORROW}'][aria-current=true]").wait_for()
