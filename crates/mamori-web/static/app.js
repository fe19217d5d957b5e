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
  // Move focus to the error summary so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
