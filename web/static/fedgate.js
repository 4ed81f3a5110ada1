// fedgate's pages work without script; this file, served from fedgate's
// own origin (the CSP allows no other and no inline script), adds copy
// buttons, format tabs, live countdowns and the portal's instant filter.
(function () {
  "use strict";

  // Copy buttons: data-copy names the element whose text is copied.
  function legacyCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      // A browser may hold the promise while it asks for permission; the
      // selection copy is the answer then.
      var slow = new Promise(function (resolve, reject) {
        setTimeout(function () { reject(new Error("clipboard did not answer")); }, 2000);
      });
      return Promise.race([navigator.clipboard.writeText(text), slow]).catch(function (err) {
        if (!legacyCopy(text)) { throw err; }
      });
    }
    return legacyCopy(text) ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    var label = btn.textContent;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var src = document.getElementById(btn.getAttribute("data-copy"));
      if (!src) { return; }
      copyText(src.textContent).then(function () {
        btn.textContent = "Copied ✓";
        btn.setAttribute("data-state", "copied");
      }, function () {
        btn.textContent = "Select and copy";
        btn.setAttribute("data-state", "failed");
        var range = document.createRange();
        range.selectNodeContents(src);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      });
      setTimeout(function () { btn.textContent = label; btn.removeAttribute("data-state"); }, 4000);
    });
  });

  // Format tabs: without script every format is shown, one after another.
  document.querySelectorAll("[data-tabs]").forEach(function (box) {
    var list = box.querySelector("[role=tablist]");
    var tabs = Array.prototype.slice.call(box.querySelectorAll("[role=tab]"));
    if (!list || tabs.length === 0) { return; }
    list.hidden = false;
    box.classList.add("tabbed");
    function panel(tab) { return document.getElementById(tab.getAttribute("aria-controls")); }
    function pick(tab, focus) {
      tabs.forEach(function (t) {
        var on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        panel(t).hidden = !on;
      });
      if (focus) { tab.focus(); }
      try { localStorage.setItem("fedgate-format", tab.id); } catch (e) { /* private mode */ }
    }
    tabs.forEach(function (t, i) {
      var p = panel(t);
      p.setAttribute("role", "tabpanel");
      p.setAttribute("aria-labelledby", t.id);
      t.addEventListener("click", function () { pick(t, false); });
      t.addEventListener("keydown", function (ev) {
        var next = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
        if (next) { ev.preventDefault(); pick(tabs[(i + next + tabs.length) % tabs.length], true); }
      });
    });
    var saved = null;
    try { saved = document.getElementById(localStorage.getItem("fedgate-format") || ""); } catch (e) { saved = null; }
    pick(tabs.indexOf(saved) >= 0 ? saved : tabs[0], false);
  });

  // Countdowns: <time data-countdown datetime=…> followed by
  // <span data-countdown-for>.
  function human(ms) {
    if (ms <= 0) { return null; }
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
    s = s % 60;
    if (h > 0) { return h + " h " + m + " min"; }
    if (m > 0) { return m + " min " + s + " s"; }
    return s + " s";
  }
  var clocks = [];
  document.querySelectorAll("time[data-countdown]").forEach(function (t) {
    var out = t.parentNode.querySelector("[data-countdown-for]");
    var at = Date.parse(t.getAttribute("datetime"));
    if (out && !isNaN(at)) { clocks.push({ out: out, at: at, time: t }); }
  });
  function tick() {
    var now = Date.now();
    clocks.forEach(function (c) {
      var left = human(c.at - now);
      c.out.textContent = left ? left + " left" : "expired";
      c.out.classList.toggle("expired", !left);
    });
  }
  if (clocks.length) { tick(); setInterval(tick, 1000); }

  // The portal's filter: the form searches on the server without script;
  // with it, rows are filtered as one types.
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var root = document.querySelector(input.getAttribute("data-filter"));
    var count = document.getElementById("filter-count");
    var none = document.getElementById("no-match");
    if (!root) { return; }
    var total = root.querySelectorAll("[data-search]").length;
    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      root.querySelectorAll("[data-group]").forEach(function (group) {
        var any = false;
        group.querySelectorAll("[data-search]").forEach(function (row) {
          var text = row.getAttribute("data-search");
          var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
          row.hidden = !ok;
          if (ok) { any = true; shown++; }
        });
        group.hidden = !any;
      });
      if (count) { count.textContent = shown + " of " + total + " roles"; }
      if (none) { none.hidden = shown > 0; }
    }
    input.addEventListener("input", apply);
  });
})();
