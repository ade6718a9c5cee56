// Shifts: counting the drawer by denomination shows the total so far as the attendant types
// (each "Count by denomination" of the close and adjust forms). Progressive: the server still
// computes and checks the count; without JS the line stays hidden and nothing else changes. A
// count that is not a whole number shows "check the counts" instead of a total.
(function () {
  "use strict";

  function dollars(cents) {  // as garage/domain/money.py format_dollars: $1,234.50
    var whole = String(Math.floor(cents / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var rest = String(cents % 100);
    return "$" + whole + "." + (rest.length < 2 ? "0" + rest : rest);
  }

  function update(pieces, out) {
    var total = 0, bad = false;
    pieces.querySelectorAll("input[name^='count_']").forEach(function (input) {
      var value = input.value.trim();
      if (!value) { return; }
      if (!/^[0-9]{1,6}$/.test(value)) { bad = true; return; }
      total += parseInt(value, 10) * parseInt(input.name.slice(6), 10);
    });
    out.textContent = bad ? (out.getAttribute("data-text-bad") || "") : dollars(total);  // words from the page
  }

  document.querySelectorAll("details.pieces").forEach(function (pieces) {
    var line = pieces.querySelector(".pieces-total"), out = line && line.querySelector("output");
    if (!out) { return; }
    line.hidden = false;
    update(pieces, out);
    pieces.addEventListener("input", function () { update(pieces, out); });
  });
})();
