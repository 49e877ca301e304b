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
    const res = await fetch(`/api/v1/gpt/bots/${zone.dataset.bot}/documents`,
      { method: "POST", body, headers: { "x-csrf-token": csrf } });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      notice.textContent = (data.error && data.error.message) || "Upload failed.";
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
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    send([...e.dataTransfer.files]);
  });
})();
