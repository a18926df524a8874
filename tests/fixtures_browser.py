"""Browser fixtures: Debian's Chromium driven by Playwright, the Mini App opened as Telegram
opens it (init data and theme in the URL fragment), screenshots in test-artifacts/."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from schedule import services
from schedule.timegrid import parse_date
from schedule.unit import Actor, Unit
from tests.conftest import require
from tests.fixtures_web import ANNA, TOMORROW, make_user
from tests.initdata import sign_init_data
from webapp.extensions import db

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TIMEOUT_MS = 15_000
LIGHT = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#999999",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#efeff3",
}
DARK = {
    "bg_color": "#17212b",
    "text_color": "#f5f5f5",
    "hint_color": "#708499",
    "link_color": "#6ab3f3",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#232e3c",
}

# A stand-in for telegram-web-app.js that records what the page asks of Telegram.
TELEGRAM_STUB = """
window.__tg = {calls: [], main: null, back: null};
const launch = new URLSearchParams(location.hash.slice(1));
const rec = (name) => (...args) => { window.__tg.calls.push([name, ...args]); };
const button = (kind) => {
  const b = {text: "", isVisible: false,
    setText(t) { b.text = t; return b; }, show() { b.isVisible = true; return b; },
    hide() { b.isVisible = false; return b; }, onClick(f) { window.__tg[kind] = f; return b; },
    setParams(p) { Object.assign(b, p); return b; },
    showProgress() { b.progress = true; window.__tg.calls.push(["progress", kind]); return b; },
    hideProgress() { b.progress = false; return b; }};
  return b;
};
window.Telegram = {WebApp: {
  initData: launch.get("tgWebAppData") || "", ready: rec("ready"), expand: rec("expand"),
  themeParams: JSON.parse(launch.get("tgWebAppThemeParams") || "{}"),
  MainButton: button("main"), BackButton: button("back"), openLink: rec("openLink"),
  HapticFeedback: {notificationOccurred: rec("haptic")},
  isVersionAtLeast: (version) => parseFloat(version) <= 7.0,
  requestContact: (callback) => callback(true, {status: "sent", response: window.__contact}),
}};
// As Telegram's script does: the theme as CSS variables (app.js sets them only when Telegram's
// script is not there yet, so without this the theme shown depended on which script came first).
for (const [k, v] of Object.entries(window.Telegram.WebApp.themeParams))
  document.documentElement.style.setProperty("--tg-theme-" + k.replace(/_/g, "-"), v);
"""


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        require(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def _idle_pages() -> dict:
    """Pages a test has handed back, ready for the next (see Chromium)."""
    return {}


class Chromium:
    """The browser as a test sees it: Playwright's Browser, and `page()`, a phone-sized page of
    its own context that the next test gets again once this one is over.

    A new context and page cost ~0.5 s of Chromium's CPU (a renderer process is started); a
    page of the test before, cleared, ~0.2 s. Cleared means: routes gone, about:blank, its
    context's cookies, permissions and HTTP cache gone (each test serves on a port of its own,
    which a later one may get again). Tests leave such pages open; the fixture takes them
    back. A page whose clearing fails is closed instead."""

    def __init__(self, browser, idle: dict) -> None:
        self._browser = browser
        self._idle = idle
        self._lent: list[tuple[tuple, object]] = []

    def __getattr__(self, name: str):
        return getattr(self._browser, name)

    def page(
        self,
        scheme: str = "light",
        bypass_csp: bool = True,
        locale: str | None = None,
        again: bool = True,
    ):
        """A page of its own context; `again=False`: one no later test gets (a test that adds
        to the page or its context, such as an init script, asks for that)."""
        key = (bypass_csp, locale) if again else None
        idle = self._idle.setdefault(key, []) if again else []
        if idle:
            page = idle.pop()
        else:
            context = self._browser.new_context(
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                bypass_csp=bypass_csp,
                **({"locale": locale} if locale else {}),
            )
            page = context.new_page()
        page.emulate_media(color_scheme=scheme)
        page.set_default_timeout(TIMEOUT_MS)
        self._lent.append((key, page))
        return page

    def take_back(self) -> None:
        for key, page in self._lent:
            if key is None:
                with contextlib.suppress(Exception):
                    page.context.close()
                continue
            try:
                for other in page.context.pages:  # a second page the test opened in it
                    if other is not page:
                        other.close()
                page.unroute_all(behavior="ignoreErrors")
                page.goto("about:blank", timeout=5_000)
                page.set_viewport_size({"width": 390, "height": 844})
                context = page.context
                context.clear_cookies()
                context.clear_permissions()
                cdp = context.new_cdp_session(page)
                cdp.send("Network.clearBrowserCache")
                cdp.detach()
            except Exception:  # closed by the test, or stuck: not lent again
                with contextlib.suppress(Exception):
                    page.context.close()
            else:
                self._idle[key].append(page)
        self._lent.clear()


@pytest.fixture
def browser(chromium, _idle_pages) -> Iterator[Chromium]:
    handle = Chromium(chromium, _idle_pages)
    yield handle
    handle.take_back()


@pytest.fixture
def artifacts(request) -> Path:
    folder = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def open_app(
    browser,
    base_url: str,
    user: dict = ANNA,
    theme: dict = LIGHT,
    telegram_stub: bool = False,
    scheme: str = "light",
    enforce_csp: bool = False,
):
    """A phone-sized page opened like Telegram does; telegram.org is offline unless stubbed.

    Playwright's wait_for_function polls by evaluating strings in the page, which the app's
    Content-Security-Policy rightly refuses; so the CSP is bypassed unless `enforce_csp`
    (tests/e2e/test_security_browser.py drives the app under it, without such waits)."""
    page = browser.page(scheme, bypass_csp=not enforce_csp, again=not enforce_csp)
    if telegram_stub:
        page.route(
            "https://telegram.org/**",
            lambda route: route.fulfill(body=TELEGRAM_STUB, content_type="application/javascript"),
        )
    else:
        page.route("https://telegram.org/**", lambda route: route.abort())
    page.goto(launch_url(base_url, user, theme))
    # A client opens on the grid, a trainer on Day (an owner's has its sections, every Day its
    # date strip).
    page.locator("[data-slot-start], [data-admin-nav], [data-admin-date]").first.wait_for()
    # The first paint is everyone's tab; tests act on the viewer's own (tests/
    # test_first_paint_browser.py covers what a tap before the swap does).
    page.locator("[data-anonymous]").wait_for(state="detached")
    return page


def launch_url(base_url: str, user: dict = ANNA, theme: dict = LIGHT) -> str:
    """The Mini App's URL as Telegram opens it: init data and theme in the fragment."""
    fragment = (
        "tgWebAppData="
        + quote(sign_init_data(user), safe="")
        + "&tgWebAppVersion=7.0&tgWebAppPlatform=android"
        + "&tgWebAppThemeParams="
        + quote(json.dumps(theme), safe="")
    )
    return f"{base_url}/#{fragment}"


def fill_slot(app, start: str, count: int) -> None:
    with app.app_context():
        session = db.session()
        for n in range(count):
            user = services.upsert_user(session, make_user(3000 + n))
            services.book(
                Unit(
                    session, app.config["SCHEDULE"], Actor.client(user), now=app.config["CLOCK"]()
                ),
                user,
                parse_date(TOMORROW),
                int(start[:2]) * 60 + int(start[3:]),
            )


def relative_luminance(rgb: str) -> float:
    if rgb.startswith("color(srgb"):  # color-mix() computes to color(srgb r g b)
        channels = [float(c) for c in rgb[len("color(srgb") : rgb.index(")")].split()[:3]]
    else:
        channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(fg: str, bg: str) -> float:
    light, dark = sorted((relative_luminance(fg), relative_luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def press_main_button(page) -> None:
    """Tap Telegram's MainButton as a person would: once htmx has taken the new sheet in (a
    control swapped in a moment ago is not wired yet, and a tap then does nothing). A locator,
    not a script: the page may run under a CSP without eval."""
    page.locator(".htmx-swapping, .htmx-settling, .htmx-added").first.wait_for(state="detached")
    page.evaluate("window.__tg.main()")
