// Live run page: polls the run's progress URL every 2 seconds while the run is not finished and updates every
// figure, the status, the "waiting for" line and which controls show (Pause/Resume/Cancel/Override/Retry), so the page
// never says one thing at the top and another below. Stops polling once the run is finished.
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("ace-run-progress");
    if (!box) { return; }
    var bar = box.querySelector(".ace-progress-bar");
    var track = box.querySelector(".ace-progress-track");
    function show(data) {
      bar.style.width = data.percent + "%";
      track.setAttribute("aria-valuenow", String(data.percent));
      Object.keys(data).forEach(function (key) {
        var node = box.querySelector('[data-field="' + key + '"]');
        if (node) {
          node.textContent = String(data[key] === "" ? (key === "finished_at" ? "—" : "") : data[key]);
          if (key === "error") { node.hidden = !data[key]; }
        }
      });
      document.querySelectorAll("[data-control]").forEach(function (form) {
        form.hidden = !data[form.dataset.control];
      });
      box.dataset.status = data.status;
      return !data.finished;
    }
    function poll() {
      fetch(box.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && show(data)) { window.setTimeout(poll, 2000); }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    // Buttons that send messages ask first (e.g. "Retry these N").
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });
    poll();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
