// Desk: a payment is taken only by a click or tap on Confirm, or its explicit activation from the
// keyboard: Space, or Enter, on Confirm with nothing typed since the focus came to it. A Space on
// Confirm presses it SPACE_WAIT_MS later, unless another key follows meanwhile: a scan that starts
// with a space (" 0002", a code printed with a leading blank) is a burst, never a press.
// A keyboard-wedge scanner types a code and then Enter wherever the focus is, so while a quote is
// open: keys typed in the payment form (or on the page itself) are collected and their Enter looks
// the scanned code up instead (or, for a code that is not a ticket number's, applies it as a
// merchant's validation code); a space inside those keys ("CIN 0002") presses nothing; and an Enter
// after keys never pays, even one that comes late (the keys are then dropped: nothing happens). An
// Enter or a Space alone on Confirm is a person's. Without JS the form is a plain form: the
// attendant picks a method and presses Confirm (the server refuses no method).
(function () {
  "use strict";
  var typed = "", lastKey = 0, GAP_MS = 1000;  // a scan is a burst: a pause starts a new one
  var keyed = false;  // a key typed in the payment form since the focus last moved (then Enter never pays)
  // A Space on Confirm waiting to press it: a person's Space is alone for far longer than this, a
  // scanner's next key comes within a few ms (a slow one's within ~50).
  var SPACE_WAIT_MS = 150, spaced = null;  // {button, timer}
  function unpress() {
    if (!spaced) { return false; }
    clearTimeout(spaced.timer);
    spaced = null;
    return true;
  }
  document.addEventListener("focusin", function () { keyed = false; unpress(); });

  function isField(el) {
    if (!el || !el.tagName) { return false; }
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") { return true; }
    return el.tagName === "INPUT" && !/^(radio|checkbox|button|submit|reset|hidden)$/i.test(el.type);
  }

  function lookUp(code) {
    var input = document.getElementById("lookup-q");
    if (!input || !input.form) { return; }
    input.value = code;
    var lost = input.form.querySelector('input[name="lost"]');
    if (lost) { lost.checked = false; }  // a scanned ticket is not a lost one
    if (input.form.requestSubmit) { input.form.requestSubmit(); } else { input.form.submit(); }
  }

  // A merchant's validation code scanned while the quote is open: into "Validation code" and applied
  // (the driver hands over the cinema's stamp, the attendant scans it without tapping the field first).
  // Only what has a ticket number's shape (the plate field's data-scanned-ticket) is looked up.
  function validate(code) {
    var input = document.getElementById("validation-code");
    var shape = document.querySelector("[data-scanned-ticket]");
    if (!input || !input.form || !shape) { return false; }
    if (new RegExp(shape.getAttribute("data-scanned-ticket")).test(code.toUpperCase())) { return false; }
    input.value = code;
    if (input.form.requestSubmit) { input.form.requestSubmit(); } else { input.form.submit(); }
    return true;
  }

  // The lookup and validation-code fields select their text when they get the focus (after a lookup
  // or a refused code, htmx focuses them): the next scan replaces what was there instead of adding to it.
  document.addEventListener("focusin", function (event) {
    var id = event.target && event.target.id;
    if ((id === "lookup-q" || id === "validation-code") && event.target.select) { event.target.select(); }
  });

  // The plate field is where the cursor rests after every entry, so a ticket is often scanned there
  // (issue 15). A burst of keys ending in Enter (a scanner: on average at most BURST_MS per key from
  // its first key to the Enter) whose text has exactly a ticket number's shape (the field's
  // data-scanned-ticket) is looked up instead of issued; the field gets back what it held before the
  // burst. A plate typed by hand, even one shaped alike (Pirmasens: PS-...), is never that fast and
  // is issued as ever. The times are the events' own (when the key was pressed), not when this
  // handler ran: a busy tablet that handles queued keys back to back does not turn typing into a
  // scan, and one hiccup of the scanner (up to PAUSE_MS) does not split a scan. A scan that follows
  // letters typed by hand without a pause (a plate half typed, then a ticket scanned) is the end of
  // the keys: the longest such end that is a ticket number typed at a scanner's pace is looked up,
  // and the field keeps what was typed by hand before it. Without JS the server refuses the number
  // of an existing ticket as a plate.
  var BURST_MS = 50, PAUSE_MS = 250, burst = null;  // {start: the field's value before, keys, times, last}
  document.addEventListener("keydown", function (event) {
    var field = event.target, pattern = field && field.getAttribute && field.getAttribute("data-scanned-ticket");
    if (!pattern || event.ctrlKey || event.metaKey || event.altKey) { burst = null; return; }
    var now = event.timeStamp || Date.now();
    if (!burst || now - burst.last > PAUSE_MS) { burst = { start: field.value, keys: "", times: [], last: now }; }
    burst.last = now;
    if (event.key !== "Enter") {
      if (event.key && event.key.length === 1) { burst.keys += event.key; burst.times.push(now); } else { burst = null; }
      return;
    }
    var keys = burst.keys, times = burst.times, before = burst.start, shape = new RegExp(pattern), at = -1;
    burst = null;
    for (var i = 0; i < keys.length && at < 0; i++) {
      if ((now - times[i]) <= BURST_MS * (keys.length - i) && shape.test(keys.slice(i).trim().toUpperCase())) { at = i; }
    }
    if (at < 0 || !document.getElementById("lookup-q")) { return; }
    event.preventDefault();  // not an entry
    event.stopImmediatePropagation();
    field.value = before + keys.slice(0, at);
    lookUp(keys.slice(at).trim().toUpperCase());
  }, true);

  // A key typed while the focus is on a control the attendant just tapped (a vehicle type, the lost-ticket
  // switch, the ticket card's menu, a button) is a scan or typing meant for a field, not for that control
  // (a scanner types wherever the focus is: the letters were lost, a space toggled the switch). Outside the
  // payment form, which collects its own keys (below), a printable key other than a space moves the focus
  // to the exit side's look-up field (from a control there) or to the plate field (anywhere else), and
  // the key lands in it; an open menu closes. A space alone still toggles (keyboard use).
  document.addEventListener("keydown", function (event) {
    var target = event.target, pay = document.querySelector("form[data-pay-form]");
    if (!target || isField(target) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (!event.key || event.key.length !== 1 || event.key === " " || (pay && pay.contains(target))) { return; }
    var onPage = target === document.body || target === document.documentElement;
    if (onPage && pay) { return; }  // a quote is open: its keys are collected below
    var exit = document.getElementById("exit");
    var field = document.getElementById(exit && exit.contains(target) ? "lookup-q" : "plate");
    if (!field) { return; }
    var menu = target.closest && target.closest("details[open]");
    if (menu) { menu.removeAttribute("open"); }
    field.focus();  // the look-up field selects its text on focus (above): the scan replaces the last one
    // This key is the first of what is typed there: where the field tells a scanned ticket (the plate
    // field), the burst starts with it (the detector above saw it on the page or a control, not in a field).
    if (field.getAttribute("data-scanned-ticket")) {
      var now = event.timeStamp || Date.now();
      burst = { start: field.value, keys: event.key, times: [now], last: now };
    }
  }, true);

  document.addEventListener("keydown", function (event) {
    var form = document.querySelector("form[data-pay-form]");
    var target = event.target;
    var inPay = !!form && form.contains(target);
    var onPage = target === document.body || target === document.documentElement;
    if (!form || !(inPay || onPage) || (!inPay && isField(target))) { typed = ""; return; }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var now = Date.now();
    if (now - lastKey > GAP_MS) { typed = ""; }
    lastKey = now;
    var confirm = inPay && target.tagName === "BUTTON" && target.type === "submit";
    if (event.key === "Enter") {
      var code = typed.trim(), pressed = !code && !keyed && !unpress();  // right after a Space: a burst
      typed = "";
      keyed = false;
      // Enter on the focused Confirm with nothing typed since the focus came to it: a keyboard's press.
      if (pressed && confirm) { return; }
      event.preventDefault();  // after keys (a scan) never a payment: not the radios, not Confirm itself
      event.stopPropagation();
      if (code && !validate(code)) { lookUp(code); }
      return;
    }
    if (!event.key || event.key.length !== 1) { return; }
    if (event.key === " ") {  // alone: ticks a method, presses Confirm; inside a scan's keys: nothing
      if (typed || event.repeat) { event.preventDefault(); return; }  // a held Space presses once
      if (!confirm) { return; }  // a method's radio ticks
      event.preventDefault();  // the button's own press would come on keyup, whatever follows
      if (unpress()) { keyed = true; return; }  // Spaces in a burst: nothing
      spaced = { button: target, timer: setTimeout(function () {
        var button = spaced && spaced.button;
        spaced = null;
        if (button && document.contains(button) && !button.disabled && document.activeElement === button) { button.click(); }
      }, SPACE_WAIT_MS) };
      return;
    }
    unpress();  // a key right after a Space: the Space began a scan
    typed += event.key;
    keyed = true;
  }, true);
})();
