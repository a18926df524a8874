// The Mini App's own JS: the auth header, Telegram's buttons, theme, haptics, one sheet at a
// time, the loading bar and failed requests shown in place.
// Telegram's script loads async (it must not hold up the first paint of the grid), so it may
// arrive before or after this one: everything that needs Telegram.WebApp waits for connect().
(() => {
  let tg = null;
  const launch = new URLSearchParams(location.hash.slice(1));
  const initData = () => (tg && tg.initData) || launch.get("tgWebAppData") || "";
  const q = (s) => document.querySelector(s);

  // Opened by a link to one training (webapp/links.py): Telegram's start_param, from its script
  // if that is here already, the URL (tgWebAppStartParam) or the signed init data. The first
  // tab is then asked of the link's route (#app's data-link): that day, that start's sheet.
  // The page itself stays the one every open gets (its cache holds as it is).
  const startParam = (() => {
    const unsafe = window.Telegram && Telegram.WebApp && Telegram.WebApp.initDataUnsafe;
    return (unsafe && unsafe.start_param) ||
      new URLSearchParams(location.search).get("tgWebAppStartParam") ||
      launch.get("tgWebAppStartParam") ||
      new URLSearchParams(launch.get("tgWebAppData") || "").get("start_param") || "";
  })();
  const root = q("#app");
  if (startParam && root && root.dataset.link) {
    root.setAttribute("hx-get", root.dataset.link + "?start=" + encodeURIComponent(startParam));
  }
  // The link's sheet (asked for by the tab's [data-link-start] loader, or the tab's own sheet of
  // why not) comes into view, and its start is chosen in the grid as a tap would have it.
  document.addEventListener("htmx:afterSettle", (e) => {
    const from = e.detail.requestConfig && e.detail.requestConfig.elt;
    const linked = from && from.matches && from.matches("[data-link-start]") ? from :
      from === q("#app") && q("[data-sheet][data-link-start]");
    const sheet = linked && q("[data-sheet]");
    if (!sheet) return;
    const cell = q(`#grid [data-slot-start="${linked.dataset.linkStart}"]`);
    const chosen = cell && cell.closest("button");
    if (chosen) chosen.setAttribute("aria-current", "true");
    sheet.scrollIntoView({block: "end"});
  });

  if (!window.Telegram) {  // Not (yet) loaded: take the theme from the launch parameters.
    try {
      const theme = JSON.parse(launch.get("tgWebAppThemeParams") || "{}");
      for (const k in theme) document.documentElement.style.setProperty("--tg-theme-" + k.replace(/_/g, "-"), theme[k]);
    } catch (e) { /* a plain browser: the CSS fallbacks apply */ }
  }

  document.addEventListener("htmx:configRequest", (e) => { e.detail.headers.Authorization = "tma " + initData(); });

  const haptic = (kind) => tg && tg.HapticFeedback && tg.HapticFeedback.notificationOccurred(kind);
  document.addEventListener("tg-haptic", (e) => haptic(e.detail.value));

  const notify = (text) => {
    const notice = q('[data-notice=""]');  // the status line, not the notice about the viewer
    if (notice) {
      notice.textContent = text;
      notice.className = "notice error";
      notice.hidden = false;
    }
    haptic("error");
  };
  // The texts live on the tabs (pages/_nav.html), in the viewer's language.
  const text = (key, fallback) => {
    const holder = q(`[data-${key}]`);
    return (holder && holder.dataset[key]) || fallback;
  };
  document.addEventListener("htmx:sendError", () => notify(text("offline", "No connection.")));
  document.addEventListener("htmx:responseError", () => notify(text("failed", "Something went wrong.")));

  // The first paint ([data-first-paint]: everyone's tab, or the viewer's own as their cookie
  // named them) is replaced by the tab the init data proves is the viewer's. While it loads,
  // a day tapped loads the viewer's whole tab for that day instead (the first load, landing
  // later, is not swapped in over it), and a start tapped is tapped again on the viewer's own
  // grid once it is there: their answer may differ (their own booking, a limit).
  // Registered before the loading bar's listener, so a request given up here is never counted.
  let loading = null, early = null, replay = null;
  const firstPaint = () => loading && q("[data-first-paint]");
  document.addEventListener("htmx:beforeRequest", (e) => {
    const el = e.detail.elt, app = q("#app");
    if (el === app && q("[data-first-paint]")) loading = el;
    if (!firstPaint() || !el.matches || !el.matches("[data-date],[data-slot-start]")) return;
    if (el.matches("[data-date]") && early) return;  // the early day's own request
    e.preventDefault();
    e.stopImmediatePropagation();
    if (el.matches("[data-slot-start]")) {
      replay = [el.closest("[data-grid-date]").dataset.gridDate, el.dataset.slotStart];
      return;
    }
    early = loading = el;
    const url = new URL(app.getAttribute("hx-get"), location.href);
    url.searchParams.set("date", el.dataset.date);
    htmx.ajax("GET", url.pathname + url.search, {source: el, target: app, swap: "innerHTML"});
  });
  document.addEventListener("htmx:beforeSwap", (e) => {
    if (early && e.detail.requestConfig && e.detail.requestConfig.elt === q("#app")) e.detail.shouldSwap = false;
  });
  document.addEventListener("htmx:afterRequest", (e) => {
    if (e.detail.elt !== loading) return;
    loading = null;  // done, or failed: taps go through as usual
    if (!e.detail.successful) replay = null;  // a tap of then is not made later by surprise
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!replay || q("[data-first-paint]")) return;
    const [day, start] = replay;
    replay = null;
    const cell = q(`[data-grid-date="${day}"] [data-slot-start="${start}"]`);
    const button = cell && cell.closest("button");
    if (button && !button.disabled) button.click();
  });

  // A swap that takes longer than ~300 ms shows the loading bar (body.busy, app.css).
  let pending = 0, busyTimer = null;
  document.addEventListener("htmx:beforeRequest", (e) => {
    pending += 1;
    if (!busyTimer) busyTimer = setTimeout(() => { document.body.classList.add("busy"); document.body.setAttribute("aria-busy", "true"); }, 300);
    if (tg && e.detail.elt && e.detail.elt.closest("[data-sheet]") && tg.MainButton.showProgress) tg.MainButton.showProgress(false);
  });
  document.addEventListener("htmx:afterRequest", (e) => {
    pending = Math.max(0, pending - 1);
    if (!pending) {
      clearTimeout(busyTimer);
      busyTimer = null;
      document.body.classList.remove("busy");
      document.body.removeAttribute("aria-busy");
    }
    if (tg && tg.MainButton.hideProgress) tg.MainButton.hideProgress();
    // A day that failed to load: the strip shows the day the grid still shows.
    const el = e.detail.elt;
    const failed = !e.detail.xhr || e.detail.xhr.status === 0 || e.detail.xhr.status >= 400;
    if (failed && el && el.matches && el.matches("[data-date],[data-admin-date]") && el.previousChoice !== undefined) {
      el.removeAttribute("aria-current");
      if (el.previousChoice) el.previousChoice.setAttribute("aria-current", "true");
    }
  });

  // One sheet at a time: a sheet that arrives closes any other.
  document.addEventListener("htmx:load", (e) => {
    const sheet = e.detail.elt.matches && (e.detail.elt.matches("[data-sheet]") ? e.detail.elt : e.detail.elt.querySelector("[data-sheet]"));
    if (sheet) for (const other of document.querySelectorAll("[data-sheet]")) if (other !== sheet) other.remove();
    const focus = e.detail.elt.querySelector && e.detail.elt.querySelector("[data-focus]");
    if (focus) focus.scrollIntoView({block: "center"});
    // A chosen kind or trainer past the edge of its row of chips scrolls into sight.
    const chips = e.detail.elt.querySelectorAll ? e.detail.elt.querySelectorAll(".picker [aria-pressed=true]") : [];
    for (const chip of chips) {
      const row = chip.parentElement.getBoundingClientRect(), box = chip.getBoundingClientRect();
      if (box.right > row.right || box.left < row.left) chip.parentElement.scrollLeft += box.left - row.left - 16;
    }
  });

  // Telegram's buttons act on the open sheet (there is at most one), else on the page.
  const confirmControl = () => q("[data-sheet] [data-action=confirm]:not([disabled])") ||
    q("[data-action=confirm]:not([disabled])");
  const backControl = () => q("[data-sheet] [data-dismiss]") || q("[data-back]") ||
    (q("[data-admin-nav][aria-current=page]:not([data-admin-nav=day])") && q("[data-admin-nav=day]")) ||
    (q("[data-nav=my][aria-current=page]") && q("[data-nav=book]"));
  const themeColor = (name, fallback) => (tg && tg.themeParams && tg.themeParams[name]) || fallback;
  const sync = () => {
    if (!tg) return;
    const confirm = confirmControl();
    if (confirm) {
      const danger = confirm.classList.contains("danger");
      const params = {
        text: confirm.textContent.trim(),
        color: danger ? themeColor("destructive_text_color", "#e53935") : themeColor("button_color", "#2481cc"),
        text_color: danger ? "#ffffff" : themeColor("button_text_color", "#ffffff"),
      };
      if (tg.MainButton.setParams) tg.MainButton.setParams(params); else tg.MainButton.setText(params.text);
      tg.MainButton.show();
    } else tg.MainButton.hide();
    if (backControl()) tg.BackButton.show(); else tg.BackButton.hide();
  };
  document.addEventListener("htmx:afterSettle", sync);

  document.addEventListener("click", (e) => {
    const el = e.target.closest(
      "[data-dismiss],[data-date],[data-admin-date],[data-slot-start],[data-join-start],a[data-external],[data-share-phone]");
    if (!el) return;
    if (el.matches("[data-share-phone]")) {
      // Telegram's own popup; its signed answer goes to the server, which checks it. Declined
      // (or not possible here), the sheet says so and keeps its way on.
      const sheet = el.closest("[data-sheet]");
      const show = (which) => { const line = sheet && sheet.querySelector(which); if (line) line.hidden = false; };
      if (tg && tg.isVersionAtLeast && tg.isVersionAtLeast("6.9")) tg.requestContact((ok, result) => {
        if (!ok || !result || !result.response) { show("[data-phone-declined]"); return; }
        el.setAttribute("hx-vals", JSON.stringify({response: result.response}));
        htmx.trigger(el, "contact");
      });
      else show("[data-phone-unavailable]");
    } else if (el.matches("[data-dismiss]")) {
      el.closest("[data-sheet]").remove();
      sync();
    } else if (el.matches("a[data-external]")) {
      // A chat (the trainer's contact) opens inside Telegram; anything else in the browser.
      const chat = el.href.startsWith("https://t.me/");
      if (chat && tg && tg.openTelegramLink) { e.preventDefault(); tg.openTelegramLink(el.href); }
      else if (tg && tg.openLink && !el.href.startsWith("tg:")) { e.preventDefault(); tg.openLink(el.href); }
    } else {
      // Chosen at once (optimistic); undone in htmx:afterRequest when the request fails.
      const scope = el.closest(".grid") || el.parentNode;
      el.previousChoice = scope.querySelector("[aria-current=true]");
      for (const other of scope.querySelectorAll("[aria-current=true]")) other.removeAttribute("aria-current");
      el.setAttribute("aria-current", "true");
    }
  });

  // Buying a pass (bookings/_products.html): the server makes the invoice link (the Bot API's
  // createInvoiceLink), Telegram opens its own payment sheet, and once it reports "paid" My
  // trainings loads again, with the new pass.
  document.addEventListener("click", (e) => {
    const el = e.target.closest("[data-action=buy]");
    if (!el || el.disabled) return;
    const list = el.closest("[data-products]");
    el.disabled = true;
    fetch(el.dataset.invoice, {method: "POST", headers: {Authorization: "tma " + initData()}})
      .then((r) => r.json().then((body) => ({ok: r.ok, body})))
      .then(({ok, body}) => {
        if (!ok) { notify(body.message || text("failed", "Something went wrong.")); return; }
        const done = (status) => {
          if (status !== "paid") return;
          haptic("success");
          htmx.ajax("GET", list.dataset.refresh, {target: "#app", swap: "innerHTML"});
        };
        if (tg && tg.openInvoice) tg.openInvoice(body.invoice_link, done);
        else window.open(body.invoice_link, "_blank");
      })
      .catch(() => notify(text("offline", "No connection.")))
      .finally(() => { el.disabled = false; });
  });

  // The trainer's share control (admin/day.html): the start's link from /api/admin/share, then
  // Telegram's share sheet inside Telegram, or the link copied in a plain browser (shown for
  // copying by hand where the clipboard is refused).
  document.addEventListener("click", (e) => {
    const el = e.target.closest("[data-action=share]");
    if (!el || el.disabled) return;
    const done = el.parentNode.querySelector("[data-share-done]");
    el.disabled = true;
    fetch(el.dataset.shareUrl, {headers: {Authorization: "tma " + initData()}})
      .then((r) => r.json().then((body) => ({ok: r.ok, body})))
      .then(({ok, body}) => {
        if (!ok) { notify(body.message || text("failed", "Something went wrong.")); return; }
        el.dataset.sharedUrl = body.url;
        if (tg && tg.initData && tg.openTelegramLink) {
          tg.openTelegramLink("https://t.me/share/url?url=" + encodeURIComponent(body.url) +
            "&text=" + encodeURIComponent(el.dataset.shareText || ""));
          return;
        }
        const show = (copied) => {
          if (!done) return;
          done.textContent = copied ? done.dataset.copied : body.url;
          done.dataset.shareDone = copied ? "copied" : "shown";
          done.hidden = false;
          if (copied) haptic("success");
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(body.url).then(() => show(true), () => show(false));
        } else show(false);
      })
      .catch(() => notify(text("offline", "No connection.")))
      .finally(() => { el.disabled = false; });
  });

  // Telegram shows its loading placeholder until the app says web_app_ready: said once, after
  // the first frame (the grid is on the screen then), by Telegram's script if it is here, or
  // else straight through the bridge Telegram's apps put in the page, as that script would
  // (core.telegram.org/api/web-events): the script may land much later on a cold connection.
  let painted = false, readySaid = false;
  const bridge = (type) => {
    const proxy = window.TelegramWebviewProxy;
    try {
      if (proxy && proxy.postEvent) proxy.postEvent(type, "{}");
      else if (window.parent !== window) window.parent.postMessage(JSON.stringify({eventType: type, eventData: {}}), "https://web.telegram.org");
      else return false;
      return true;
    } catch (e) {
      return false;
    }
  };
  const sayReady = () => {
    if (readySaid || !painted) return;
    if (tg) tg.ready();
    else if (!bridge("web_app_ready")) return;  // no Telegram yet: connect() says it
    readySaid = true;
  };
  requestAnimationFrame(() => setTimeout(() => { painted = true; sayReady(); }));

  // Typed but unsent (a reason, a note): Telegram asks before the app is closed.
  const guardTyped = () => {
    if (!tg || !tg.enableClosingConfirmation) return;
    const typed = [...document.querySelectorAll("textarea")].some((field) => field.value.trim());
    if (typed) tg.enableClosingConfirmation(); else tg.disableClosingConfirmation();
  };
  document.addEventListener("input", (e) => { if (e.target.matches && e.target.matches("textarea")) guardTyped(); });
  document.addEventListener("htmx:afterSettle", guardTyped);

  const connect = () => {
    if (tg || !window.Telegram || !Telegram.WebApp) return;
    tg = Telegram.WebApp;
    // Inside Telegram (init data present) its MainButton / BackButton stand for the sheets'.
    if (tg.initData) document.documentElement.classList.add("tg");
    sayReady();
    tg.expand();
    tg.MainButton.onClick(() => { const c = confirmControl(); if (c) c.click(); });
    tg.BackButton.onClick(() => { const b = backControl(); if (b) b.click(); });
    sync();
  };
  connect();
  const script = q("script[src*='telegram-web-app.js']");
  if (script) script.addEventListener("load", connect);
})();
