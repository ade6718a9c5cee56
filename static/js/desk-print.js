// Print pages of the desk: the Print button, and printing once on open when asked (?auto=1).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".js-print").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  if (document.querySelector("[data-autoprint]")) { window.print(); }
});
