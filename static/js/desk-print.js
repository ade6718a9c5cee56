// Printing at the desk. Loaded by the desk and by its print pages.
// - A print page (/desk/tickets/<n>/print, /receipt): its Print button, and printing once on
//   open when asked (?auto=1).
// - The desk: "Print ticket" / "Print receipt" load that print page (?auto=1) in a hidden frame,
//   which prints itself: no new tab, the desk stays where it is. Without JS the link opens the page.
// - "Print every ticket automatically": a setting of this tablet (localStorage, off by default).
//   It prints the card the server marks data-issued-now (the answer to this desk's own entry),
//   once per ticket number: never again on a re-render, and never a receipt.
(function () {
  var SETTING = "garage.desk.autoprint";
  var PRINTED = "garage.desk.autoprinted";  // the last numbers printed automatically
  var KEEP = 20;

  function stored(key, fallback) {
    try { var value = window.localStorage.getItem(key); return value === null ? fallback : value; }
    catch (e) { return fallback; }  // storage refused (private mode): the setting stays off
  }

  function store(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* not kept: off next time */ }
  }

  function printInFrame(url, from) {
    var old = document.getElementById("print-frame");
    if (old) { old.remove(); }
    var frame = document.createElement("iframe");
    frame.id = "print-frame";
    frame.className = "print-frame";
    var words = document.getElementById("js-words");  // the page's language (templates/base.html)
    frame.title = (words && words.getAttribute("data-printing")) || "Printing";
    frame.tabIndex = -1;
    frame.setAttribute("aria-hidden", "true");
    // The next scan goes where it went before: the field of the card the print came from.
    var section = from && from.closest ? from.closest("section") : null;
    var field = section ? section.querySelector("[data-autofocus]") : null;
    frame.addEventListener("load", function () {
      // Back from the print dialog, unless the attendant has moved on to another field meanwhile.
      var now = document.activeElement;
      if (field && (!now || now === frame || now === document.body)) { field.focus(); }
    });
    frame.src = url;
    document.body.appendChild(frame);
    if (field) { field.focus(); }
  }

  function autoprint(root) {
    var card = root.querySelector ? root.querySelector(".ticket-card[data-issued-now]") : null;
    if (!card || stored(SETTING, "off") !== "on") { return; }
    var number = card.querySelector("[data-ticket-number]").textContent.trim();
    var printed = stored(PRINTED, "").split(" ").filter(Boolean);
    if (printed.indexOf(number) !== -1) { return; }
    store(PRINTED, printed.concat([number]).slice(-KEEP).join(" "));
    printInFrame(card.querySelector("a[data-print-frame]").href, card);
  }

  function showToggle(root) {
    var box = root.querySelector ? root.querySelector("[data-autoprint-toggle]") : null;
    if (!box) { return; }
    box.checked = stored(SETTING, "off") === "on";
    box.closest("label").hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    // On a print page.
    document.querySelectorAll(".js-print").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    if (document.querySelector("[data-autoprint]")) { window.print(); return; }

    // On the desk: every print link, also in cards swapped in later.
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[data-print-frame]") : null;
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button > 0) { return; }
      event.preventDefault();
      printInFrame(link.href, link);
    });
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("[data-autoprint-toggle]")) {
        store(SETTING, event.target.checked ? "on" : "off");
      }
    });
    showToggle(document);
  });

  // Content htmx swaps in (the entry card after each entry).
  document.addEventListener("htmx:load", function (event) {
    showToggle(event.detail.elt);
    autoprint(event.detail.elt);
  });
})();
