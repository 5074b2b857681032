// Live progress of a campaign run in the admin: polls the run's progress URL every 2 seconds while it runs.
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
        if (node) { node.textContent = String(data[key]); }
      });
      return data.status === "running";
    }
    function poll() {
      fetch(box.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && show(data)) { window.setTimeout(poll, 2000); }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    poll();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
