// GPT Pro chat: streams answers from the SSE endpoint, with Stop, regenerate, copy, feedback.
(function () {
  const root = document.querySelector("[data-chat]");
  if (!root) return;
  const botId = root.dataset.bot;
  let convId = root.dataset.conversation || null;
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  const list = root.querySelector("[data-messages]");
  const form = root.querySelector("[data-composer]");
  const input = form.querySelector("textarea");
  const stopBtn = form.querySelector("[data-stop]");
  const sendBtn = form.querySelector("[data-send]");
  const notice = root.querySelector("[data-notice]");
  // The person's time zone (IANA), for tools that tell the time.
  const zone = (Intl.DateTimeFormat().resolvedOptions().timeZone || "").slice(0, 64) || null;
  let controller = null;
  // An icon rather than an emoji: not every machine has a colour emoji font.
  const THUMB = '<svg viewBox="0 0 24 24" width="16" height="16" fill="currentColor" aria-hidden="true"><path d="M2 21h4V9H2zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6V3a1.5 1.5 0 0 0-.4-1L13.2 1 7.6 6.6A2 2 0 0 0 7 8v11a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7z"/></svg>';

  const api = (url, method, body, signal) => fetch(url, {
    method, headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body), signal,
  });

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function addUser(text) {
    const msg = el("div", "msg user");
    msg.append(el("div", "bubble", text));
    list.append(msg);
    return msg;
  }

  function addSources(msg, citations) {
    if (!citations.length) return;
    const box = el("div", "sources");
    box.dataset.testid = "sources";
    for (const c of citations) {
      const place = c.heading ? `${c.title} › ${c.heading}` : c.title;
      const link = el("a", "", `[${c.n}] ${place}` + (c.page ? `, page ${c.page}` : ""));
      link.href = c.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.dataset.testid = "citation";
      link.append(el("span", "snippet", c.snippet || ""));
      box.append(link);
    }
    msg.querySelector(".bubble").after(box);
  }

  function setStatus(msg, status, error) {
    msg.dataset.status = status;
    let line = msg.querySelector(".status");
    if (status === "complete") { if (line) line.remove(); return; }
    if (!line) { line = el("div", "status"); line.dataset.testid = "message-status"; msg.append(line); }
    line.className = "status " + status;
    const label = { stopped: "Stopped", interrupted: "Interrupted: ", failed: "Failed: " }[status] || status;
    line.textContent = label + (error || "");
  }

  function decorate(msg) {
    if (msg.querySelector(".msg-actions")) return;
    const bar = el("div", "msg-actions");
    const copy = el("button", "btn link", "Copy");
    copy.title = "Copy the answer";
    copy.onclick = async () => {
      try { await navigator.clipboard.writeText(msg.dataset.raw || ""); notice.textContent = "Copied."; }
      catch { notice.textContent = "Copy is not allowed here."; }
    };
    const like = el("button", "btn link");
    like.innerHTML = THUMB;
    like.setAttribute("aria-label", "Like");
    const dislike = el("button", "btn link flip");
    dislike.innerHTML = THUMB;
    dislike.setAttribute("aria-label", "Dislike");
    const send = async (rating, comment) => {
      const res = await api(`/api/v1/gpt/messages/${msg.dataset.id}/feedback`, "PUT", { rating, comment: comment || "" });
      if (res.ok) {
        like.classList.toggle("chosen", rating > 0);
        dislike.classList.toggle("chosen", rating < 0);
        notice.textContent = "Thanks for the feedback.";
      }
    };
    like.onclick = () => send(1);
    dislike.onclick = () => {
      if (msg.querySelector(".feedback-form")) return;
      const box = el("form", "feedback-form inline");
      const area = el("input");
      area.placeholder = "What was wrong? (optional)";
      area.setAttribute("aria-label", "Feedback comment");
      const ok = el("button", "btn", "Send feedback");
      box.append(area, ok);
      box.onsubmit = (e) => { e.preventDefault(); send(-1, area.value); box.remove(); };
      msg.append(box);
      area.focus();
    };
    const regen = el("button", "btn link", "Regenerate");
    regen.dataset.regenerate = "";
    regen.onclick = () => { msg.remove(); run("", true); };
    bar.append(copy, like, dislike, regen);
    msg.append(bar);
    refreshRegenerate();
  }

  function refreshRegenerate() {
    const bots = list.querySelectorAll(".msg.bot");
    bots.forEach((m, i) => {
      const b = m.querySelector("[data-regenerate]");
      if (b) b.hidden = i !== bots.length - 1;
    });
  }

  function busy(on) {
    stopBtn.hidden = !on;
    sendBtn.disabled = on;
  }

  // A tool the model called, collapsed: its name and outcome, then arguments and result.
  function toolCall(call) {
    const box = el("details", "tool-call");
    box.setAttribute("data-testid", "tool-call");
    const summary = el("summary");
    summary.textContent = `Used ${call.name}` + (call.status === "ok" ? "" : ` (${call.status})`);
    const body = el("pre");
    body.textContent = `${call.arguments || "{}"}\n→ ${call.result}`;
    box.append(summary, body);
    return box;
  }

  async function run(text, regenerate) {
    const welcome = list.querySelector("[data-welcome]");
    if (welcome) welcome.remove();
    if (!regenerate) addUser(text);
    const msg = el("div", "msg bot");
    const bubble = el("div", "bubble md streaming");
    msg.append(bubble);
    list.append(msg);
    let raw = "";
    controller = new AbortController();
    busy(true);
    notice.textContent = "";
    try {
      const res = await api(`/api/v1/gpt/bots/${botId}/chat`, "POST",
        { message: text, conversation_id: convId, regenerate: !!regenerate, time_zone: zone }, controller.signal);
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        msg.remove();
        if (!regenerate) { list.lastElementChild.remove(); input.value = text; }
        notice.textContent = (body.error && body.error.message) || "The message could not be sent.";
        return;
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const kind = (block.match(/^event: (.*)$/m) || [])[1];
          const data = JSON.parse((block.match(/^data: (.*)$/m) || [])[1] || "{}");
          if (kind === "meta") {
            msg.dataset.id = data.message_id;
            if (!convId) {
              convId = data.conversation_id;
              root.dataset.conversation = convId;
              history.replaceState(null, "", `/gpt/bots/${botId}/c/${convId}`);
            }
          } else if (kind === "delta") {
            raw += data.text;
            bubble.textContent = raw;
            list.scrollTop = list.scrollHeight;
          } else if (kind === "tool") {
            msg.insertBefore(toolCall(data), bubble);
          } else if (kind === "error") {
            notice.textContent = data.message + (data.retryable ? " Use Regenerate to try again." : "");
          } else if (kind === "done") {
            bubble.innerHTML = data.html;
            addSources(msg, data.citations || []);
            setStatus(msg, data.status, data.error);
          }
        }
      }
    } catch (err) {
      if (err.name === "AbortError") setStatus(msg, "stopped");
      else { setStatus(msg, "interrupted", "the connection was lost."); }
    } finally {
      bubble.classList.remove("streaming");
      msg.dataset.raw = raw;
      busy(false);
      controller = null;
      if (msg.isConnected && msg.dataset.id) decorate(msg);
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || controller) return;
    input.value = "";
    run(text, false);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  stopBtn.addEventListener("click", () => controller && controller.abort());
  root.querySelectorAll("[data-starter]").forEach((b) => b.addEventListener("click", () => run(b.textContent, false)));
  list.querySelectorAll(".msg.bot").forEach(decorate);

  const rename = root.querySelector("[data-rename]");
  if (rename) rename.onclick = async () => {
    const title = await TP.prompt("Rename this conversation", rename.dataset.title, { ok: "Rename", maxLength: 200 });
    if (!title) return;
    const res = await api(`/api/v1/gpt/conversations/${convId}`, "PATCH", { title });
    if (res.ok) location.reload();
  };
  const del = root.querySelector("[data-delete]");
  if (del) del.onclick = async () => {
    if (!(await TP.confirm("Delete this conversation?", { danger: true, ok: "Delete" }))) return;
    const res = await api(`/api/v1/gpt/conversations/${convId}`, "DELETE");
    if (res.ok) location.href = `/gpt/bots/${botId}`;
  };
})();
