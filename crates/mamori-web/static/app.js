// Mamori: small enhancements. Every page works without this file.
(function () {
  "use strict";
  // Do not submit a form on Enter while an IME is composing (Japanese input).
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.isComposing || e.keyCode === 229)) {
      e.preventDefault();
    }
  }, true);
  // Dismissible flash messages.
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t && t.hasAttribute && t.hasAttribute("data-dismiss")) {
      var box = t.closest(".flash");
      if (box) { box.remove(); }
    }
  });
  // A destructive action asks once, naming what will happen.
  document.addEventListener("submit", function (e) {
    var btn = e.submitter;
    if (btn && btn.hasAttribute("data-confirm") && !window.confirm(btn.getAttribute("data-confirm"))) {
      e.preventDefault();
    }
  });
  // Long submissions (uploads, imports) show that work is under way: an indeterminate
  // progress bar with the form's own message, announced politely; the button is disabled so
  // nothing is sent twice.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || !form.hasAttribute || !form.hasAttribute("data-progress")) { return; }
    var box = document.createElement("p");
    box.className = "progress";
    box.setAttribute("role", "status");
    var bar = document.createElement("progress");
    box.appendChild(bar);
    box.appendChild(document.createTextNode(" " + (form.getAttribute("data-progress") || "…")));
    form.appendChild(box);
    var buttons = form.querySelectorAll("button[type=submit]");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
  });
  // The print button of the distribution sheet (no inline script under the CSP).
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t && t.hasAttribute && t.hasAttribute("data-print")) { window.print(); }
  });
  // Move focus to the error summary so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
