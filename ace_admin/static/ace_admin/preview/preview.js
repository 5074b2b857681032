/* Preview page: the desktop / mobile width toggle of the rendered email. Loaded as a file: the admin pages
   of ACE allow no inline script (see ace_admin/csp.py). */
(function () {
  "use strict";
  function setWidth(width) {
    var box = document.getElementById("ace-frame-box");
    if (!box) { return; }
    box.classList.toggle("ace-mobile", width === "mobile");
    box.classList.toggle("ace-desktop", width !== "mobile");
    document.querySelectorAll("button.ace-width").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-width") === width));
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button.ace-width").forEach(function (button) {
      button.addEventListener("click", function () { setWidth(button.getAttribute("data-width")); });
    });
  });
}());
