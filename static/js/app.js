// Garage: the only hand-written script on staff pages. Everything else is htmx.
// - After htmx swaps in content, focus the element marked data-autofocus
//   (a scanner or keyboard keeps typing into the right field).
document.addEventListener("htmx:afterSettle", function (event) {
  var target = event.detail.elt.querySelector ? event.detail.elt.querySelector("[data-autofocus]") : null;
  if (target) { target.focus(); if (target.select) { target.select(); } }
});
