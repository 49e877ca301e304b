// Knowledge base page: drag-and-drop (or pick) several files, upload them, refresh the list.
(function () {
  const zone = document.querySelector("[data-dropzone]");
  if (!zone) return;
  const input = document.getElementById("kb-files");
  const notice = zone.querySelector("[data-upload-notice]");
  const csrf = TP.csrf();

  async function send(files) {
    if (!files.length) return;
    const body = new FormData();
    for (const f of files) body.append("files", f, f.name);
    notice.textContent = `Uploading ${files.length} file(s)…`;
    notice.classList.remove("alert");
    const res = await fetch(`/api/v1/gpt/bots/${zone.dataset.bot}/documents`,
      { method: "POST", body, headers: { "x-csrf-token": csrf } });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      // Shown as an error (the alert style), not as one more line of progress.
      notice.textContent = (data.error && data.error.message) || "Upload failed.";
      notice.classList.add("alert");
    } else {
      const dup = data.filter((d) => d.duplicate);
      const same = dup.map((d) => d.uploaded_as === d.filename
        ? `${d.filename} is already here`
        : `${d.uploaded_as} is the same file as ${d.filename}`);
      notice.textContent = `${data.length} file(s) received` + (same.length ? ` (${same.join("; ")})` : "") + ".";
    }
    htmx.trigger("#kb-list", "refresh");
  }

  // Screen readers hear how ingestion goes from one live line, told only when it changes
  // (the list itself is redrawn every second while files are being read).
  const summary = document.querySelector("[data-kb-summary]");
  function summarise() {
    const now = document.querySelector("#kb-list [data-summary]");
    if (now && summary.textContent !== now.dataset.summary) summary.textContent = now.dataset.summary;
  }
  document.body.addEventListener("htmx:afterSwap", summarise);
  summarise();

  input.addEventListener("change", () => { send([...input.files]); input.value = ""; });
  // An admin's word on a document's edition: replaced by another, current, or as it says.
  document.getElementById("kb-list").addEventListener("change", (e) => {
    const select = e.target.closest("[data-replacement]");
    if (!select) return;
    const v = select.value;
    const body = v === "auto" ? { automatic: true } : { replaced_by: v === "current" ? null : v };
    TP.json("PUT", `/api/v1/gpt/documents/${select.dataset.replacement}/replacement`, body)
      .then(() => { notice.textContent = "Saved."; })
      .catch((err) => { notice.textContent = err.message; })
      .finally(() => htmx.trigger("#kb-list", "refresh"));
  });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    send([...e.dataTransfer.files]);
  });
})();

// SharePoint sources: find a site, then take its pages, or a library or a folder in one
// (through the picker Image Pro's tabs use); the list shows each source's state live.
(function () {
  const box = document.querySelector("[data-sources]");
  if (!box) return;
  const dialog = box.querySelector("[data-source-picker]");
  const list = dialog.querySelector("[data-picker-list]");
  const path = dialog.querySelector("[data-picker-path]");
  const more = dialog.querySelector("[data-picker-more]");
  const use = dialog.querySelector("[data-picker-use]");
  const form = dialog.querySelector("[data-site-search]");

  function add(body) {
    path.textContent = "Connecting…";
    TP.json("POST", `/api/v1/gpt/bots/${box.dataset.bot}/sources`, body).then(() => {
      dialog.close();
      htmx.trigger("#kb-list", "refresh");
    }).catch((err) => { path.textContent = err.message; });
  }
  function entry(label, onClick) {
    const li = document.createElement("li"), b = document.createElement("button");
    b.type = "button"; b.className = "btn link"; b.textContent = label;
    b.addEventListener("click", onClick);
    li.append(b); list.append(li);
  }
  // Each step (a search, a site) answers only if it is still the last one asked: a search
  // answered late had replaced the site's libraries the person was already looking at.
  let asked = 0;
  function site(s) {
    const mine = ++asked;
    path.textContent = s.name;
    more.hidden = true; use.hidden = true;
    TP.json("GET", `/api/v1/graph/sites/${encodeURIComponent(s.id)}/drives`).then((page) => {
      if (mine !== asked) return;
      list.replaceChildren();
      entry(`📰 Pages of ${s.name}`, () => add({ kind: "pages", site_id: s.id }));
      page.value.forEach((d) => entry(`📚 ${d.name}`, () => {
        TP.drivePicker(dialog, {
          root: `${s.name} / ${d.name}`,
          url: (folder, link) => `/api/v1/graph/drives/${encodeURIComponent(d.id)}/children?folder=${encodeURIComponent(folder)}`
            + (link ? `&next=${encodeURIComponent(link)}` : ""),
          folder: (folder) => add({ kind: "drive", site_id: s.id, drive_id: d.id, folder }),
        }).open("");
      }));
    }).catch((err) => { if (mine === asked) list.textContent = err.message; });
  }
  function search(q) {
    const mine = ++asked;
    path.textContent = "Sites";
    more.hidden = true; use.hidden = true;
    TP.json("GET", `/api/v1/graph/sites?search=${encodeURIComponent(q || "*")}`).then((page) => {
      if (mine !== asked) return;
      list.replaceChildren();
      if (!page.value.length) list.textContent = "No site of that name.";
      page.value.forEach((s) => entry(`🌐 ${s.name}`, () => site(s)));
    }).catch((err) => { if (mine === asked) list.textContent = err.message; });
  }
  const adder = box.querySelector("[data-source-add]");  // absent without a Microsoft sign-in
  if (adder) {
    adder.addEventListener("click", () => { dialog.showModal(); search(""); });
    adder.disabled = false;  // enabled once it works: a click before the script ran did nothing
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); search(form.q.value.trim()); });
  dialog.querySelector("[data-picker-close]").addEventListener("click", () => dialog.close());
})();
