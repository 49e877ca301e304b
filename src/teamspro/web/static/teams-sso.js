// Inside a Teams tab the provider's sign-in pages cannot open in the frame: ask Teams for the
// person's token (getAuthToken) and trade it for a session, then go where they were going.
(function () {
  "use strict";
  var me = document.currentScript;
  document.addEventListener("DOMContentLoaded", function () {
    window.TP.teams().then(function (teams) {
      if (!teams) return;  // a plain browser: the page as it is
      var status = document.querySelector("[data-sso-status]");
      status.hidden = false;
      status.textContent = "Signing you in with Teams…";
      return teams.app.initialize()
      .then(function () { return teams.authentication.getAuthToken(); })
      .then(function (token) {
        return fetch("/auth/teams/sso", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ provider: me.dataset.provider, token: token })
        });
      })
      .then(function (r) {
        if (!r.ok) throw new Error("Teams sign-in was refused (" + r.status + ").");
        location.href = me.dataset.next || "/";
      })
      .catch(function (e) { status.textContent = e.message || String(e); });
    });
  });
})();
