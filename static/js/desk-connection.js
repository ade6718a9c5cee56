// Desk: what the attendant sees when the server cannot be reached (issue 15). Loaded after
// connection.js (shared with the lobby). Everything is told from htmx's events:
// - an action (Issue ticket, Find, Confirm, Exit in the list, a filter...) that gets no answer
//   says so at once next to it: "Not connected — nothing was recorded" when a look-up (a GET) or
//   an action tried while offline (never sent) failed; for a write that was sent (Issue ticket,
//   Confirm) "Not connected — it may have been recorded or not": the browser tells a refused
//   connection and one lost after the server got the request (the answer lost) alike, and the
//   second may have issued or paid; "No answer — check Recent activity before trying again" when
//   htmx gave up waiting (htmx.config.timeout, from #desk-connection's data-timeout-ms): the
//   request is aborted here, but the server may have acted on it, so the desk never claims it did not;
// - while the page's polls fail (no connection, no answer, 502/503/504) every polled panel shows
//   "Not connected — figures from HH:MM", and the actions are disabled (disabled + aria-disabled,
//   the reason in #desk-connection); an action tried anyway is not sent;
// - the first answer that gets through again undoes all of that and fires the reconnect event
//   (the panels reload on it: htmx.REFRESH_ON). Nothing is ever sent again by this code.
(function () {
  "use strict";
  if (window.garageDesk) { return; }
  var OFFLINE_STATUSES = [0, 502, 503, 504];  // no answer, or a proxy's / the database's outage
  var stats = { online: true, offlineSince: null, failures: 0, blocked: 0 };
  window.garageDesk = stats;

  var status = document.getElementById("desk-connection");
  if (!status || !window.htmx || !window.garageConnection) { return; }
  var connection = window.garageConnection;
  // The words, in the reader's language: rendered by the page (templates/desk/index.html, data-text-*),
  // {time} and {code} filled in here.
  function words(name, values) {
    var text = status.getAttribute("data-text-" + name) || "";
    Object.keys(values || {}).forEach(function (key) { text = text.split("{" + key + "}").join(values[key]); });
    return text;
  }
  var NOT_CONNECTED = words("not-connected");
  var NO_ANSWER = words("no-answer");
  var timeout = parseInt(status.getAttribute("data-timeout-ms"), 10);
  if (timeout > 0) { htmx.config.timeout = timeout; }
  var reconnected = status.getAttribute("data-reconnected-event");
  var arrived = new WeakMap();  // polled element → when its content came (Date.now())
  var lastOk = Date.now();

  function isPolled(el) { return !!el && !!el.getAttribute && /\bevery /.test(el.getAttribute("hx-trigger") || ""); }
  function polled() { return Array.prototype.filter.call(document.querySelectorAll("[hx-trigger]"), isPolled); }
  function isPoll(event) { return isPolled(event.detail.elt); }
  function clock(ms) {
    var d = new Date(ms);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function verb(event) {
    var config = event.detail.requestConfig;
    return ((config && config.verb) || "get").toLowerCase();
  }

  // --- the message next to an action -------------------------------------------------------
  function clearMessages() {
    document.querySelectorAll("[data-offline-message]").forEach(function (el) { el.remove(); });
  }
  function tell(elt, text) {
    clearMessages();
    var message = document.createElement("p");
    message.className = "notice offline-message";
    message.setAttribute("role", "alert");
    message.setAttribute("data-offline-message", "");
    message.textContent = text + " (" + clock(Date.now()) + ")";
    var form = elt.closest ? elt.closest("form") : null;
    var panel = elt.closest ? elt.closest("[hx-trigger]") : null;
    if (form) {
      form.appendChild(message);  // under the button that was pressed
    } else if (panel && isPolled(panel)) {
      panel.parentNode.insertBefore(message, panel);  // outside the list a poll replaces
    } else {
      elt.parentNode.insertBefore(message, elt.nextSibling);
    }
  }

  // --- offline: stale markers and disabled actions -----------------------------------------
  function markStale(panel) {
    if (panel.querySelector(":scope > [data-stale-marker]")) { return; }  // already marked
    var marker = document.createElement("p");
    marker.className = "stale-marker";
    marker.setAttribute("data-stale-marker", "");
    marker.textContent = words("stale", { time: clock(arrived.get(panel) || lastOk) });
    panel.classList.add("is-stale");
    var first = panel.firstElementChild;  // under the panel's title, if it starts with one
    panel.insertBefore(marker, first && /^H[1-6]$/.test(first.tagName) ? first.nextSibling : panel.firstChild);
  }
  function actions() {
    var main = document.getElementById("main") || document.body;
    return main.querySelectorAll("button, a[hx-get], a[hx-post]");
  }
  function disable(el) {
    if (el.hasAttribute("data-offline-disabled")) {  // already ours: htmx may have re-enabled it
      if (el.tagName === "BUTTON") { el.disabled = true; }
      return;
    }
    if (el.disabled) { return; }  // disabled for another reason (htmx, a request in flight)
    el.setAttribute("data-offline-disabled", el.getAttribute("aria-describedby") || "");
    el.setAttribute("aria-disabled", "true");
    el.setAttribute("aria-describedby", "desk-connection");
    if (el.tagName === "BUTTON") { el.disabled = true; } else { el.setAttribute("tabindex", "-1"); el.classList.add("is-disabled"); }
  }
  function enable(el) {
    var described = el.getAttribute("data-offline-disabled");
    el.removeAttribute("data-offline-disabled");
    el.removeAttribute("aria-disabled");
    if (described) { el.setAttribute("aria-describedby", described); } else { el.removeAttribute("aria-describedby"); }
    if (el.tagName === "BUTTON") { el.disabled = false; } else { el.removeAttribute("tabindex"); el.classList.remove("is-disabled"); }
  }

  // --- offline: the focus stays in a field ------------------------------------------------
  // Disabling the button just tapped drops the focus to <body>, where a scan's keys would vanish
  // without a word (issue 15): put it back in the field last used (else the plate), so a scan lands
  // there and its Enter says "Not connected".
  var lastField = null;
  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (el && el.tagName === "INPUT" && el.form && /^(text|search)$/i.test(el.type)) { lastField = el; }
  });
  function keepFocus() {
    var active = document.activeElement;
    if (active && active !== document.body && !active.disabled) { return; }
    var field = lastField && document.contains(lastField) ? lastField : document.getElementById("plate");
    if (field && !field.disabled) { field.focus({ preventScroll: true }); }
  }

  function goOffline() {
    stats.failures += 1;
    if (stats.online) { stats.online = false; stats.offlineSince = Date.now(); }
    connection.setText(status, words("offline", { time: clock(lastOk) }));
    connection.setHidden(status, false);
    document.body.classList.add("is-offline");
    polled().forEach(markStale);
    actions().forEach(disable);
    keepFocus();
  }
  function goOnline() {
    lastOk = Date.now();
    if (stats.online) { return; }
    stats.online = true;
    stats.offlineSince = null;
    connection.setHidden(status, true);
    document.body.classList.remove("is-offline");
    document.querySelectorAll("[data-stale-marker]").forEach(function (el) { el.remove(); });
    document.querySelectorAll(".is-stale").forEach(function (el) { el.classList.remove("is-stale"); });
    document.querySelectorAll("[data-offline-disabled]").forEach(enable);
    if (reconnected) { htmx.trigger(document.body, reconnected); }  // the panels reload (GETs only)
  }

  // --- htmx's events -------------------------------------------------------------------------
  // New content (the page, a poll's answer, an out-of-band panel): note when each panel's came.
  document.addEventListener("htmx:load", function (event) {
    var now = Date.now(), elt = event.detail.elt;
    if (!elt || !elt.querySelectorAll) { return; }
    if (isPolled(elt)) { arrived.set(elt, now); }
    elt.querySelectorAll("[hx-trigger]").forEach(function (el) { if (isPolled(el)) { arrived.set(el, now); } });
    if (!stats.online) { actions().forEach(disable); }
  });
  // htmx re-enables a form's button when its request ends (hx-disabled-elt), after an error status
  // has already put the desk offline: disable again whatever it re-enabled.
  document.addEventListener("htmx:afterRequest", function () {
    if (!stats.online) { actions().forEach(disable); keepFocus(); }
  });
  // While offline an action is not sent (a scanner's Enter, a link in the list...): say so instead.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (isPoll(event)) { return; }
    if (!stats.online) {
      event.preventDefault();
      stats.blocked += 1;
      tell(event.detail.elt, NOT_CONNECTED);
      return;
    }
    clearMessages();  // a new attempt: the last one's message no longer applies
  });
  // Enter in a field (a scanner's, a keyboard's) would submit nothing, its button being disabled:
  // say so where the attendant is looking.
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (stats.online || event.key !== "Enter" || !field.form || field.tagName !== "INPUT") { return; }
    event.preventDefault();
    stats.blocked += 1;
    tell(field, NOT_CONNECTED);
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-offline-disabled]") : null;
    if (link) { event.preventDefault(); event.stopPropagation(); }
  }, true);

  connection.watch(function () { return true; }, goOnline, function (event) {
    if (event.type === "htmx:sendAbort") { return; }  // replaced by a newer request: not an outage
    var code = event.detail.xhr ? event.detail.xhr.status : 0;
    var outage = event.type !== "htmx:responseError" || OFFLINE_STATUSES.indexOf(code) >= 0;
    if (!isPoll(event)) {
      var post = verb(event) !== "get";
      if (event.type === "htmx:sendError") {
        tell(event.detail.elt, post ? words("connection-lost") : NOT_CONNECTED);
      } else if (event.type === "htmx:timeout") {
        tell(event.detail.elt, post ? NO_ANSWER : words("no-answer-get"));
      } else {
        tell(event.detail.elt, words(post ? "error" : "error-get", { code: code }));
      }
    }
    if (outage) { goOffline(); }
  }, true);
}());
