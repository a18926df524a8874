"""The trainer's tab in Debian's Chromium, opened as Telegram opens it: a week of the studio
run from a phone. Screenshots of every step go to test-artifacts/."""

from __future__ import annotations

import csv
import io

import pytest

from schedule import Booking, services
from schedule.events import BookingCancelled
from schedule.timegrid import parse_date
from schedule.unit import Actor, Unit
from tests.fixtures_browser import DARK, contrast, open_app, press_main_button
from tests.fixtures_web import ANNA, BORIS, TOMORROW, TRAINER
from webapp.extensions import db

pytestmark = pytest.mark.browser

FRIDAY = "2026-11-27"


@pytest.fixture
def events(sqlite_app) -> list:
    seen: list = []
    sqlite_app.extensions["booking_events"] = seen.append
    sqlite_app.extensions["clients_told"] = True  # a bot wired: its worker sends the notices
    return seen


def seed(app) -> dict[str, int]:
    """Anna trains on Thursday at 10:00 and Boris on Friday at 12:00."""
    with app.app_context():
        session, settings, now = db.session(), app.config["SCHEDULE"], app.config["CLOCK"]()
        anna = services.upsert_user(session, ANNA)
        boris = services.upsert_user(session, BORIS)
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
                parse_date(FRIDAY),
                720,
            ).id,
        }
        session.commit()
        return ids


def tap(page, selector: str) -> None:
    """Click once htmx has settled, so that the element's own listener is in place."""
    page.locator(selector).first.wait_for()
    page.wait_for_function(
        "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )
    page.click(selector)


def as_rgb(css: str) -> str:
    """A computed colour as rgb(r, g, b): color-mix() computes to color(srgb r g b)."""
    if not css.startswith("color(srgb"):
        return css
    channels = css[len("color(srgb") : css.index(")")].split()[:3]
    return "rgb(" + ", ".join(str(round(float(c) * 255)) for c in channels) + ")"


def stored(app, booking_id: int) -> Booking:
    with app.app_context():
        return db.session.get(Booking, booking_id)


def test_a_trainer_runs_the_week_from_a_phone(
    browser, sqlite_app, live_sqlite_url, artifacts, events
):
    ids = seed(sqlite_app)
    page = open_app(browser, live_sqlite_url, user=TRAINER, telegram_stub=True)
    tap(page, "[data-nav=admin]")
    page.locator("[data-admin-nav=day][aria-current=page]").wait_for()

    # Friday: Boris's booking, cancelled with a reason through Telegram's MainButton.
    tap(page, f"[data-admin-date='{FRIDAY}']")
    visitor = page.locator(f"[data-admin-booking-id='{ids['boris']}']")
    visitor.wait_for()
    assert "Борис" in visitor.inner_text() and "@boris" in visitor.inner_text()
    assert visitor.locator("a[href='https://t.me/boris']").count() == 1
    page.screenshot(path=artifacts / "01-friday.png")
    tap(page, f"[data-admin-booking-id='{ids['boris']}'] [data-action=cancel]")
    page.locator("[data-sheet] textarea[name=reason]").wait_for()
    page.wait_for_function("Telegram.WebApp.MainButton.isVisible")
    assert page.evaluate("Telegram.WebApp.MainButton.text") == "Cancel and notify"
    page.fill("[data-sheet] textarea[name=reason]", "The trainer is ill")
    page.screenshot(path=artifacts / "02-cancel-with-reason.png")
    press_main_button(page)  # the trainer taps Telegram's MainButton
    page.locator(f"[data-admin-booking-id='{ids['boris']}']").wait_for(state="detached")
    assert "The client was told" in page.locator("[data-notice]").inner_text()
    page.wait_for_function("window.__tg.calls.some(c => c[0] === 'haptic' && c[1] === 'success')")
    cancelled = stored(sqlite_app, ids["boris"])
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "The trainer is ill")
    told = [e for e in events if isinstance(e, BookingCancelled)]
    assert [(e.booking.id, e.by_admin) for e in told] == [(ids["boris"], True)]

    # Thursday is closed: the booking inside is shown, and cancelled only once confirmed.
    tap(page, f"[data-admin-date='{TOMORROW}']")
    page.locator(f"[data-admin-booking-id='{ids['anna']}']").wait_for()
    tap(page, "[data-admin-action=close]")
    form = page.locator("[data-admin-form=closure]")
    form.wait_for()
    assert form.locator("[name=date]").input_value() == TOMORROW
    form.locator("[name=reason]").fill("Public holiday")
    tap(page, "[data-admin-form=closure] [data-admin-action=add-closure]")
    conflict = page.locator("[data-conflict]")
    conflict.wait_for()
    assert "Anna K" in conflict.inner_text() and "10:00–11:30" in conflict.inner_text()
    assert conflict.locator(f"[data-conflict-booking-id='{ids['anna']}']").count() == 1
    assert stored(sqlite_app, ids["anna"]).status == "active"
    page.screenshot(path=artifacts / "03-closing-a-day-with-a-booking.png")
    tap(page, "[data-conflict] [data-action=confirm]")
    page.locator("[data-closure-id]").wait_for()
    assert "Bookings cancelled: 1" in page.locator("[data-notice]").inner_text()
    assert "Public holiday" in page.locator("[data-closure-id]").inner_text()
    closed = stored(sqlite_app, ids["anna"])
    assert (closed.status, closed.cancel_reason) == ("cancelled", "Public holiday")
    assert any(isinstance(e, BookingCancelled) and e.booking.id == ids["anna"] for e in events)
    page.screenshot(path=artifacts / "04-closed.png")

    # A walk-in: Boris, found by name, booked on Friday at 16:00.
    tap(page, "[data-admin-nav=clients]")
    tap(page, "[data-admin-search]")
    page.keyboard.type("бор")
    page.locator("#clients [data-client-id]").first.wait_for()
    page.wait_for_function("document.querySelectorAll('#clients [data-client-id]').length === 1")
    tap(page, f"[data-client-id='{BORIS['id']}'] [data-admin-action=book-client]")
    tap(page, f"[data-admin-book-date='{FRIDAY}']")
    page.locator(f"[data-admin-book-date='{FRIDAY}'][aria-current=true]").wait_for()
    tap(page, "[data-slot-start='16:00']")
    confirm = page.locator("[data-sheet] [data-action=confirm]")
    confirm.wait_for()
    assert "Fri 27 Nov, 16:00–17:30" in page.locator("[data-sheet]").inner_text()
    page.screenshot(path=artifacts / "05-walk-in.png")
    tap(page, "[data-sheet] [data-action=confirm]")
    page.locator("[data-admin-nav=day][aria-current=page]").wait_for()
    assert "Booked Борис: Fri 27 Nov, 16:00–17:30" in page.locator("[data-notice]").inner_text()
    with sqlite_app.app_context():
        walk_in = db.session.scalars(db.select(Booking).where(Booking.source == "admin")).one()
        assert (walk_in.user.telegram_id, walk_in.status) == (BORIS["id"], "active")

    # The week's heat map shows the closed Thursday and Friday's walk-in.
    tap(page, "[data-admin-nav=week]")
    page.locator("[data-heat]").wait_for()
    assert "closed" in page.get_attribute(f"[data-heat-cell='{TOMORROW} 10:00']", "class")
    assert page.get_attribute(f"[data-heat-cell='{FRIDAY} 16:00']", "data-booked") == "1"
    page.screenshot(path=artifacts / "06-week.png")

    # The month's export: Telegram opens the link in a browser, which gets the CSV.
    tap(page, "[data-admin-nav=clients]")
    tap(page, "[data-admin-action=export]")
    page.wait_for_function("window.__tg.calls.some(c => c[0] === 'openLink')")
    link = page.evaluate("window.__tg.calls.find(c => c[0] === 'openLink')[1]")
    response = page.context.request.get(link, headers={"Authorization": ""})
    assert response.status == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment;")
    body = response.body()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert [(r["date"], r["start"], r["client"], r["status"], r["source"]) for r in rows] == [
        (TOMORROW, "10:00", "Anna K", "cancelled", "miniapp"),
        (FRIDAY, "12:00", "Борис", "cancelled", "miniapp"),
        (FRIDAY, "16:00", "Борис", "active", "admin"),
    ]
    assert rows[0]["cancel_reason"] == "Public holiday"
    page.screenshot(path=artifacts / "07-clients-and-export.png")


def test_a_client_never_sees_the_trainers_tab(browser, sqlite_app, live_sqlite_url):
    page = open_app(browser, live_sqlite_url, user=ANNA)
    assert page.locator("[data-nav=admin]").count() == 0
    status = page.evaluate(
        """async () => (await fetch('/app/admin/week', {headers: {Authorization:
            'tma ' + new URLSearchParams(location.hash.slice(1)).get('tgWebAppData')}})).status"""
    )
    assert status == 403


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_trainers_screens_in_the_dark(browser, sqlite_app, live_sqlite_url, artifacts, lang):
    seed(sqlite_app)
    trainer = {**TRAINER, "language_code": lang}
    page = open_app(browser, live_sqlite_url, user=trainer, theme=DARK, scheme="dark")
    tap(page, "[data-nav=admin]")
    tap(page, f"[data-admin-date='{TOMORROW}']")
    page.locator("[data-admin-booking-id]").wait_for()
    page.screenshot(path=artifacts / "day.png")
    colours = page.evaluate("""() => {
      const style = (s) => getComputedStyle(document.querySelector(s));
      return {name: style('[data-admin-booking-id] b').color,
              card: style('.start').backgroundColor,
              link: style('[data-admin-booking-id] a').color};
    }""")
    card = as_rgb(colours["card"])
    assert contrast(as_rgb(colours["name"]), card) >= 7
    assert contrast(as_rgb(colours["link"]), card) >= 4.5
    tap(page, "[data-admin-nav=week]")
    page.locator("[data-heat]").wait_for()
    page.screenshot(path=artifacts / "week.png")
    heat = page.evaluate(
        """() => {
      const style = (s) => getComputedStyle(document.querySelector(s));
      const cell = `[data-heat-cell='"""
        + TOMORROW
        + """ 10:00']`;
      return {text: style(cell).color, background: style(cell).backgroundColor,
              width: document.documentElement.scrollWidth};
    }"""
    )
    assert contrast(as_rgb(heat["text"]), as_rgb(heat["background"])) >= 3
    assert heat["width"] <= 390  # no sideways scrolling on a phone
    for section in ("hours", "clients"):
        tap(page, f"[data-admin-nav={section}]")
        page.locator(f"[data-admin-nav={section}][aria-current=page]").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=artifacts / f"{section}.png", full_page=True)


def test_a_trainer_splits_monday_with_a_break(browser, sqlite_app, live_sqlite_url, artifacts):
    page = open_app(browser, live_sqlite_url, user=TRAINER)
    tap(page, "[data-nav=admin]")
    tap(page, "[data-admin-nav=hours]")
    monday = "[data-hours-day=mon]"
    tap(page, f"{monday} [data-admin-action=add-interval]")
    page.locator(f"{monday} [data-interval] >> nth=1").wait_for()
    page.fill(f"{monday} [data-interval] >> nth=0 >> [name=mon_closes]", "12:00")
    page.fill(f"{monday} [data-interval] >> nth=1 >> [name=mon_opens]", "16:00")
    page.fill(f"{monday} [data-interval] >> nth=1 >> [name=mon_closes]", "20:00")
    tap(page, "[data-hours-day=sun] [data-admin-action=remove-interval]")
    page.locator("[data-hours-day=sun] [data-interval]").wait_for(state="detached")
    assert page.input_value("[name=mon_opens] >> nth=1") == "16:00"  # kept across the swap
    page.screenshot(path=artifacts / "hours-edited.png", full_page=True)
    tap(page, "[data-admin-action=save-hours]")
    page.locator("[data-notice]:not([hidden])").wait_for()
    with sqlite_app.app_context():
        from schedule.availability import effective_hours

        week = effective_hours(db.session(), sqlite_app.config["SCHEDULE"])
    assert week[0] == ((480, 720), (960, 1200)) and week[6] == ()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
