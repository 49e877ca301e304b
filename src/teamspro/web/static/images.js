// Image Pro pages: library grid (blurhash placeholders, lazy images, filters), uploads,
// properties, versions, the tab page (upload and pin, re-pin, SharePoint picker) and the
// tab configuration page (Teams configurable tab, or a plain browser).
(function () {
  "use strict";


  var api = window.TP.json;
  window.imagesApi = api;

  // Blurhash (https://blurha.sh) decoded to a small canvas, shown until the image loads.
  var B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
  function d83(s) { var v = 0; for (var i = 0; i < s.length; i++) v = v * 83 + B83.indexOf(s[i]); return v; }
  function toLinear(c) { c /= 255; return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }
  function toSrgb(v) {
    v = Math.max(0, Math.min(1, v));
    return Math.round((v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255);
  }
  function signPow(v, e) { return (v < 0 ? -1 : 1) * Math.pow(Math.abs(v), e); }
  function blurhash(hash, w, h) {
    var size = d83(hash[0]), nx = (size % 9) + 1, ny = Math.floor(size / 9) + 1;
    var max = (d83(hash[1]) + 1) / 166, colors = [];
    var dc = d83(hash.substring(2, 6));
    colors.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
    for (var i = 1; i < nx * ny; i++) {
      var v = d83(hash.substring(4 + i * 2, 6 + i * 2));
      colors.push([Math.floor(v / 361), Math.floor(v / 19) % 19, v % 19].map(function (q) {
        return signPow((q - 9) / 9, 2) * max;
      }));
    }
    var canvas = document.createElement("canvas");
    canvas.width = w; canvas.height = h;
    var ctx = canvas.getContext("2d"), img = ctx.createImageData(w, h);
    for (var y = 0; y < h; y++) for (var x = 0; x < w; x++) {
      var r = 0, g = 0, b = 0;
      for (var j = 0; j < ny; j++) for (var k = 0; k < nx; k++) {
        var basis = Math.cos(Math.PI * x * k / w) * Math.cos(Math.PI * y * j / h), c = colors[k + j * nx];
        r += c[0] * basis; g += c[1] * basis; b += c[2] * basis;
      }
      var p = 4 * (x + y * w);
      img.data[p] = toSrgb(r); img.data[p + 1] = toSrgb(g); img.data[p + 2] = toSrgb(b); img.data[p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return canvas.toDataURL();
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function thumb(image, width) {
    var img = el("img");
    img.loading = "lazy";
    img.alt = image.alt_text || image.title || "";
    img.width = width; img.height = Math.round(width * image.height / image.width);
    try { img.style.backgroundImage = "url(" + blurhash(image.blurhash, 32, 32) + ")"; } catch (e) { /* bad hash */ }
    img.src = image.urls.thumbnail;
    return img;
  }

  // A check box to pick the image for the multi-select actions (tag, download, delete).
  function picker(image, selected) {
    var box = el("input");
    box.type = "checkbox";
    box.dataset.select = image.id;
    box.checked = selected.has(image.id);
    box.setAttribute("aria-label", "Select " + (image.title || image.filename));
    return box;
  }

  function tile(image, selected) {
    var card = el("div", "tile" + (image.expired ? " expired" : ""));
    card.dataset.id = image.id;
    card.title = image.title || image.filename;
    var a = el("a");
    a.href = "/images/" + image.id;
    var cap = el("span", "small", (image.title || image.filename) + (image.expired ? " · rights expired" : ""));
    a.append(thumb(image, 240), cap);
    card.append(picker(image, selected), a);
    if (image.duplicate_of) {
      var dup = el("a", "badge dup", "Duplicate");
      dup.href = "/images/" + image.duplicate_of;
      dup.title = "An exact copy of an image already in the library";
      dup.dataset.testid = "duplicate-badge";
      card.append(dup);
    }
    return card;
  }

  function kb(n) { return n > 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.round(n / 1024) + " KB"; }

  // The list view: one row per image with its properties.
  function table(images, selected) {
    var t = el("table", "image-table"), head = el("thead"), row = el("tr");
    ["", "", "Title", "File", "Size", "Dimensions", "Taken", "Tags", "Added by", ""].forEach(function (h, i) {
      var th = el("th", "", h);
      if (i === 0) th.append(el("span", "visually-hidden", "Select"));
      if (i === 1) th.append(el("span", "visually-hidden", "Preview"));
      if (i === 9) th.append(el("span", "visually-hidden", "Duplicate"));
      row.append(th);
    });
    head.append(row);
    var body = el("tbody");
    images.forEach(function (image) {
      var tr = el("tr");
      tr.dataset.id = image.id;
      var link = el("a", "", image.title || image.filename);
      link.href = "/images/" + image.id;
      var cells = [picker(image, selected), thumb(image, 48), link, image.filename + " (" + image.format + ")",
        kb(image.size), image.width + "×" + image.height, image.taken_at ? image.taken_at.slice(0, 10) : "",
        (image.tags || []).join(", "), image.created_by_upn || "", image.duplicate_of ? "Duplicate" : ""];
      cells.forEach(function (c) {
        var td = el("td");
        if (typeof c === "string") td.textContent = c; else td.append(c);
        tr.append(td);
      });
      body.append(tr);
    });
    t.append(head, body);
    return t;
  }

  // "Pin to tab…" (image page, library): the tabs of the image's library that let this person
  // pin, one click each, through the tab's pin route.
  function pinDialog() {
    var dialog = document.querySelector("[data-pin-dialog]");
    if (!dialog) return null;
    var list = dialog.querySelector("[data-pin-tabs]"), status = dialog.querySelector("[data-pin-status]");
    dialog.querySelector("[data-pin-close]").addEventListener("click", function () { dialog.close(); });
    return function (image) {
      list.replaceChildren();
      status.textContent = "Loading tabs…";
      dialog.querySelector("[data-pin-about]").textContent = image.title || image.filename;
      dialog.showModal();
      api("GET", "/api/v1/images/tabs?library_id=" + image.library_id).then(function (tabs) {
        status.textContent = tabs.length ? "" :
          "No tab of this image's library lets you pin: add Image Pro as a tab in a channel first.";
        tabs.forEach(function (tab) {
          var item = el("li"), choose = el("button", "btn", tab.name);
          choose.type = "button";
          choose.append(el("span", "muted small", " " + tab.team_name + " › " + tab.channel_name));
          choose.addEventListener("click", function () {
            status.textContent = "Pinning…";
            api("POST", "/api/v1/images/tabs/" + tab.id + "/pin", { image_id: image.id }).then(function () {
              var there = el("a", "", tab.name);
              there.href = tab.content_url;
              status.replaceChildren("Pinned in ", there, ".");
            }).catch(function (e) { status.textContent = e.message; });
          });
          item.append(choose);
          list.append(item);
        });
      }).catch(function (e) { status.textContent = e.message; });
    };
  }

  // The tab's "Choose from library": the newest images of the tab's library, searchable; one
  // click pins it (no second copy, as uploading it again would make).
  function initLibraryChoice(page) {
    var dialog = page.querySelector("[data-library-dialog]"), open = page.querySelector("[data-library-open]");
    if (!dialog || !open) return;
    var q = dialog.querySelector("[data-library-q]"), results = dialog.querySelector("[data-library-results]");
    var tag = dialog.querySelector("[data-library-tag]"), sort = dialog.querySelector("[data-library-sort]");
    var count = dialog.querySelector("[data-library-count]"), timer = null, asked = 0;
    function search() {
      var mine = ++asked, words = q.value.trim(), tagged = tag.value.trim();
      count.textContent = "Searching…";
      results.setAttribute("aria-busy", "true");
      var url = "/api/v1/images?library_id=" + dialog.dataset.library + "&$top=24" +
        "&$orderby=" + encodeURIComponent(sort.value) +
        (words ? "&q=" + encodeURIComponent(words) : "") + (tagged ? "&tag=" + encodeURIComponent(tagged) : "");
      api("GET", url).then(function (found) {
        if (mine !== asked) return;
        results.replaceChildren();
        found.value.forEach(function (image) {
          var item = el("li"), choose = el("button", "choice");
          choose.type = "button";
          choose.append(thumb(image, 120), el("span", "small", image.title || image.filename));
          choose.setAttribute("aria-label", "Pin " + (image.title || image.filename));
          choose.addEventListener("click", function () {
            count.textContent = "Pinning…";
            api("POST", "/api/v1/images/tabs/" + page.dataset.tabPage + "/pin", { image_id: image.id })
              .then(function () { location.reload(); }).catch(function (e) { count.textContent = e.message; });
          });
          item.append(choose);
          results.append(item);
        });
        var n = found.value.length;
        count.textContent = n ? n + (found["@odata.nextLink"] ? "+" : "") + " image" + (n === 1 ? "" : "s") :
          "No image matches.";
        results.setAttribute("aria-busy", "false");
      }).catch(function (e) { if (mine === asked) count.textContent = e.message; });
    }
    [q, tag].forEach(function (box) {
      box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 200); });
    });
    sort.addEventListener("change", search);
    open.addEventListener("click", function () { dialog.showModal(); search(); });
    open.disabled = false;  // enabled once it works: a click before would do nothing
    dialog.querySelector("[data-library-close]").addEventListener("click", function () { dialog.close(); });
  }

  function initLibrary(form) {
    var grid = document.querySelector("[data-image-grid]"), more = document.querySelector("[data-more]");
    var count = document.querySelector("[data-result-count]"), next = null, timer = null;
    var bar = document.querySelector("[data-bulk]"), picked = document.querySelector("[data-selected-count]");
    var told = document.querySelector("[data-bulk-notice]");
    var items = [], selected = new Set(), view = localStorage.getItem("teamspro-library-view") || "grid";
    var pinTo = pinDialog();
    function query() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (v, k) {
        if (!v) return;
        if (k === "taken_from" || k === "taken_to") v = v + "T00:00:00Z";
        params.set(k, v);
      });
      // No $count: counting every match costs more than the page; "48+" says enough.
      params.set("$top", "48");
      return "/api/v1/images?" + params.toString();
    }
    function draw() {
      grid.replaceChildren();
      grid.classList.toggle("as-list", view === "list");
      if (view === "list") grid.append(table(items, selected));
      else items.forEach(function (i) { grid.append(tile(i, selected)); });
      document.querySelectorAll("[data-view]").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.dataset.view === view));
      });
      pick();
    }
    function pick() {
      bar.hidden = selected.size === 0;
      bar.querySelector("[data-bulk-act=pin]").disabled = selected.size !== 1;
      picked.textContent = selected.size + " selected";
      var ids = Array.from(selected).map(function (id) { return "id=" + id; }).join("&");
      bar.querySelector("[data-bulk-download]").href = "/api/v1/images/archive?" + ids;
    }
    // While a search waits (typing pauses, or its answer is on the way) the results shown are
    // the last search's: say so, so that neither a reader nor a test takes them for the new ones.
    var asked = 0;
    function busy(on) {
      grid.setAttribute("aria-busy", String(on));
      if (on) count.textContent = "Searching…";
    }
    function load(url, append) {
      var mine = ++asked;
      busy(true);
      api("GET", url).then(function (page) {
        if (mine !== asked) return;  // a later search was sent meanwhile: its answer counts
        items = append ? items.concat(page.value) : page.value;
        next = page["@odata.nextLink"] || null;
        // A selection holds only what is shown: acting on an image the filters hid would surprise.
        var shownIds = new Set(items.map(function (i) { return i.id; }));
        selected.forEach(function (id) { if (!shownIds.has(id)) selected.delete(id); });
        var shown = items.length;
        count.textContent = shown + (next ? "+" : "") + " image" + (shown === 1 && !next ? "" : "s");
        more.hidden = !next;
        draw();
        busy(timer !== null);
      }).catch(function (e) {
        if (mine !== asked) return;
        busy(false);
        count.textContent = e.message;
      });
    }
    function reload() { load(query()); }
    grid.addEventListener("change", function (e) {
      var box = e.target.closest("[data-select]");
      if (!box) return;
      if (box.checked) selected.add(box.dataset.select); else selected.delete(box.dataset.select);
      pick();
    });
    document.querySelectorAll("[data-view]").forEach(function (b) {
      b.addEventListener("click", function () {
        view = b.dataset.view;
        localStorage.setItem("teamspro-library-view", view);
        draw();
      });
    });
    // Each image goes through its own endpoint, so each is checked as it would be alone;
    // what was refused is said.
    function each(call, done) {
      var ids = Array.from(selected), failed = [];
      return Promise.all(ids.map(function (id) {
        return call(id).catch(function (e) { failed.push(e.message); });
      })).then(function () {
        told.textContent = done(ids.length - failed.length) + (failed.length ? " " + failed.length + " refused: " + failed[0] : "");
        if (!failed.length) { selected.clear(); reload(); }
      });
    }
    bar.addEventListener("click", function (e) {
      var act = e.target.closest("[data-bulk-act]");
      if (!act) return;
      var byId = {};
      items.forEach(function (i) { byId[i.id] = i; });
      if (act.dataset.bulkAct === "clear") { selected.clear(); draw(); }
      if (act.dataset.bulkAct === "pin") {
        if (selected.size !== 1) { told.textContent = "Select one image to pin it in a tab."; return; }
        if (pinTo) pinTo(byId[Array.from(selected)[0]]);
      }
      if (act.dataset.bulkAct === "tag") {
        window.TP.prompt("Tags to add to " + selected.size + " image(s), comma separated", "", { ok: "Add tags" }).then(function (text) {
          if (!text) return;
          var tags = text.split(",").map(function (t) { return t.trim(); }).filter(Boolean);
          each(function (id) {
            var had = (byId[id] && byId[id].tags) || [];
            var all = had.concat(tags.filter(function (t) { return had.indexOf(t) < 0; }));
            return api("PATCH", "/api/v1/images/" + id, { tags: all });
          }, function (n) { return "Tagged " + n + " image(s)."; });
        });
      }
      if (act.dataset.bulkAct === "delete") {
        window.TP.confirm("Delete " + selected.size + " image(s) and all their versions?", { danger: true, ok: "Delete" }).then(function (yes) {
          if (yes) each(function (id) { return api("DELETE", "/api/v1/images/" + id); },
            function (n) { return "Deleted " + n + " image(s)."; });
        });
      }
    });
    form.addEventListener("input", function () {
      clearTimeout(timer);
      busy(true);
      timer = setTimeout(function () { timer = null; reload(); }, 200);
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); clearTimeout(timer); timer = null; reload(); });
    more.addEventListener("click", function () { if (next) load(next, true); });
    reload();
    return reload;
  }

  function uploadTo(url, files, notice) {
    var data = new FormData();
    Array.prototype.forEach.call(files, function (f) { data.append("files", f); });
    notice.textContent = "Uploading " + files.length + " file(s)…";
    return api("POST", url, data).then(function (made) {
      var dups = made.filter(function (i) { return i.duplicate_of; }).length;
      notice.textContent = made.length + " uploaded" + (dups ? ", " + dups + " exact duplicate(s) flagged" : "") + ".";
      return made;
    }).catch(function (e) {
      // Refused (not an image, truncated, too big): the notice says why; nothing follows.
      notice.textContent = e.message;
      return null;
    });
  }

  function dropzone(zone, input, onFiles) {
    if (input) input.addEventListener("change", function () { if (input.files.length) onFiles(input.files); });
    if (!zone) return;
    zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault(); zone.classList.remove("over");
      if (e.dataTransfer.files.length) onFiles(e.dataTransfer.files);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var search = document.querySelector("[data-image-search]");
    var reload = search ? initLibrary(search) : null;
    var drop = document.querySelector("[data-image-drop]");
    if (drop) {
      dropzone(drop, document.getElementById("img-files"), function (files) {
        uploadTo("/api/v1/images/libraries/" + drop.dataset.library + "/images", files,
          drop.querySelector("[data-upload-notice]")).then(function (made) { if (made && reload) reload(); });
      });
    }

    var props = document.querySelector("[data-properties]");
    if (props) props.addEventListener("submit", function (e) {
      e.preventDefault();
      var f = new FormData(props), status = props.querySelector("[data-status]");
      var body = {
        title: f.get("title"), description: f.get("description"), alt_text: f.get("alt_text"),
        copyright: f.get("copyright"),
        tags: String(f.get("tags") || "").split(",").map(function (t) { return t.trim(); }).filter(Boolean),
        rights_expire_at: f.get("rights_expire_at") ? f.get("rights_expire_at") + "T00:00:00Z" : null
      };
      api("PATCH", "/api/v1/images/" + props.dataset.image, body)
        .then(function () { status.textContent = "Saved."; })
        .catch(function (err) { status.textContent = err.message; });
    });
    if (props) props.querySelectorAll("[data-needs-script]").forEach(function (b) { b.disabled = false; });

    document.addEventListener("click", function (e) {
      var revert = e.target.closest("[data-revert]");
      if (revert) {
        var url = "/api/v1/images/" + revert.dataset.image + "/versions/" + revert.dataset.revert + "/revert";
        if (revert.dataset.tab) url += "?tab_id=" + revert.dataset.tab;
        api("POST", url).then(function () { location.reload(); }).catch(function (err) { window.TP.alert(err.message); });
      }
      var repin = e.target.closest("[data-repin]");
      if (repin) {
        var tabId = document.querySelector("[data-tab-page]").dataset.tabPage;
        api("POST", "/api/v1/images/tabs/" + tabId + "/pin", { image_id: repin.dataset.repin, version_id: repin.dataset.version })
          .then(function () { location.reload(); }).catch(function (err) { window.TP.alert(err.message); });
      }
    });
    // Revert and Pin again come disabled from the server: a click before this handler was
    // there did nothing (a journey clicked, then waited for a page that never came).
    document.querySelectorAll("[data-revert][data-needs-script], [data-repin][data-needs-script]")
      .forEach(function (b) { b.disabled = false; });

    var page = document.querySelector("[data-tab-page]");
    if (page) {
      var notice = page.querySelector("[data-upload-notice]");
      var pinFiles = function (files) {
        uploadTo("/api/v1/images/tabs/" + page.dataset.tabPage + "/images", [files[0]], notice)
          .then(function (made) { if (made) location.reload(); });
      };
      dropzone(page.querySelector("[data-tab-drop]"), page.querySelector("[data-tab-upload]"), pinFiles);
      initPicker(page);
      initLibraryChoice(page);
    }

    var pinOpen = document.querySelector("[data-pin-open]");
    if (pinOpen) {
      var pinThis = pinDialog();
      pinOpen.addEventListener("click", function () {
        pinThis({ id: pinOpen.dataset.image, library_id: pinOpen.dataset.library, title: pinOpen.dataset.title });
      });
      pinOpen.disabled = false;
    }

    var config = document.querySelector("[data-tab-config]");
    if (config) initConfig(config);
  });

  function initPicker(page) {
    var dialog = page.querySelector("[data-picker]"), open = page.querySelector("[data-picker-open]");
    if (!dialog || !open) return;
    var picker = window.TP.drivePicker(dialog, {
      url: function (folder, link) {
        var url = "/api/v1/images/libraries/" + dialog.dataset.library + "/browse?folder=" + encodeURIComponent(folder || "");
        return link ? url + "&next=" + encodeURIComponent(link) : url;
      },
      accept: function (item) { return item.image; },
      file: function (item) {
        api("POST", "/api/v1/images/tabs/" + page.dataset.tabPage + "/attach", { item_id: item.id })
          .then(function () { location.reload(); }).catch(function (err) { window.TP.alert(err.message); });
      }
    });
    open.addEventListener("click", function () { dialog.showModal(); picker.open(""); });
    dialog.querySelector("[data-picker-close]").addEventListener("click", function () { dialog.close(); });
  }

  function initConfig(form) {
    var status = form.querySelector("[data-status]");
    var limits = JSON.parse(form.dataset.limits || "{}"), library = form.querySelector("[name=library_id]");
    function applyLimits() {
      // A member's tab allows no more than the library's other tabs do: grey out the rest.
      var allowed = limits[library.value] || {}, limited = false;
      ["upload", "edit", "delete", "download"].forEach(function (a) {
        var box = form.querySelector("[name=perm_" + a + "]");
        if (allowed[a] === false) { box.checked = false; box.disabled = true; limited = true; }
        else box.disabled = false;
      });
      form.querySelector("[data-limited]").hidden = !limited;
    }
    library.addEventListener("change", applyLimits);
    applyLimits();
    function save() {
      var f = new FormData(form), perms = {};
      ["upload", "edit", "delete", "download"].forEach(function (a) { perms[a] = f.get("perm_" + a) === "on"; });
      return api("POST", "/api/v1/images/tabs", {
        entity_id: f.get("entity_id"), name: f.get("name"), team_id: f.get("team_id"),
        team_name: f.get("team_name"), channel_id: f.get("channel_id"), channel_name: f.get("channel_name"),
        library_id: f.get("library_id"), folder: f.get("folder"), layout: f.get("layout"), permissions: perms
      });
    }
    window.TP.teams().then(function (teams) {
      if (!teams || !teams.pages || !teams.pages.config) return;
      // Inside Teams: the dialog's own Save button saves the tab.
      return teams.app.initialize().then(function () {
        teams.pages.config.registerOnSaveHandler(function (evt) {
          save().then(function (tab) {
            return teams.pages.config.setConfig({
              entityId: tab.entity_id, suggestedDisplayName: tab.name,
              contentUrl: location.origin + tab.content_url, websiteUrl: location.origin + tab.content_url
            });
          }).then(function () { evt.notifySuccess(); }).catch(function (e) { evt.notifyFailure(e.message); });
        });
        teams.pages.config.setValidityState(true);
      });
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      save().then(function (tab) { location.href = tab.content_url; })
        .catch(function (err) { status.textContent = err.message; });
    });
  }
})();
