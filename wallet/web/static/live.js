// Live updates for a wallet's transactions: an enhancement, the page is complete without it.
//
// Markup it looks for (see wallet/web/live.py):
//   <table id="transactions" data-live-url="/wallets/ID/live?after=N">   the feed, from the page's newest entry
//     <th data-live-column="date|description|reference|stream|in|out|balance">   what each column shows
//     <tbody><tr data-entry-id="...">                                      rows already shown are not repeated
//   [data-live-balance]            the wallet's balance (all funders); [data-live-balance="STREAM-ID"]: one funder's
//   optional: data-live-until="YYYY-MM-DD" on the table (a past period: later rows are not added there),
//             an element with id="live-status" to announce into (made here when absent).
// New rows go at the top of the table; screen readers hear one polite sentence, e.g.
// "New: Money received from Leeds adult social care, £1,860.00 paid in. Balance now £1,980.00."
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed or repeated.
(function () {
  "use strict";
  var table = document.getElementById("transactions");
  if (!table || !window.EventSource) { return; }
  var url = table.getAttribute("data-live-url");
  if (!url) { return; }
  var until = table.getAttribute("data-live-until");
  var body = table.tBodies[0] || table.appendChild(document.createElement("tbody"));
  var columns = [];
  var headers = table.tHead ? table.tHead.rows[0].cells : [];
  for (var i = 0; i < headers.length; i += 1) {
    columns.push({ key: headers[i].getAttribute("data-live-column") || "",
                   cls: headers[i].getAttribute("data-live-class") || headers[i].className || "" });
  }
  if (!columns.length) {
    columns = ["date", "description", "in", "out", "balance"].map(function (k) { return { key: k, cls: "" }; });
  }
  var perStream = columns.some(function (c) { return c.key === "stream"; });

  var status = document.getElementById("live-status");
  if (!status) {
    status = document.createElement("div");
    status.id = "live-status";
    status.className = "visually-hidden";
    document.body.appendChild(status);
  }
  status.setAttribute("aria-live", "polite");
  status.setAttribute("aria-atomic", "true");
  if (!status.getAttribute("role")) { status.setAttribute("role", "status"); }

  var pending = [];
  var timer = null;
  function announce(text, balanceText) {
    pending.push({ text: text, balance: balanceText });
    if (timer) { return; }
    timer = setTimeout(function () {   // several at once are said as one sentence, not a flood
      var said = pending.length <= 3 ? pending.map(function (p) { return p.text; }).join(" ")
        : pending.length + " new transactions. Balance now " + pending[pending.length - 1].balance + ".";
      pending = [];
      timer = null;
      status.textContent = said;
    }, 150);
  }

  function cellText(key, entry, line) {
    var src = line || entry;
    switch (key) {
      case "description": return entry.description;
      case "reference": return entry.reference || "";
      case "stream": return line ? line.stream : "";
      case "in": return src.amount_in_text;
      case "out": return src.amount_out_text;
      case "balance": return src.balance_text;
      default: return "";
    }
  }

  function row(entry, line) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-entry-id", entry.id);
    tr.className = "live-new";
    columns.forEach(function (c, index) {
      var cell = document.createElement(index === 0 && c.key === "date" && table.querySelector("tbody th") ? "th" : "td");
      if (cell.tagName === "TH") { cell.setAttribute("scope", "row"); }
      if (c.cls) { cell.className = c.cls; }
      if (c.key === "date") {
        var time = document.createElement("time");
        time.setAttribute("datetime", entry.date);
        time.textContent = entry.date_text;
        cell.appendChild(time);
      } else {
        cell.textContent = cellText(c.key, entry, line);
      }
      tr.appendChild(cell);
    });
    return tr;
  }

  function shown(id) {
    var rows = body.rows;
    for (var r = 0; r < rows.length; r += 1) {
      if (rows[r].getAttribute("data-entry-id") === id) { return true; }
    }
    return false;
  }

  function updateBalances(entry) {
    var figures = document.querySelectorAll("[data-live-balance]");
    for (var f = 0; f < figures.length; f += 1) {
      var which = figures[f].getAttribute("data-live-balance");
      if (!which) { figures[f].textContent = entry.balance_text; continue; }
      entry.lines.forEach(function (line) {
        if (line.stream_id === which) { figures[f].textContent = line.balance_text; }
      });
    }
  }

  var source = new EventSource(url, { withCredentials: true });
  source.addEventListener("entry", function (event) {
    var entry;
    try { entry = JSON.parse(event.data); } catch (e) { return; }
    if (!entry.moves_cash || shown(entry.id)) { return; }
    updateBalances(entry);
    if (!until || entry.date < until) {
      var rows = perStream ? entry.lines.map(function (line) { return row(entry, line); }) : [row(entry, null)];
      for (var k = rows.length - 1; k >= 0; k -= 1) { body.insertBefore(rows[k], body.firstChild); }
    }
    announce(entry.text, entry.balance_text);
  });
  source.addEventListener("reload", function (event) {
    source.close();
    var data = {};
    try { data = JSON.parse(event.data); } catch (e) { /* keep the default words */ }
    status.textContent = data.text || "There are new transactions. Reload the page to see them.";
  });
  source.addEventListener("error", function () {
    // Closed for good (signed out, or no longer allowed): the page still works, it just stops updating.
    if (source.readyState === EventSource.CLOSED) { source.close(); }
  });
}());
