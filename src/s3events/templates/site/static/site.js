/* s3events event page: each session in the visitor's own time zone, and the time zone of
   the registration form preselected from the browser. Plain JavaScript, no dependencies:
   the page works without it (times are then shown in the organiser's zone only). */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  function visitorZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return "";
    }
  }

  function zoneNames() {
    var node = document.getElementById("zone-names");
    if (!node) { return {}; }
    try { return JSON.parse(node.textContent || "{}"); } catch (e) { return {}; }
  }

  function labelOf(zone, names, pattern) {
    if (names[zone]) { return names[zone]; }
    var parts = zone.split("/");
    return pattern.replace("{city}", parts[parts.length - 1].replace(/_/g, " "));
  }

  function showLocalTimes(zone) {
    var programme = document.getElementById("programme");
    if (!programme || !zone || zone === programme.getAttribute("data-zone")) { return; }
    var lang = root.lang || "en";
    var label = labelOf(zone, zoneNames(),
                        programme.getAttribute("data-zone-pattern") || "{city}");
    var yours = programme.getAttribute("data-yours") || "";
    var day = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeZone: zone });
    var time = new Intl.DateTimeFormat(lang, {
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone
    });
    var items = programme.querySelectorAll(".your-time[data-start][data-end]");
    Array.prototype.forEach.call(items, function (item) {
      var start = new Date(item.getAttribute("data-start"));
      var end = new Date(item.getAttribute("data-end"));
      if (isNaN(start.getTime()) || isNaN(end.getTime())) { return; }
      var startDay = day.format(start);
      var endDay = day.format(end);
      var until = endDay === startDay ? time.format(end) : endDay + ", " + time.format(end);
      item.textContent = yours + " " + startDay + ", " + time.format(start) + "\u2013" +
        until + " (" + label + ")";
      item.setAttribute("data-zone", zone);
      item.hidden = false;
    });
  }

  function preselectZone(zone) {
    var select = document.getElementById("f-timezone");
    if (!select || select.getAttribute("data-detect") !== "1" || !zone) { return; }
    var found = Array.prototype.some.call(select.options, function (option) {
      return option.value === zone;
    });
    if (!found) {
      var option = document.createElement("option");
      option.value = zone;
      option.textContent = zone;
      select.insertBefore(option, select.firstChild);
    }
    select.value = zone;
  }

  function focusErrors() {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  }

  function start() {
    var zone = visitorZone();
    showLocalTimes(zone);
    preselectZone(zone);
    focusErrors();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
