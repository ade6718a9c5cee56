// Garage: the hand-written script on every staff page. Everything else is htmx.
// - After htmx swaps in content, focus the element marked data-autofocus with its text selected
//   (a scanner or keyboard keeps typing into the right field, replacing what was there). Done at the
//   swap itself, not at the settle ~20 ms later: keys of a scan that started in between would be
//   selected and overwritten by a second select() (a plate lost its first letters). For an outerHTML
//   swap the event names the element that was replaced: its successor is found by its id.
document.addEventListener("htmx:afterSwap", function (event) {
  var elt = event.detail.elt;
  var root = (elt.id && document.getElementById(elt.id)) || elt;
  var target = root.querySelector ? root.querySelector("[data-autofocus]") : null;
  if (target) { target.focus(); if (target.select) { target.select(); } }
  // - An element marked data-keep-in-view (the desk's Confirm under a quote) is scrolled just into
  //   view when the swap left it below the screen's edge (a portrait tablet with its browser's bars,
  //   longer German words, a validation's lines): the attendant sees what to tap next. Nothing moves
  //   when it is already on the screen.
  var keep = root.querySelector ? root.querySelector("[data-keep-in-view]") : null;
  if (keep && keep.scrollIntoView) { keep.scrollIntoView({block: "nearest", inline: "nearest"}); }
});
// - A form sent by htmx that got no usable answer (the server's 503 while the database is down, a
//   refusal htmx does not swap, no connection, no answer in time) says so under the form: the server's
//   own words when it sent some, else the page's (body data-text-request-failed). Without this, the
//   page stayed as it was and a manager could believe a change was saved. The desk says it its own way
//   (static/js/desk-connection.js). Removed when the form is sent again.
["htmx:responseError", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
  document.addEventListener(name, function (event) {
    var elt = event.detail.elt;
    var form = elt && elt.closest ? elt.closest("form") : null;
    if (!form || document.getElementById("desk-connection")) { return; }
    var xhr = event.detail.xhr, said = "";
    if (name === "htmx:responseError" && xhr && xhr.responseText) {
      // A fragment's alert (the 503), or the message of a whole error page (its <main>'s paragraph,
      // not its menu): the words, never the markup.
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var words = doc.querySelector("[role=alert], main p, p");
      said = words ? words.textContent.trim() : "";
    }
    var note = form.querySelector("[data-request-failed]") || document.createElement("p");
    note.className = "notice error";
    note.setAttribute("role", "alert");
    note.setAttribute("data-request-failed", "");
    note.textContent = said.slice(0, 300) || document.body.getAttribute("data-text-request-failed") || "";
    form.appendChild(note);
  });
});
document.addEventListener("htmx:beforeRequest", function (event) {
  var form = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest("form") : null;
  var note = form ? form.querySelector("[data-request-failed]") : null;
  if (note) { note.remove(); }
});
