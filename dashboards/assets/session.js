// The room page's session panel: start, events, discharge and end, through the command API.
(function () {
  "use strict";
  function value(id) {
    var el = document.getElementById(id);
    return el && el.value !== "" ? el.value : null;
  }
  function number(id) {
    var v = value(id);
    return v === null ? null : Number(v);
  }
  function panel() { return document.querySelector("[data-session-room]"); }
  function showResult(text) {
    var el = document.querySelector('[data-field="discharge"]');
    if (el) { el.textContent = text; }
  }
  function describe(check) {
    var lines = check.discharged ? ["Discharged."] :
      (check.ok ? ["Ready for discharge."] : ["Not ready: " + check.reasons.join("; ")]);
    return lines.concat(check.facts).join("\n");
  }

  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-action]") : null;
    var p = panel();
    if (!el || !p || !window.ivmonCommand) { return; }
    var action = el.getAttribute("data-action");
    var sid = p.getAttribute("data-session-id");
    var room = p.getAttribute("data-session-room");
    if (action === "session-start") {
      var checked = document.querySelector("#session-protocol input:checked");
      window.ivmonCommand("/api/rooms/" + encodeURIComponent(room) + "/sessions", {
        label: value("session-label"), mrn: value("session-mrn"),
        protocol: checked ? checked.value : "iv-ketamine", weight_kg: number("session-weight"),
        dose_mg_per_kg: number("session-dose"), duration_min: number("session-duration")
      });
    } else if (action === "session-event" && sid) {
      window.ivmonCommand("/api/sessions/" + sid + "/events",
        { kind: el.getAttribute("data-kind"), detail: value("session-note") || "" });
      var note = document.getElementById("session-note");
      if (note) { note.value = ""; }
    } else if (action === "discharge-check" && sid) {
      fetch("/api/sessions/" + sid + "/discharge", { credentials: "same-origin" })
        .then(function (r) { return r.json(); }).then(function (c) { showResult(describe(c)); });
    } else if (action === "discharge" && sid) {
      fetch("/api/sessions/" + sid + "/discharge", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ override: value("session-note") })
      }).then(function (r) { return r.json(); }).then(function (c) {
        showResult(c.detail ? c.detail : describe(c) + (c.discharged ? "" :
          "\nTo discharge anyway, write the reason in the detail box and press Discharge."));
      });
    } else if (action === "session-end" && sid) {
      window.ivmonCommand("/api/sessions/" + sid + "/end", {});
    }
  });
})();
