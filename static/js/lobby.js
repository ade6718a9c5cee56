// Lobby screen: runs for weeks without a reload. htmx polls #lobby-live; this file only
// (1) skips swaps when the panel is unchanged (ETag; the browser turns the server's 304 into
//     a 200 from its cache, so htmx would otherwise re-swap identical HTML every poll),
// (2) shows "Reconnecting…" and the data's age while polls fail, hides them on success
//     (told by static/js/connection.js, shared with the desk),
// (3) keeps the clock in the garage's timezone, from the browser's own clock, written in the format
//     locale the server rendered it in (#lobby-clock data-locale and data-hour: en-US "2:05 PM",
//     de-DE "00:09" and "14:05"),
// (4) on a two-language screen, shows the panel's words in one language, then the other, every
//     data-alternate-ms (a class on #lobby-live, which swaps keep: the words come with each panel).
// Words it writes come from the page (data-* attributes rendered in the screen's language).
// Listeners are attached once (guarded), on document; the DOM is only ever swapped in place.
(function () {
  "use strict";
  if (window.garageLobby) { return; }
  var stats = { polls: 0, swaps: 0, skipped: 0, errors: 0, lastStatus: null };
  window.garageLobby = stats;

  var live, badge, age, timeEl, dateEl, pollMs, lastEtag, lastOk = Date.now(), failing = false;
  var clockKey = "", alternateMs, secondTurn = false;

  function bareEtag(value) { return (value || "").replace(/^W\//, "").replace(/"/g, ""); }
  function fromLobby(event) { return live && event.detail && event.detail.elt === live; }

  function worded(name, n, m) {
    return (age.getAttribute("data-" + name) || "").replace("{n}", n).replace("{m}", m);
  }
  function ageText(ms) {
    var s = Math.floor(ms / 1000);
    if (s < 60) { return worded("seconds", s); }
    var m = Math.floor(s / 60);
    if (m < 60) { return worded("minutes", m); }
    var h = Math.floor(m / 60);
    return worded("hours", h, m % 60);
  }

  var connection = window.garageConnection, setHidden = connection.setHidden, setText = connection.setText;

  function renderStatus() {
    var stale = Date.now() - lastOk > 3 * pollMs;
    setHidden(badge, !failing);
    setHidden(age, !(failing && stale));
    if (failing && stale) { setText(age, ageText(Date.now() - lastOk)); }
    document.body.classList.toggle("is-stale", failing && stale);
  }

  var formatters = {};
  function formatterFor(tz) {
    if (!formatters[tz]) {
      var clock = document.getElementById("lobby-clock");
      var locale = clock.getAttribute("data-locale") || "en-US";
      var hour = clock.getAttribute("data-hour") || "numeric";  // "2-digit" where the locale writes 00:09
      try {
        formatters[tz] = {
          time: new Intl.DateTimeFormat(locale, { timeZone: tz, hour: hour, minute: "2-digit" }),
          date: new Intl.DateTimeFormat(locale, { timeZone: tz, weekday: "long", day: "numeric", month: "long" })
        };
      } catch (e) { return null; }  // unknown zone or locale: keep the server-rendered time
    }
    return formatters[tz];
  }

  function tickClock() {
    var panel = live.querySelector(".panel");
    var tz = (panel && panel.getAttribute("data-timezone")) ||
      document.getElementById("lobby-clock").getAttribute("data-timezone");
    var f = formatterFor(tz);
    if (!f) { return; }
    var now = new Date(), time = f.time.format(now), date = f.date.format(now);
    if (time + "|" + date === clockKey) { return; }
    clockKey = time + "|" + date;
    setText(timeEl, time);
    setText(dateEl, date);
  }

  function ok() { lastOk = Date.now(); failing = false; renderStatus(); }
  function failed() { stats.errors += 1; failing = true; renderStatus(); }

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!fromLobby(event)) { return; }
    var xhr = event.detail.xhr;
    stats.polls += 1;
    stats.lastStatus = xhr.status;
    if (xhr.status === 304 || (xhr.status === 200 && !xhr.responseText)) {
      event.detail.shouldSwap = false;  // a raw 304 has no body: never swap it in
      stats.skipped += 1;
      return;
    }
    var etag = bareEtag(xhr.getResponseHeader("ETag"));
    if (xhr.status === 200 && etag && etag === lastEtag) {
      event.detail.shouldSwap = false;  // same panel (304 answered from the browser cache)
      stats.skipped += 1;
    } else if (xhr.status === 200 && etag) {
      lastEtag = etag;
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (fromLobby(event)) { stats.swaps += 1; tickClock(); }
  });
  connection.watch(fromLobby, ok, failed);  // static/js/connection.js

  function start() {
    live = document.getElementById("lobby-live");
    if (!live) { return; }
    badge = document.getElementById("lobby-reconnecting");
    age = document.getElementById("lobby-age");
    timeEl = document.getElementById("lobby-time");
    dateEl = document.getElementById("lobby-date");
    pollMs = parseInt(live.getAttribute("data-poll-ms"), 10) || 5000;
    lastEtag = bareEtag(live.getAttribute("data-etag"));
    alternateMs = parseInt(live.getAttribute("data-alternate-ms"), 10) || 10000;
    tickClock();
    window.setInterval(function () { tickClock(); renderStatus(); }, 1000);
    window.setInterval(function () {  // airport style: the second language's turn, then the first's
      secondTurn = !secondTurn && !!live.querySelector("[data-second]");
      live.classList.toggle("second-language", secondTurn);
    }, alternateMs);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
}());
