/* Ségur Sandbox console: small progressive JavaScript. Every page works without it; this adds
   auto-submitting selectors, copy buttons, fold/unfold-all and the live journal (server-sent
   events from /journal/flux, which long-polls the kernel's /_sandbox/journal/wait). */
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });

  function copyText(text, button) {
    function ok() {
      var old = button.textContent;
      button.textContent = button.getAttribute("data-copied") || "Copié";
      setTimeout(function () { button.textContent = old; }, 1200);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(ok, function () { fallback(text); ok(); });
    } else { fallback(text); ok(); }
  }
  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text; area.setAttribute("readonly", ""); area.style.position = "absolute"; area.style.left = "-9999px";
    document.body.appendChild(area); area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-copy],[data-copy-target]");
    if (button) {
      ev.preventDefault();
      var target = button.getAttribute("data-copy-target");
      var text = target ? document.querySelector(target).textContent : button.getAttribute("data-copy");
      copyText(text, button);
      return;
    }
    var fold = ev.target.closest("[data-fold]");
    if (fold) {
      var open = fold.getAttribute("data-fold") === "open";
      document.querySelectorAll(fold.getAttribute("data-scope") + " details").forEach(function (d) { d.open = open; });
    }
  });

  // Live journal: new rows on top of page 1, newest first, the page size kept.
  var rows = document.getElementById("journal-rows");
  if (rows && rows.getAttribute("data-stream") && window.EventSource) {
    var status = document.getElementById("live-status");
    var counter = document.getElementById("journal-count");
    var size = parseInt(rows.getAttribute("data-page-size") || "50", 10);
    var source = new EventSource(rows.getAttribute("data-stream"));
    source.addEventListener("open", function () { if (status) { status.classList.add("on"); } });
    source.addEventListener("error", function () { if (status) { status.classList.remove("on"); } });
    source.addEventListener("entry", function (ev) {
      var data = JSON.parse(ev.data);
      var empty = document.getElementById("journal-empty");
      if (empty) { empty.remove(); }
      var holder = document.createElement("tbody");
      holder.innerHTML = data.html;
      var row = holder.firstElementChild;
      row.classList.add("new");
      rows.insertBefore(row, rows.firstElementChild);
      while (rows.children.length > size) { rows.removeChild(rows.lastElementChild); }
      if (counter) { counter.textContent = String(parseInt(counter.textContent, 10) + 1); }
      window.segurLastEntry = data.id;
    });
  }
})();
