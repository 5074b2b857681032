// Campaign form: show only the fields of the chosen schedule, and the audience figures (size, languages, opted
// out, suppressed, estimated duration) computed by the server for the chosen audience and message type.
// Without JavaScript every field shows and the form works the same.
(function () {
  "use strict";
  var FIELDS = {
    once: ["run_at", "grace_minutes"],
    interval: ["every", "period"],
    crontab: ["cron_minute", "cron_hour", "cron_day_of_week", "cron_day_of_month", "cron_month_of_year"],
    none: []
  };
  var ALL = [].concat(FIELDS.once, FIELDS.interval, FIELDS.crontab);

  function rowOf(name) {
    // A date-and-time field is two inputs (id_run_at_0, id_run_at_1).
    var input = document.getElementById("id_" + name) || document.getElementById("id_" + name + "_0");
    if (!input) { return null; }
    return input.closest(".fieldBox") || input.closest(".form-row");
  }

  function showSchedule() {
    var select = document.getElementById("id_schedule");
    if (!select) { return; }
    var wanted = FIELDS[select.value] || [];
    ALL.forEach(function (name) {
      var row = rowOf(name);
      if (row) { row.hidden = wanted.indexOf(name) === -1; }
    });
    // A multi-field line (every + unit, the calendar) hides when none of its boxes shows.
    document.querySelectorAll(".form-row").forEach(function (row) {
      var boxes = row.querySelectorAll(".fieldBox");
      if (!boxes.length) { return; }
      var visible = Array.prototype.some.call(boxes, function (box) { return !box.hidden; });
      row.hidden = !visible;
    });
  }

  var AB_FIELDS = ["ab_winner_rule", "ab_test_percent", "ab_holdout_percent", "ab_wait_hours"];

  function variantCount() {
    // Rows of the A/B variants inline with a message type chosen and not marked for deletion.
    var count = 0;
    document.querySelectorAll('[id^="id_variants-"][id$="-message_type"]').forEach(function (input) {
      var prefix = input.id.slice(0, -"message_type".length);
      var remove = document.getElementById(prefix + "DELETE");
      if (input.value && !input.id.includes("__prefix__") && !(remove && remove.checked)) { count += 1; }
    });
    return count;
  }

  function figures() {
    var box = document.getElementById("ace-audience-figures");
    var audience = document.getElementById("id_audience");
    var messageType = document.getElementById("id_message_type");
    var language = document.getElementById("id_language");
    if (!box || !audience) { return; }
    var out = box.querySelector('[data-figure="summary"]');
    if (!audience.value) { out.textContent = "Choose an audience to see who it reaches."; return; }
    var query = new URLSearchParams({audience: audience.value, message_type: messageType ? messageType.value : "",
                                     language: language ? language.value : "", variants: String(variantCount())});
    AB_FIELDS.forEach(function (name) {
      var input = document.getElementById("id_" + name);
      if (input) { query.set(name, input.value); }
    });
    out.textContent = "Counting…";
    fetch(box.dataset.url + "?" + query.toString(), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.error) { out.textContent = data.error; return; }
        var languages = Object.keys(data.languages).map(function (key) {
          return (key || "default") + ": " + data.languages[key];
        }).join(", ");
        out.textContent = (data.complete ? "" : "At least ") + data.size + " people (" + languages + "); " +
          data.opted_out + " opted out, " + data.suppressed + " suppressed: " + data.sendable +
          " messages to send; " + data.duration + "." + (data.ab_text ? " " + data.ab_text : "");
        box.dataset.size = String(data.size);
      })
      .catch(function () { out.textContent = "The figures could not be computed."; });
  }

  function start() {
    var select = document.getElementById("id_schedule");
    if (select) { select.addEventListener("change", showSchedule); showSchedule(); }
    ["id_audience", "id_message_type", "id_language"].concat(AB_FIELDS.map(function (name) {
      return "id_" + name;
    })).forEach(function (id) {
      var input = document.getElementById(id);
      if (input) { input.addEventListener("change", figures); }
    });
    // The variants inline: rows added, removed, or their message type chosen.
    document.addEventListener("change", function (event) {
      if (event.target.id && event.target.id.indexOf("id_variants-") === 0) { figures(); }
    });
    // Autocomplete widgets (select2) announce their changes through jQuery only.
    if (window.django && window.django.jQuery) {
      window.django.jQuery("#id_audience, #id_message_type").on("change", figures);
      window.django.jQuery(document).on("change", "[id^='id_variants-'][id$='-message_type']", figures);
      window.django.jQuery(document).on("formset:removed", figures);
    }
    figures();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
