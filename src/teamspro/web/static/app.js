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
