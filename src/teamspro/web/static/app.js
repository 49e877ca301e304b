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

// Behaviour that pages declare with data attributes: the Content-Security-Policy runs no
// inline script, so no onclick="…" or hx-on.
(function () {
  document.addEventListener("click", (e) => {
    const ask = e.target.closest("[data-confirm]");
    if (ask && !confirm(ask.dataset.confirm)) e.preventDefault();
  });
  document.addEventListener("change", (e) => {
    if (e.target.matches("[data-autosubmit]")) e.target.form.requestSubmit();
  });
  document.addEventListener("htmx:afterRequest", (e) => {
    const target = e.detail.elt.closest("[data-refresh]");
    if (target && window.htmx) window.htmx.trigger(target.dataset.refresh, "refresh");
  });
})();
