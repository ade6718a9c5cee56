// Shifts: counting the drawer by denomination shows the total so far as the attendant types
// (each "Count by denomination" of the close and adjust forms). Progressive: the server still
// computes and checks the count; without JS the line stays hidden and nothing else changes. A
// count that is not a whole number shows "check the counts" instead of a total.
// Amounts are in the garage's currency: the output carries data-currency, data-locale and
// data-exponent (garage/templating.py money_data_attributes) and Intl.NumberFormat writes them as
// garage/domain/money.py format_money does ($1,234.50, 1.234,50 €, ￥1,234).
(function () {
  "use strict";

  function formatter(out) {
    var currency = out.getAttribute("data-currency") || "USD";
    var locale = out.getAttribute("data-locale") || "en-US";
    var exponent = parseInt(out.getAttribute("data-exponent") || "2", 10);
    var format;
    try {
      format = new Intl.NumberFormat(locale, {style: "currency", currency: currency,
                                              minimumFractionDigits: exponent, maximumFractionDigits: exponent});
    } catch (e) {
      format = null;
    }
    return function (minor) {
      var major = minor / Math.pow(10, exponent);
      return format ? format.format(major) : currency + " " + major.toFixed(exponent);
    };
  }

  function update(pieces, out, money) {
    var total = 0, bad = false;
    pieces.querySelectorAll("input[name^='count_']").forEach(function (input) {
      var value = input.value.trim();
      if (!value) { return; }
      if (!/^[0-9]{1,6}$/.test(value)) { bad = true; return; }
      total += parseInt(value, 10) * parseInt(input.name.slice(6), 10);
    });
    out.textContent = bad ? (out.getAttribute("data-text-bad") || "") : money(total);  // words from the page
  }

  document.querySelectorAll("details.pieces").forEach(function (pieces) {
    var line = pieces.querySelector(".pieces-total"), out = line && line.querySelector("output");
    if (!out) { return; }
    var money = formatter(out);
    line.hidden = false;
    update(pieces, out, money);
    pieces.addEventListener("input", function () { update(pieces, out, money); });
  });
})();
