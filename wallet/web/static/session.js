// Warns before the session times out and lets the person stay signed in (WCAG 2.2.1 Timing Adjustable).
// Without JavaScript the session still ends after the idle time; the sign-in page then explains why.
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds"), 10);
  var warnBefore = parseInt(body.getAttribute("data-warning-seconds"), 10);
  if (!idle || !warnBefore) { return; }
  var dialog = document.getElementById("session-warning");
  var stay = document.getElementById("session-stay");
  var timers = [];
  function clear() { timers.forEach(clearTimeout); timers = []; }
  function schedule() {
    clear();
    timers.push(setTimeout(function () {
      dialog.hidden = false;
      stay.focus();
    }, Math.max(0, idle - warnBefore) * 1000));
    timers.push(setTimeout(function () {
      window.location.reload();
    }, (idle + 2) * 1000));
  }
  stay.addEventListener("click", function () {
    var token = document.querySelector("meta[name=csrf-token]").getAttribute("content");
    fetch("/session/extend", { method: "POST", headers: { "X-CSRFToken": token }, credentials: "same-origin" })
      .then(function (response) {
        if (response.ok) { dialog.hidden = true; schedule(); } else { window.location.reload(); }
      });
  });
  schedule();
}());
