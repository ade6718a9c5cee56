// Desk corrections, voids and refunds act only on a tap or click of their button (or Enter / Space
// on the button itself), like a payment: the cursor rests in Reason, and a keyboard-wedge scanner
// types a ticket number there and then Enter, which must not void or refund anything. Without JS
// the forms are plain forms.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || !field || field.tagName !== "INPUT" || !field.form) { return; }
    if (field.form.hasAttribute("data-tap-to-submit")) { event.preventDefault(); }
  }, true);
})();
