// GPT Pro set-up pages: "Test connection" on providers, and the bot form's model choices
// (what the chosen provider lists through its API, or what its configuration offers).
(function () {

  async function check(key) {
    const res = await fetch(`/api/v1/gpt/providers/${encodeURIComponent(key)}/test`,
      { method: "POST", headers: { "x-csrf-token": TP.csrf() } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) return { ok: false, error: (body.error && body.error.message) || `The test failed (${res.status}).`, models: [], configured: [] };
    return body;
  }

  function summary(models) {
    const shown = models.slice(0, 8).join(", ");
    return models.length > 8 ? `${shown} and ${models.length - 8} more` : shown;
  }

  document.querySelectorAll("[data-test-provider]").forEach((button) => {
    const out = document.querySelector(`[data-test-result="${button.dataset.testProvider}"]`);
    button.addEventListener("click", async () => {
      button.disabled = true;
      out.className = "small test-result";
      out.textContent = "Testing…";
      const r = await check(button.dataset.testProvider);
      button.disabled = false;
      out.classList.add(r.ok ? "ok" : "bad");
      out.textContent = r.ok
        ? `Connected in ${r.ms} ms: ${r.models.length} model(s)${r.models.length ? ": " + summary(r.models) : ""}.`
        : `Failed: ${r.error}`;
    });
  });

  const select = document.getElementById("provider_key");
  const input = document.getElementById("model");
  if (!select || !input) return;
  const choices = document.getElementById("model-choices");
  const hint = document.querySelector("[data-model-hint]");
  async function offer() {
    choices.replaceChildren();
    hint.textContent = "";
    const option = select.selectedOptions[0];
    if (!option || !option.value) return;
    let models = JSON.parse(option.dataset.models || "[]");
    if (!models.length && input.hasAttribute("data-ask-provider")) {
      hint.textContent = "Asking the provider for its models…";
      const r = await check(option.value);
      if (option !== select.selectedOptions[0]) return;  // changed meanwhile
      if (!r.ok) { hint.textContent = `The provider could not list its models: ${r.error}`; return; }
      models = r.models;
    }
    for (const m of models) { const o = document.createElement("option"); o.value = m; choices.append(o); }
    hint.textContent = models.length ? `${models.length} model(s) offered: pick one or type a deployment name.` : "";
    if (input.value && models.length && !models.includes(input.value)) {
      hint.textContent = `${input.value} is not among the ${models.length} model(s) this provider lists.`;
    }
  }
  select.addEventListener("change", offer);
  offer();
})();
