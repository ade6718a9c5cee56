// Garage: the only hand-written script on staff pages. Everything else is htmx.
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
});
