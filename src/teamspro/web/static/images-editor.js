// The Image Pro editor. An edit is a recipe (a list of operations); this previews it on a
// canvas exactly in the order the server's renderer (Pillow) applies it, and saves the
// recipe, never pixels: the server renders the new version from the base version.
(function () {
  "use strict";

  function canvas(w, h) {
    var c = document.createElement("canvas");
    c.width = Math.max(1, Math.round(w)); c.height = Math.max(1, Math.round(h));
    return c;
  }

  function sharpen(src) {
    var out = canvas(src.width, src.height), sctx = src.getContext("2d"), octx = out.getContext("2d");
    var a = sctx.getImageData(0, 0, src.width, src.height), b = octx.createImageData(src.width, src.height);
    var w = src.width, h = src.height, d = a.data, o = b.data;
    for (var y = 0; y < h; y++) for (var x = 0; x < w; x++) {
      var i = 4 * (y * w + x);
      for (var ch = 0; ch < 3; ch++) {
        var up = y > 0 ? d[i - 4 * w + ch] : d[i + ch], down = y < h - 1 ? d[i + 4 * w + ch] : d[i + ch];
        var left = x > 0 ? d[i - 4 + ch] : d[i + ch], right = x < w - 1 ? d[i + 4 + ch] : d[i + ch];
        o[i + ch] = Math.max(0, Math.min(255, 5 * d[i + ch] - up - down - left - right));
      }
      o[i + 3] = d[i + 3];
    }
    octx.putImageData(b, 0, 0);
    return out;
  }

  function drawShape(ctx, op) {
    var x0 = Math.min(op.x, op.x + op.width), y0 = Math.min(op.y, op.y + op.height);
    var w = Math.abs(op.width), h = Math.abs(op.height);
    ctx.lineWidth = op.stroke_width;
    ctx.strokeStyle = op.stroke || "transparent";
    ctx.fillStyle = op.fill || "transparent";
    ctx.beginPath();
    if (op.kind === "rectangle") ctx.rect(x0, y0, w, h);
    else if (op.kind === "ellipse") ctx.ellipse(x0 + w / 2, y0 + h / 2, w / 2, h / 2, 0, 0, 2 * Math.PI);
    else if (op.kind === "triangle") { ctx.moveTo(x0 + w / 2, y0); ctx.lineTo(x0 + w, y0 + h); ctx.lineTo(x0, y0 + h); ctx.closePath(); }
    if (op.kind === "arrow") {
      var ex = op.x + op.width, ey = op.y + op.height, angle = Math.atan2(op.height, op.width);
      var head = Math.max(10, Math.max(1, op.stroke_width) * 4), colour = op.stroke || op.fill || "#000000";
      ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = Math.max(1, op.stroke_width);
      ctx.moveTo(op.x, op.y); ctx.lineTo(ex, ey); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(ex, ey);
      ctx.lineTo(ex - head * Math.cos(angle - 0.45), ey - head * Math.sin(angle - 0.45));
      ctx.lineTo(ex - head * Math.cos(angle + 0.45), ey - head * Math.sin(angle + 0.45));
      ctx.closePath(); ctx.fill();
      return;
    }
    if (op.fill) ctx.fill();
    if (op.stroke && op.stroke_width) ctx.stroke();
  }

  // Watermark images by id, loaded from the options the page offers.
  var watermarks = {};

  // One operation on a canvas; returns the canvas that follows (new one when geometry changes).
  function apply(src, op) {
    var out, ctx;
    switch (op.op) {
      case "crop":
        var x = Math.max(0, Math.round(op.x)), y = Math.max(0, Math.round(op.y));
        var x1 = Math.min(src.width, Math.round(op.x + op.width)), y1 = Math.min(src.height, Math.round(op.y + op.height));
        out = canvas(x1 - x, y1 - y); out.getContext("2d").drawImage(src, -x, -y); return out;
      case "rotate":
        var rad = op.degrees * Math.PI / 180, cos = Math.abs(Math.cos(rad)), sin = Math.abs(Math.sin(rad));
        var w = src.width * cos + src.height * sin, h = src.width * sin + src.height * cos;
        if (op.degrees % 90 === 0) { w = Math.round(w); h = Math.round(h); }
        out = canvas(w, h); ctx = out.getContext("2d");
        if (op.degrees % 90 !== 0) { ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, out.width, out.height); }
        ctx.translate(out.width / 2, out.height / 2); ctx.rotate(rad);
        ctx.drawImage(src, -src.width / 2, -src.height / 2); return out;
      case "flip":
        out = canvas(src.width, src.height); ctx = out.getContext("2d");
        if (op.direction === "horizontal") { ctx.translate(src.width, 0); ctx.scale(-1, 1); }
        else { ctx.translate(0, src.height); ctx.scale(1, -1); }
        ctx.drawImage(src, 0, 0); return out;
      case "resize":
        out = canvas(op.width, op.height); ctx = out.getContext("2d");
        ctx.imageSmoothingQuality = "high"; ctx.drawImage(src, 0, 0, op.width, op.height); return out;
      case "adjust":
        out = canvas(src.width, src.height); ctx = out.getContext("2d");
        ctx.filter = "brightness(" + (1 + (op.brightness || 0)) + ") contrast(" + (1 + (op.contrast || 0)) +
          ") saturate(" + (1 + (op.saturation || 0)) + ")";
        ctx.drawImage(src, 0, 0); return out;
      case "filter":
        if (op.name === "sharpen") return sharpen(src);
        out = canvas(src.width, src.height); ctx = out.getContext("2d");
        if (op.name === "pixelate") {
          var block = Math.max(2, Math.floor(op.amount)), small = canvas(Math.max(1, Math.floor(src.width / block)), Math.max(1, Math.floor(src.height / block)));
          small.getContext("2d").drawImage(src, 0, 0, small.width, small.height);
          ctx.imageSmoothingEnabled = false; ctx.drawImage(small, 0, 0, src.width, src.height); return out;
        }
        ctx.filter = op.name === "blur" ? "blur(" + op.amount + "px)" : op.name + "(1)";
        ctx.drawImage(src, 0, 0); return out;
    }
    ctx = src.getContext("2d");
    ctx.save();
    if (op.op === "stroke") {
      ctx.strokeStyle = op.color; ctx.lineWidth = op.width; ctx.lineCap = "round"; ctx.lineJoin = "round";
      ctx.beginPath(); ctx.moveTo(op.points[0][0], op.points[0][1]);
      op.points.slice(1).forEach(function (p) { ctx.lineTo(p[0], p[1]); });
      ctx.stroke();
    } else if (op.op === "shape") drawShape(ctx, op);
    else if (op.op === "text") {
      ctx.fillStyle = op.color; ctx.textBaseline = "top";
      ctx.font = (op.italic ? "italic " : "") + (op.bold ? "bold " : "") + Math.round(op.size) + 'px "DejaVu Sans", sans-serif';
      op.text.split("\n").forEach(function (line, i) { ctx.fillText(line, op.x, op.y + i * (op.size + 4)); });
    } else if (op.op === "watermark") {
      var mark = watermarks[op.image_id];
      if (mark && mark.complete && mark.naturalWidth) {
        ctx.globalAlpha = op.opacity;
        ctx.drawImage(mark, op.x, op.y, op.width, op.width * mark.naturalHeight / mark.naturalWidth);
      } else {  // not among the images offered here: the server still renders it
        ctx.setLineDash([6, 4]); ctx.strokeStyle = "#888"; ctx.strokeRect(op.x, op.y, op.width, op.width / 2);
      }
    }
    ctx.restore();
    return src;
  }

  function init(root) {
    var view = root.querySelector("[data-canvas]"), status = root.querySelector("[data-editor-status]");
    var saved = JSON.parse(root.querySelector("[data-recipe]").textContent || "{}");
    var ops = (saved.operations || []).slice(), redo = [], base = null, committed = null, pending = null;
    var tool = "draw", zoom = 1, drag = null;

    function opt(name) {
      var el = root.querySelector('[data-opt="' + name + '"]');
      return el.type === "checkbox" ? el.checked : el.value;
    }

    function rebuild() {
      var c = canvas(base.naturalWidth, base.naturalHeight);
      c.getContext("2d").drawImage(base, 0, 0);
      ops.forEach(function (op) { c = apply(c, op); });
      // A turn, a crop or a resize changes the size: fit the new one to the editor again.
      var resized = !committed || committed.width !== c.width || committed.height !== c.height;
      committed = c;
      if (resized) fit();
      paint();
    }

    function paint() {
      view.width = committed.width; view.height = committed.height;
      var ctx = view.getContext("2d");
      ctx.drawImage(committed, 0, 0);
      if (pending) {
        if (pending.op === "crop") {
          ctx.save(); ctx.fillStyle = "rgba(0,0,0,0.45)";
          ctx.fillRect(0, 0, view.width, view.height);
          ctx.clearRect(pending.x, pending.y, pending.width, pending.height);
          ctx.drawImage(committed, pending.x, pending.y, pending.width, pending.height, pending.x, pending.y, pending.width, pending.height);
          ctx.strokeStyle = "#fff"; ctx.setLineDash([6, 4]); ctx.strokeRect(pending.x, pending.y, pending.width, pending.height);
          ctx.restore();
        } else apply(view, pending);
      }
      view.style.width = Math.round(committed.width * zoom) + "px";
      root.querySelector("[data-zoom]").textContent = Math.round(zoom * 100) + "%";
      status.textContent = committed.width + "×" + committed.height + " · " + ops.length + " operation(s)";
    }

    function push(op) { ops.push(op); redo = []; rebuild(); }

    function point(e) {
      var r = view.getBoundingClientRect();
      return [Math.round((e.clientX - r.left) * view.width / r.width), Math.round((e.clientY - r.top) * view.height / r.height)];
    }

    view.addEventListener("pointerdown", function (e) {
      var p = point(e);
      if (tool === "text") {
        window.TP.prompt("Text to place on the image", "", { ok: "Place" }).then(function (text) {
          if (text) push({ op: "text", x: p[0], y: p[1], text: text, size: Number(opt("size")), color: opt("color"), bold: opt("bold"), italic: opt("italic") });
        });
        return;
      }
      view.setPointerCapture(e.pointerId);
      drag = p;
      if (tool === "draw" || tool === "line") pending = { op: "stroke", points: [p, p], color: opt("color"), width: Number(opt("width")) };
    });
    view.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var p = point(e), w = p[0] - drag[0], h = p[1] - drag[1];
      if (tool === "draw") pending.points.push(p);
      else if (tool === "line") pending.points = [drag, p];
      else if (tool === "crop") {
        var ratio = Number(opt("ratio"));
        if (ratio) h = Math.sign(h || 1) * Math.abs(w) / ratio;
        pending = { op: "crop", x: Math.min(drag[0], drag[0] + w), y: Math.min(drag[1], drag[1] + h), width: Math.abs(w), height: Math.abs(h) };
      } else {
        var fill = opt("fill") ? opt("color") : null;
        pending = { op: "shape", kind: tool, x: drag[0], y: drag[1], width: w, height: h, stroke: opt("color"), fill: fill, stroke_width: Number(opt("width")) };
      }
      paint();
    });
    view.addEventListener("pointerup", function () {
      if (!drag) return;
      drag = null;
      var op = pending; pending = null;
      if (!op) return paint();
      if (op.op === "crop" && (op.width < 2 || op.height < 2)) return paint();
      if (op.op === "shape" && Math.abs(op.width) < 2 && Math.abs(op.height) < 2) return paint();
      push(op);
    });

    root.querySelectorAll("[data-tool]").forEach(function (b) {
      b.addEventListener("click", function () {
        tool = b.dataset.tool;
        root.querySelectorAll("[data-tool]").forEach(function (o) { o.classList.toggle("primary", o === b); });
      });
    });
    root.querySelector('[data-tool="draw"]').classList.add("primary");

    root.querySelectorAll("[data-adjust]").forEach(function (slider) {
      slider.addEventListener("change", function () {
        var last = ops[ops.length - 1], op = last && last.op === "adjust" ? last : { op: "adjust", brightness: 0, contrast: 0, saturation: 0 };
        op[slider.dataset.adjust] = Number(slider.value);
        if (op !== last) ops.push(op);
        redo = []; rebuild();
      });
    });
    root.querySelectorAll("[data-watermark] option[data-src]").forEach(function (o) {
      var img = new Image();
      img.onload = function () { if (committed) rebuild(); };
      img.src = o.dataset.src;
      watermarks[o.value] = img;
    });
    root.querySelector("[data-watermark]").addEventListener("change", function (e) {
      var mark = watermarks[e.target.value];
      if (!mark) return;
      var width = Math.round(committed.width / 4);
      var height = mark.naturalWidth ? Math.round(width * mark.naturalHeight / mark.naturalWidth) : width;
      push({ op: "watermark", image_id: e.target.value, x: committed.width - width - 16,
        y: Math.max(0, committed.height - height - 16), width: width, opacity: 0.5 });
      e.target.value = "";
    });
    root.querySelector("[data-filter]").addEventListener("change", function (e) {
      if (!e.target.value) return;
      push({ op: "filter", name: e.target.value, amount: e.target.value === "pixelate" ? 12 : 3 });
      e.target.value = "";
    });

    var actions = {
      "rotate-left": function () { push({ op: "rotate", degrees: -90 }); },
      "rotate-right": function () { push({ op: "rotate", degrees: 90 }); },
      "flip-h": function () { push({ op: "flip", direction: "horizontal" }); },
      "flip-v": function () { push({ op: "flip", direction: "vertical" }); },
      "resize": function () {
        window.TP.prompt("Width in pixels", String(committed.width), { ok: "Resize" }).then(function (value) {
          var w = Number(value);
          if (w > 0 && w <= 20000) { push({ op: "resize", width: Math.round(w), height: Math.max(1, Math.round(w * committed.height / committed.width)) }); }
        });
      },
      "undo": function () { if (ops.length) { redo.push(ops.pop()); rebuild(); } },
      "redo": function () { if (redo.length) { ops.push(redo.pop()); rebuild(); } },
      "reset": function () { if (ops.length) { redo = ops.reverse(); ops = []; rebuild(); } },
      "zoom-in": function () { zoom = Math.min(8, zoom * 1.25); fitted = false; paint(); },
      "zoom-out": function () { zoom = Math.max(0.05, zoom / 1.25); fitted = false; paint(); },
      "zoom-fit": function () { fit(); paint(); },
      "zoom-100": function () { zoom = 1; fitted = false; paint(); },
      "save": function () {
        status.textContent = "Saving…";
        window.imagesApi("POST", "/api/v1/images/" + root.dataset.image + "/versions", {
          base_version_id: root.dataset.base, tab_id: root.dataset.tab || null, recipe: { version: 1, operations: ops }
        }).then(function () { location.href = root.dataset.back; })
          .catch(function (err) { status.textContent = err.message; });
      }
    };
    root.querySelectorAll("[data-act]").forEach(function (b) {
      b.addEventListener("click", function () { actions[b.dataset.act](); });
    });
    // Undo: Ctrl+Z. Redo: Ctrl+Shift+Z or Ctrl+Y (Shift makes the key "Z"). Not while typing.
    document.addEventListener("keydown", function (e) {
      if (!(e.ctrlKey || e.metaKey) || e.target.closest("input, textarea, select, dialog")) return;
      var key = e.key.toLowerCase();
      if (key === "z") { e.preventDefault(); actions[e.shiftKey ? "redo" : "undo"](); }
      else if (key === "y") { e.preventDefault(); actions.redo(); }
    });

    // The whole image in view: as large as the editor's width and the screen's height below
    // its top allow (at least 200 px), never enlarged. Kept fitted as the window changes
    // (a phone turned, a Teams pane resized) until the person zooms.
    var fitted = true;
    function fit() {
      var wrap = root.querySelector(".canvas-wrap");
      var wide = wrap.clientWidth || 800;
      var high = Math.max(200, window.innerHeight - Math.max(0, wrap.getBoundingClientRect().top) - 12);
      zoom = Math.min(1, wide / committed.width, high / committed.height);
      fitted = true;
    }
    window.addEventListener("resize", function () { if (committed && fitted) { fit(); paint(); } });
    base = new Image();
    base.onload = rebuild;
    base.onerror = function () { status.textContent = "The image could not be loaded."; };
    base.src = root.dataset.src;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-editor]");
    if (root) init(root);
  });
})();
