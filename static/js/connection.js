// Shared by the lobby screen (lobby.js) and the desk (desk-connection.js): whether the page's
// requests reach the server, told from htmx's events, and two DOM helpers for status text that
// changes every second without churning nodes. Load it before the page's own script (defer keeps
// the order). Nothing here sends a request: a failed one is never sent again by this code.
(function () {
  "use strict";
  if (window.garageConnection) { return; }

  // htmx's events for a request that got no usable answer: no connection (sendError), no answer
  // in time (timeout: htmx has aborted it, the server may still have acted), an error status
  // (responseError), or cancelled (sendAbort).
  var FAILURES = ["htmx:sendError", "htmx:timeout", "htmx:responseError", "htmx:sendAbort"];

  // watch(mine, ok, failed): ok(event) after each of `mine`'s requests that got a 200 or 304
  // (or any 2xx when anyStatus), failed(event) after each that did not. mine(event) → boolean.
  function watch(mine, ok, failed, anyStatus) {
    document.addEventListener("htmx:afterRequest", function (event) {
      if (!mine(event) || !event.detail.successful) { return; }
      var status = event.detail.xhr ? event.detail.xhr.status : 0;
      if (status === 200 || status === 304 || (anyStatus && status >= 200 && status < 500)) { ok(event); }
    });
    FAILURES.forEach(function (name) {
      document.addEventListener(name, function (event) { if (mine(event)) { failed(event); } });
    });
  }

  function setHidden(el, hidden) { if (el.hidden !== hidden) { el.hidden = hidden; } }
  function setText(el, text) {
    // Reuse the text node: no node churn even after weeks of ticking.
    if (el.firstChild && el.firstChild.nodeType === 3) {
      if (el.firstChild.nodeValue !== text) { el.firstChild.nodeValue = text; }
    } else { el.textContent = text; }
  }

  window.garageConnection = { watch: watch, setHidden: setHidden, setText: setText };
}());
