// The Mini App's own JS: the auth header, Telegram's buttons, theme and haptics.
// Telegram's script loads async (it must not hold up the first paint of the grid), so it may
// arrive before or after this one: everything that needs Telegram.WebApp waits for connect().
(() => {
  let tg = null;
  const launch = new URLSearchParams(location.hash.slice(1));
  const initData = () => (tg && tg.initData) || launch.get("tgWebAppData") || "";
  const q = (s) => document.querySelector(s);

  if (!window.Telegram) {  // Not (yet) loaded: take the theme from the launch parameters.
    try {
      const theme = JSON.parse(launch.get("tgWebAppThemeParams") || "{}");
      for (const k in theme) document.documentElement.style.setProperty("--tg-theme-" + k.replace(/_/g, "-"), theme[k]);
    } catch (e) { /* a plain browser: the CSS fallbacks apply */ }
  }

  document.addEventListener("htmx:configRequest", (e) => { e.detail.headers.Authorization = "tma " + initData(); });

  const haptic = (kind) => tg && tg.HapticFeedback && tg.HapticFeedback.notificationOccurred(kind);
  document.addEventListener("tg-haptic", (e) => haptic(e.detail.value));

  const failed = () => {
    const notice = q("[data-notice]");
    if (notice) {
      notice.textContent = (q("[data-offline]") || { dataset: {} }).dataset.offline || "No connection.";
      notice.className = "notice error";
      notice.hidden = false;
    }
    haptic("error");
  };
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:responseError", failed);

  const confirmControl = () => q("[data-action=confirm]:not([disabled])");
  const backControl = () => q("[data-sheet] [data-dismiss]") || q("[data-back]") ||
    (q("[data-nav][aria-current=page]:not([data-nav=book])") && q("[data-nav=book]"));
  const sync = () => {
    if (!tg) return;
    const confirm = confirmControl();
    if (confirm) tg.MainButton.setText(confirm.textContent.trim()).show(); else tg.MainButton.hide();
    if (backControl()) tg.BackButton.show(); else tg.BackButton.hide();
  };
  document.addEventListener("htmx:afterSettle", sync);

  document.addEventListener("click", (e) => {
    const el = e.target.closest(
      "[data-dismiss],[data-date],[data-slot-start],[data-join-start],a[data-external],[data-share-phone]");
    if (!el) return;
    if (el.matches("[data-share-phone]")) {
      // Telegram's own popup; its signed answer goes to the server, which checks it.
      if (tg && tg.isVersionAtLeast && tg.isVersionAtLeast("6.9")) tg.requestContact((ok, result) => {
        if (!ok || !result || !result.response) return;
        el.setAttribute("hx-vals", JSON.stringify({response: result.response}));
        htmx.trigger(el, "contact");
      });
    } else if (el.matches("[data-dismiss]")) {
      el.closest("[data-sheet]").remove();
      sync();
    } else if (el.matches("a[data-external]")) {
      // A chat (the trainer's contact) opens inside Telegram; anything else in the browser.
      const chat = el.href.startsWith("https://t.me/");
      if (chat && tg && tg.openTelegramLink) { e.preventDefault(); tg.openTelegramLink(el.href); }
      else if (tg && tg.openLink && !el.href.startsWith("tg:")) { e.preventDefault(); tg.openLink(el.href); }
    } else {
      for (const other of (el.closest(".grid") || el.parentNode).querySelectorAll("[aria-current=true]")) other.removeAttribute("aria-current");
      el.setAttribute("aria-current", "true");
    }
  });

  const connect = () => {
    if (tg || !window.Telegram || !Telegram.WebApp) return;
    tg = Telegram.WebApp;
    tg.ready();  // Telegram hides its placeholder: the grid is already on the page
    tg.expand();
    tg.MainButton.onClick(() => { const c = confirmControl(); if (c) c.click(); });
    tg.BackButton.onClick(() => { const b = backControl(); if (b) b.click(); });
    sync();
  };
  connect();
  const script = q("script[src*='telegram-web-app.js']");
  if (script) script.addEventListener("load", connect);
})();
