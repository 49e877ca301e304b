// GPT Pro chat: streams answers from the SSE endpoint and renders their Markdown as it comes
// (marked, then DOMPurify; the server's sanitised HTML replaces it at the end), with Stop,
// regenerate (earlier answers kept, switchable), edit-and-resend of the last question, copy,
// feedback, code highlighting and clickable [n] citations.
(function () {
  const root = document.querySelector("[data-chat]");
  if (!root) return;
  const botId = root.dataset.bot;
  let convId = root.dataset.conversation || null;
  const csrf = TP.csrf();
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

  function button(label, cls, onclick) {
    const b = el("button", "btn link" + (cls ? " " + cls : ""), label);
    b.type = "button";
    b.onclick = onclick;
    return b;
  }

  // Follow the answer while the person is at the bottom; leave them where they scrolled to.
  function nearBottom() { return list.scrollHeight - list.scrollTop - list.clientHeight < 80; }
  function toBottom() { list.scrollTop = list.scrollHeight; }

  // Markdown while it streams, as the server will render it: no raw HTML, [n] as citations.
  function markdown(raw) {
    if (!window.marked || !window.DOMPurify) return null;
    const html = window.marked.parse(raw, { gfm: true, async: false })
      .replace(/\[(\d{1,3})\]/g, '<sup class="cite" data-n="$1">[$1]</sup>');
    return window.DOMPurify.sanitize(html, { FORBID_TAGS: ["img", "style", "form", "input"] });
  }

  function highlight(bubble) {
    bubble.querySelectorAll("pre > code").forEach((code) => {
      const pre = code.parentElement;
      if (pre.dataset.done) return;
      pre.dataset.done = "1";
      if (window.hljs) {
        try { window.hljs.highlightElement(code); } catch (e) { /* unknown language: plain */ }
      }
      const copy = button(TP.t("Copy code"), "copy-code", async () => {
        try { await navigator.clipboard.writeText(code.textContent); notice.textContent = TP.t("Code copied."); }
        catch { notice.textContent = TP.t("Copy is not allowed here."); }
      });
      pre.classList.add("has-copy");
      pre.prepend(copy);
    });
  }

  function citationsOf(msg) {
    try { return JSON.parse(msg.dataset.citations || "[]"); } catch { return []; }
  }

  // [n] in an answer: a button that shows the passage, where it comes from and a link to it.
  function citeMarkers(msg) {
    const byN = new Map(citationsOf(msg).map((c) => [String(c.n), c]));
    msg.querySelectorAll(".bubble sup.cite").forEach((sup) => {
      const c = byN.get(sup.dataset.n);
      if (!c || sup.dataset.ready) return;
      sup.dataset.ready = "1";
      sup.tabIndex = 0;
      sup.setAttribute("role", "button");
      sup.setAttribute("aria-expanded", "false");
      sup.setAttribute("aria-label", `Source ${c.n}: ${c.title}`);
      const show = () => {
        const open = msg.querySelector(`.cite-pop[data-n="${c.n}"]`);
        msg.querySelectorAll(".cite-pop").forEach((p) => p.remove());
        msg.querySelectorAll("sup.cite").forEach((s) => s.setAttribute("aria-expanded", "false"));
        if (open) return;
        const pop = el("div", "cite-pop");
        pop.dataset.n = c.n;
        pop.dataset.testid = "citation-passage";
        const place = [c.title, c.heading].filter(Boolean).join(" › ") + (c.page ? `, page ${c.page}` : "");
        pop.append(el("strong", "", `[${c.n}] ${place}`), el("p", "", c.snippet || ""));
        const link = el("a", "", TP.t("Open the document"));
        link.href = c.url; link.target = "_blank"; link.rel = "noopener";
        pop.append(link);
        msg.querySelector(".bubble").after(pop);
        sup.setAttribute("aria-expanded", "true");
        // Opened under a long answer, the passage may be below the fold: brought into view.
        pop.scrollIntoView({ block: "nearest" });
      };
      sup.addEventListener("click", show);
      sup.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); show(); } });
    });
  }

  function addSources(msg, citations) {
    msg.dataset.citations = JSON.stringify(citations);
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
    const label = { stopped: TP.t("Stopped"), interrupted: TP.t("Interrupted: "), failed: TP.t("Failed: ") }[status] || status;
    line.textContent = label + (error || "");
  }

  function lastAnswers() {
    const all = list.querySelectorAll("[data-answers]");
    return all.length ? all[all.length - 1] : null;
  }

  function visibleAnswer(box) { return [...box.querySelectorAll(":scope > .msg.bot")].find((m) => !m.hidden); }

  // The action bar of an answer: copy, like, dislike (with a comment), regenerate on the last
  // one, and "‹ 2 / 3 ›" when regenerating kept earlier answers. Empty answers get none but
  // Regenerate.
  function decorate(msg) {
    msg.querySelector(".msg-actions")?.remove();
    const bar = el("div", "msg-actions");
    const box = msg.parentElement;
    const siblings = [...box.querySelectorAll(":scope > .msg.bot")];
    if (siblings.length > 1) {
      const at = siblings.indexOf(msg);
      const nav = el("span", "alternatives");
      const prev = button("‹", "", () => switchTo(box, at - 1));
      prev.setAttribute("aria-label", TP.t("Previous answer"));
      prev.disabled = at === 0;
      const next = button("›", "", () => switchTo(box, at + 1));
      next.setAttribute("aria-label", TP.t("Next answer"));
      next.disabled = at === siblings.length - 1;
      const where = el("span", "small", `${at + 1} / ${siblings.length}`);
      where.dataset.testid = "answer-position";
      nav.append(prev, where, next);
      bar.append(nav);
    }
    const raw = msg.dataset.raw || "";
    if (raw.trim()) {
      const copy = button(TP.t("Copy"), "", async () => {
        try { await navigator.clipboard.writeText(raw); notice.textContent = TP.t("Copied."); }
        catch { notice.textContent = TP.t("Copy is not allowed here."); }
      });
      copy.title = TP.t("Copy the answer");
      const like = button("", "", () => send(1));
      like.innerHTML = THUMB;
      like.setAttribute("aria-label", TP.t("Like"));
      const dislike = button("", "flip", () => {
        if (msg.querySelector(".feedback-form")) return;
        const fb = el("form", "feedback-form inline");
        const area = el("input");
        area.placeholder = TP.t("What was wrong? (optional)");
        area.setAttribute("aria-label", TP.t("Feedback comment"));
        const ok = el("button", "btn", TP.t("Send feedback"));
        fb.append(area, ok);
        fb.onsubmit = (e) => { e.preventDefault(); send(-1, area.value); fb.remove(); };
        msg.append(fb);
        area.focus();
      });
      dislike.innerHTML = THUMB;
      dislike.setAttribute("aria-label", TP.t("Dislike"));
      const shown = (rating) => {
        like.classList.toggle("chosen", rating > 0);
        like.setAttribute("aria-pressed", String(rating > 0));
        dislike.classList.toggle("chosen", rating < 0);
        dislike.setAttribute("aria-pressed", String(rating < 0));
      };
      const send = async (rating, comment) => {
        const res = await api(`/api/v1/gpt/messages/${msg.dataset.id}/feedback`, "PUT", { rating, comment: comment || "" });
        if (res.ok) { msg.dataset.rating = String(rating); shown(rating); notice.textContent = TP.t("Thanks for the feedback."); }
      };
      shown(Number(msg.dataset.rating || 0));
      bar.append(copy, like, dislike);
    }
    if (box === lastAnswers()) {
      const regen = button(TP.t("Regenerate"), "", () => run("", "regenerate"));
      regen.dataset.regenerate = "";
      regen.disabled = !!controller;
      bar.append(regen);
    }
    if (bar.childElementCount) msg.append(bar);
  }

  function switchTo(box, index) {
    const siblings = [...box.querySelectorAll(":scope > .msg.bot")];
    if (index < 0 || index >= siblings.length) return;
    siblings.forEach((m, i) => { m.hidden = i !== index; m.querySelector(".msg-actions")?.remove(); });
    decorate(siblings[index]);
    siblings[index].querySelector(".alternatives button:not(:disabled)")?.focus();
  }

  // Edit and resend the last question: it and its answers are replaced.
  function editable() {
    list.querySelectorAll(".msg.user [data-edit]").forEach((b) => b.remove());
    const users = list.querySelectorAll(".msg.user");
    const last = users[users.length - 1];
    if (!last || !convId) return;
    const edit = button(TP.t("Edit"), "edit-question", () => {
      if (controller || last.querySelector("form")) return;
      const bubble = last.querySelector(".bubble");
      const fb = el("form", "edit-form");
      const area = el("textarea");
      area.value = bubble.textContent;
      area.rows = 3;
      area.maxLength = 20000;
      area.setAttribute("aria-label", TP.t("Edit your question"));
      const ok = el("button", "btn primary", TP.t("Send"));
      const cancel = button(TP.t("Cancel"), "", () => { fb.remove(); bubble.hidden = false; edit.hidden = false; edit.focus(); });
      fb.append(area, el("span", "actions"));
      fb.lastChild.append(ok, cancel);
      fb.onsubmit = (e) => {
        e.preventDefault();
        const text = area.value.trim();
        if (!text || controller) return;
        last.nextElementSibling?.matches("[data-answers]") && last.nextElementSibling.remove();
        last.remove();
        run(text, "edit");
      };
      bubble.hidden = true;
      edit.hidden = true;
      last.append(fb);
      area.focus();
    });
    edit.dataset.edit = "";
    edit.disabled = !!controller;
    last.append(edit);
  }

  function busy(on) {
    stopBtn.hidden = !on;
    sendBtn.disabled = on;
    root.querySelectorAll("[data-starter], [data-regenerate], [data-edit]").forEach((b) => { b.disabled = on; });
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

  // The first message of a new conversation: it joins the sidebar under Today and the
  // conversation's actions appear, without a reload.
  function adopt(id, text) {
    convId = id;
    root.dataset.conversation = id;
    history.replaceState(null, "", `/gpt/bots/${botId}/c/${id}`);
    const nav = root.querySelector("[data-conv-list]");
    nav.querySelector("[data-no-conversations]")?.remove();
    nav.querySelectorAll("a.active").forEach((a) => { a.classList.remove("active"); a.removeAttribute("aria-current"); });
    let today = [...nav.querySelectorAll("[data-day]")].find((h) => h.dataset.day === TP.t("Today"));
    if (!today) {
      today = el("h2", "conv-day", TP.t("Today"));
      today.dataset.day = TP.t("Today");
      nav.prepend(today);
    }
    const link = el("a", "active", text.slice(0, 60) || TP.t("New conversation"));
    link.href = `/gpt/bots/${botId}/c/${id}`;
    link.dataset.testid = "conversation";
    link.setAttribute("aria-current", "page");
    today.after(link);
    const actions = root.querySelector("[data-conv-actions]");
    actions.hidden = false;
    root.querySelector("[data-more]").hidden = false;  // the phone's menu now has them
    actions.querySelectorAll("[data-export]").forEach((a) => {
      a.href = `/api/v1/gpt/conversations/${id}/export?format=${a.dataset.export}`;
    });
    actions.querySelector("[data-rename]").dataset.title = link.textContent;
  }

  // mode: "new", "regenerate" (answer the last question again) or "edit" (replace it).
  async function run(text, mode) {
    list.querySelector("[data-welcome]")?.remove();
    let box;
    if (mode === "regenerate") {
      box = lastAnswers();
      box.querySelectorAll(":scope > .msg.bot").forEach((m) => { m.hidden = true; m.querySelector(".msg-actions")?.remove(); });
    } else {
      const user = el("div", "msg user");
      user.append(el("div", "bubble", text));
      box = el("div", "answers");
      box.dataset.answers = "";
      list.append(user, box);
    }
    const msg = el("div", "msg bot");
    msg.setAttribute("aria-busy", "true");
    const bubble = el("div", "bubble md streaming");
    msg.append(bubble);
    box.append(msg);
    toBottom();
    let raw = "";
    let frame = 0;
    const paint = () => {
      frame = 0;
      const follow = nearBottom();
      const html = markdown(raw);
      // Line breaks kept only for plain text: over rendered HTML, pre-wrap turned the new
      // lines between list items into blank lines, which closed up when the answer ended.
      bubble.classList.toggle("plain", html === null);
      if (html === null) bubble.textContent = raw;
      else { bubble.innerHTML = html; highlight(bubble); }
      if (follow) toBottom();
    };
    controller = new AbortController();
    busy(true);
    notice.textContent = "";
    try {
      const res = await api(`/api/v1/gpt/bots/${botId}/chat`, "POST",
        { message: text, conversation_id: convId, regenerate: mode === "regenerate", edit: mode === "edit", time_zone: zone },
        controller.signal);
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        msg.remove();
        if (mode === "regenerate") { const prev = box.querySelectorAll(".msg.bot"); if (prev.length) prev[prev.length - 1].hidden = false; }
        else { box.previousElementSibling.remove(); box.remove(); input.value = text; }
        notice.textContent = (body.error && body.error.message) || TP.t("The message could not be sent.");
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
            if (!convId) adopt(data.conversation_id, data.title || text);
          } else if (kind === "delta") {
            raw += data.text;
            if (!frame) frame = requestAnimationFrame(paint);
          } else if (kind === "tool") {
            msg.insertBefore(toolCall(data), bubble);
          } else if (kind === "error") {
            notice.textContent = data.message + (data.retryable ? " Use Regenerate to try again." : "");
          } else if (kind === "done") {
            if (frame) { cancelAnimationFrame(frame); frame = 0; }
            bubble.innerHTML = data.html;
            addSources(msg, data.citations || []);
            if (data.knowledge === "nothing_found") {
              // Searched, and nothing in the knowledge base answers: said plainly, apart.
              const note = el("p", "badge off", TP.t("Not found in the knowledge base"));
              note.dataset.testid = "not-in-knowledge";
              msg.querySelector(".bubble").after(note);
            }
            setStatus(msg, data.status, data.error);
          }
        }
      }
    } catch (err) {
      if (frame) { cancelAnimationFrame(frame); paint(); }
      if (err.name === "AbortError") setStatus(msg, "stopped");
      else { setStatus(msg, "interrupted", "the connection was lost."); }
    } finally {
      bubble.classList.remove("streaming", "plain");
      msg.removeAttribute("aria-busy");
      msg.dataset.raw = raw;
      controller = null;
      if (msg.isConnected && msg.dataset.id) {
        highlight(bubble);
        citeMarkers(msg);
        list.querySelectorAll("[data-answers]").forEach((b) => { const v = visibleAnswer(b); if (v) decorate(v); });
        editable();
      }
      busy(false);
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || controller) return;
    input.value = "";
    run(text, "new");
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  // The composer grows with what is typed, up to a third of the screen, then scrolls.
  const grow = () => {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, Math.round(window.innerHeight / 3)) + "px";
  };
  input.addEventListener("input", grow);
  form.addEventListener("submit", () => requestAnimationFrame(grow));
  // Esc stops an answer being written (as Stop does), unless a dialog or menu takes it.
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && controller && !e.target.closest("dialog")) controller.abort();
  });
  // Send comes disabled from the server: pressed before this script ran, the form would be
  // submitted by the browser itself (the page reloaded, the question lost).
  sendBtn.disabled = false;
  stopBtn.addEventListener("click", () => controller && controller.abort());
  // Starters come disabled from the server: a tap before this script runs would do nothing.
  root.querySelectorAll("[data-starter]").forEach((b) => {
    b.addEventListener("click", () => { if (!controller) run(b.textContent, "new"); });
    b.disabled = false;
  });
  list.querySelectorAll(".msg.bot").forEach((m) => { highlight(m.querySelector(".bubble")); citeMarkers(m); });
  list.querySelectorAll("[data-answers]").forEach((b) => { const v = visibleAnswer(b); if (v) decorate(v); });
  editable();
  toBottom();
  // Ready to type on arrival (not on a touch screen, where focus opens the keyboard over
  // the conversation).
  if (!window.matchMedia("(pointer: coarse)").matches) input.focus({ preventScroll: true });

  const rename = root.querySelector("[data-rename]");
  rename.onclick = async () => {
    const title = await TP.prompt(TP.t("Rename this conversation"), rename.dataset.title, { ok: TP.t("Rename"), maxLength: 200 });
    if (!title) return;
    const res = await api(`/api/v1/gpt/conversations/${convId}`, "PATCH", { title });
    if (res.ok) {
      rename.dataset.title = title;
      const link = root.querySelector("[data-conv-list] a.active");
      if (link) link.textContent = title;
      notice.textContent = TP.t("Renamed.");
    }
  };
  root.querySelector("[data-delete]").onclick = async () => {
    if (!(await TP.confirm(TP.t("Delete this conversation?"), { danger: true, ok: TP.t("Delete") }))) return;
    const res = await api(`/api/v1/gpt/conversations/${convId}`, "DELETE");
    if (res.ok) location.href = `/gpt/bots/${botId}`;
  };
})();
