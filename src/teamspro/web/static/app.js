// Shared page behaviour. Loaded in <head> without defer so the theme and the Teams frame are
// known before the first paint.
window.TP = window.TP || {};
// The interface's messages in the page's language (/i18n/<lang>.js, loaded before this file,
// sets TEAMSPRO_I18N from the same catalogue as the pages), with %(name)s variables.
TP.t = function (message, vars) {
  var text = (window.TEAMSPRO_I18N || {})[message] || message;
  if (!vars) return text;
  return text.replace(/%\((\w+)\)s/g, function (m, k) { return k in vars ? String(vars[k]) : m; });
};
// The session's CSRF token, which the layout puts in htmx's headers, for fetch() calls.
TP.csrf = () => {
  try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
  catch (e) { return ""; }
};

// Inside Teams (a tab in the desktop or web client, or the mobile app) Teams draws its own
// header and app bar, so ours are hidden (see .in-teams in app.css).
(function () {
  var framed = false;
  try { framed = window.self !== window.top; } catch (e) { framed = true; }
  var inTeams = framed || /\bTeams\//.test(navigator.userAgent);
  TP.inTeams = inTeams;
  if (inTeams) document.documentElement.classList.add("in-teams");

  // TeamsJS, from our own copy and only where Teams is there to answer it: outside Teams it
  // would wait for a host that never replies, and it asks Microsoft's CDN for Teams' origins.
  var loading = null;
  TP.teams = function () {
    if (!inTeams) return Promise.resolve(null);
    if (!loading) loading = new Promise(function (resolve) {
      if (window.microsoftTeams) { resolve(window.microsoftTeams); return; }
      var s = document.createElement("script");
      s.src = "/static/vendor/teams-js-2.58.0.min.js";
      s.onload = function () { resolve(window.microsoftTeams || null); };
      s.onerror = function () { resolve(null); };
      document.head.append(s);
    });
    return loading;
  };

  // Teams' own locale comes before the browser's (core/i18n): kept in a cookie the server
  // reads, and the page drawn again once if it was drawn in another language.
  if (inTeams) TP.teams().then(function (teams) {
    if (!teams) return null;
    return teams.app.initialize().then(function () { return teams.app.getContext(); }).then(function (ctx) {
      var locale = ctx && ctx.app && ctx.app.locale;
      if (!locale || !/^[A-Za-z-]{2,16}$/.test(locale)) return;
      var had = (document.cookie.match(/(?:^|; )teamspro_teams_locale=([^;]*)/) || [])[1];
      document.cookie = "teamspro_teams_locale=" + locale + "; path=/; SameSite=None" + (location.protocol === "https:" ? "; Secure" : "");
      var lang = locale.split("-")[0].toLowerCase();
      if (had !== locale && lang !== document.documentElement.lang && (window.TEAMSPRO_LANGUAGES || []).indexOf(lang) >= 0) location.reload();
    });
  }).catch(function () {});
})();

// Theme toggle: follows the system until the person picks one, then remembers it.
(function () {
  const saved = localStorage.getItem("teamspro-theme");
  if (saved) document.documentElement.dataset.theme = saved;
  document.addEventListener("click", (e) => {
    const t = e.target.closest("[data-toggle-theme]");
    if (!t) return;
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    const now = document.documentElement.dataset.theme || (dark ? "dark" : "light");
    const next = now === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("teamspro-theme", next);
  });
})();

// Dialogs of our own in place of confirm() and prompt(): Teams blocks the browser's, and
// these are styled, labelled and keyboard-operable. Both answer with a promise.
(function () {
  function ask(message, options) {
    return new Promise((resolve) => {
      const dialog = document.createElement("dialog");
      dialog.className = "ask card";
      const form = document.createElement("form");
      form.method = "dialog";
      const text = document.createElement("p");
      text.id = "ask-" + Math.random().toString(36).slice(2);
      text.textContent = message;
      dialog.setAttribute("aria-labelledby", text.id);
      form.append(text);
      let input = null;
      if (options.prompt) {
        input = document.createElement("input");
        input.value = options.value || "";
        input.setAttribute("aria-labelledby", text.id);
        input.required = true;
        input.maxLength = options.maxLength || 500;
        form.append(input);
      }
      const row = document.createElement("p");
      row.className = "actions";
      const ok = document.createElement("button");
      ok.className = "btn " + (options.danger ? "primary danger-fill" : "primary");
      ok.value = "ok";
      ok.textContent = options.ok || TP.t("OK");
      row.append(ok);
      if (!options.alert) {
        const cancel = document.createElement("button");
        cancel.className = "btn";
        cancel.value = "cancel";
        cancel.type = "button";
        cancel.textContent = TP.t("Cancel");
        cancel.onclick = () => dialog.close("cancel");
        row.append(cancel);
      }
      form.append(row);
      dialog.append(form);
      document.body.append(dialog);
      dialog.addEventListener("close", () => {
        const yes = dialog.returnValue === "ok";
        dialog.remove();
        resolve(options.prompt ? (yes ? input.value.trim() || null : null) : yes);
      });
      dialog.showModal();
      (input || ok).focus();
      if (input) input.select();
    });
  }
  TP.confirm = (message, options) => ask(message, { ...(options || {}) });
  TP.alert = (message) => ask(message, { alert: true });
  TP.prompt = (message, value, options) => ask(message, { ...(options || {}), prompt: true, value });
})();

// JSON over fetch with the session's CSRF token; rejects with the API's error message.
TP.json = function (method, url, body) {
  var init = { method: method, headers: { "X-CSRF-Token": TP.csrf() }, credentials: "same-origin" };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  return fetch(url, init).then(function (r) {
    if (r.status === 204) return null;
    return r.json().catch(function () { return {}; }).then(function (data) {
      if (!r.ok) throw new Error((data.error && data.error.message) || r.statusText);
      return data;
    });
  });
};

// The SharePoint picker both apps use: a folder of a library, page by page, in a <dialog>
// holding [data-picker-list], [data-picker-more], optional [data-picker-path] and
// [data-picker-use]. options.url(folder, next) gives the listing's address; a folder opens;
// options.file(item) takes a file (omit it to list folders only); options.folder(path)
// takes the folder shown ("Use this folder").
TP.drivePicker = function (dialog, options) {
  var list = dialog.querySelector("[data-picker-list]"), more = dialog.querySelector("[data-picker-more]");
  var path = dialog.querySelector("[data-picker-path]"), use = dialog.querySelector("[data-picker-use]");
  var folder = "", next = null;
  function entry(label, onClick) {
    var li = document.createElement("li"), b = document.createElement("button");
    b.type = "button"; b.className = "btn link"; b.textContent = label;
    b.addEventListener("click", onClick);
    li.append(b); list.append(li);
  }
  function load(at, link) {
    folder = at;
    if (path) path.textContent = (options.root || TP.t("Library")) + (at ? " / " + at.split("/").join(" / ") : "");
    if (use) { use.hidden = !options.folder; use.onclick = function () { options.folder(folder); }; }
    return TP.json("GET", options.url(at, link)).then(function (page) {
      if (!link) {
        list.replaceChildren();
        if (at) entry("⬑ Up", function () { load(at.split("/").slice(0, -1).join("/")); });
      }
      page.value.forEach(function (item) {
        if (item.folder) entry("📁 " + item.name, function () { load((at ? at + "/" : "") + item.name); });
        else if (options.file && (!options.accept || options.accept(item))) entry(item.name, function () { options.file(item); });
      });
      next = page.next; more.hidden = !next;
    }).catch(function (err) { list.textContent = err.message; });
  }
  more.onclick = function () { load(folder, next); };
  return { open: function (at) { return load(at || ""); } };
};

// Behaviour that pages declare with data attributes: the Content-Security-Policy runs no
// inline script, so no onclick="…" or hx-on.
(function () {
  document.addEventListener("click", (e) => {
    const ask = e.target.closest("[data-confirm]");
    if (ask && !ask.dataset.confirmed) {
      e.preventDefault();
      TP.confirm(ask.dataset.confirm, { danger: true, ok: ask.dataset.confirmOk || TP.t("Yes") }).then((yes) => {
        if (!yes) return;
        ask.dataset.confirmed = "1";
        ask.click();
        delete ask.dataset.confirmed;
      });
      return;
    }
    // A real button that opens a hidden file input: keyboard and screen readers reach it.
    const pick = e.target.closest("[data-pick]");
    if (pick) document.getElementById(pick.dataset.pick).click();
    const menu = e.target.closest("[data-drawer-toggle]");
    if (menu) {
      const name = menu.dataset.drawerToggle;
      const open = !document.body.classList.contains(name + "-open");
      document.body.classList.toggle(name + "-open", open);
      document.querySelectorAll(`[data-drawer-toggle="${name}"]`).forEach((b) => b.setAttribute("aria-expanded", String(open)));
      if (open) {
        const first = document.querySelector(`[data-drawer="${name}"] a, [data-drawer="${name}"] input`);
        if (first) first.focus();
      }
    } else if (!e.target.closest("[data-drawer]")) closeDrawers();
    // A menu of actions (the chat header's on a phone) closes once one is chosen.
    else if (e.target.closest('[data-drawer="actions"] .btn')) closeDrawers();
  });
  function closeDrawers() {
    document.body.classList.forEach((c) => { if (c.endsWith("-open")) document.body.classList.remove(c); });
    document.querySelectorAll("[data-drawer-toggle]").forEach((b) => b.setAttribute("aria-expanded", "false"));
  }
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeDrawers(); });
  document.addEventListener("htmx:confirm", (e) => {
    if (!e.detail.question) return;
    e.preventDefault();
    TP.confirm(e.detail.question, { danger: true, ok: TP.t("Yes") }).then((yes) => { if (yes) e.detail.issueRequest(true); });
  });
  document.addEventListener("change", (e) => {
    if (e.target.matches("[data-autosubmit]")) e.target.form.requestSubmit();
  });
  document.addEventListener("htmx:afterRequest", (e) => {
    const target = e.detail.elt.closest("[data-refresh]");
    if (target && window.htmx) window.htmx.trigger(target.dataset.refresh, "refresh");
  });
})();

// A table wider than the screen scrolls sideways; keyboard users need to reach it to scroll.
(function () {
  function mark(root) {
    root.querySelectorAll("table").forEach((t) => {
      if (t.scrollWidth > t.clientWidth + 1) {
        t.tabIndex = 0;
        t.setAttribute("role", "region");
        if (!t.hasAttribute("aria-label")) {
          // Named by its caption, else its section's heading: two tables, two names.
          const h = t.querySelector("caption") || t.closest("section, main")?.querySelector("h1, h2");
          t.setAttribute("aria-label", (h ? h.textContent.trim() + ": " : "") + "table, scrolls sideways");
        }
      }
    });
  }
  document.addEventListener("DOMContentLoaded", () => mark(document));
  document.addEventListener("htmx:afterSwap", (e) => mark(e.detail.target));
})();

// Avatars are emoji; a machine without a colour emoji font draws an empty box. Such avatars
// show the name's initial instead, and an emoji beside a name is hidden (a monochrome
// rendering is how a missing glyph looks).
(function () {
  let colour = null;
  function emojiDrawn(text) {
    const c = document.createElement("canvas");
    c.width = c.height = 24;
    const ctx = c.getContext("2d", { willReadFrequently: true });
    ctx.textBaseline = "top";
    ctx.font = "20px sans-serif";
    ctx.fillText(text, 0, 0);
    const d = ctx.getImageData(0, 0, 24, 24).data;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] && (Math.abs(d[i] - d[i + 1]) > 20 || Math.abs(d[i + 1] - d[i + 2]) > 20)) return true;
    return false;
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".avatar[data-initials], [data-emoji]").forEach((a) => {
      if (!/\p{Extended_Pictographic}/u.test(a.textContent)) return;
      if (colour === null) colour = emojiDrawn("😀");
      if (colour) return;
      // An avatar shows the initial; an emoji beside a name (a heading) is left out.
      if (a.dataset.initials) { a.textContent = a.dataset.initials; a.classList.add("initials"); } else a.hidden = true;
    });
  });
})();
