// While a long job runs (an import, a send of requests, a mass text being queued), its page
// fetches itself every few seconds and puts the new <main> in place of the old one. A reload
// (meta refresh) would throw a keyboard or screen reader user back to the top of the page
// each time; this keeps focus and scroll where they were. Optional: without JavaScript the
// page's "Check again" link does the same by hand.
(function () {
  "use strict";

  function marker(doc) {
    return doc.querySelector('meta[name="portal-refresh"]');
  }

  function schedule() {
    var found = marker(document);
    if (found) { window.setTimeout(update, Number(found.content) * 1000); }
  }

  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  function swap(next) {
    var main = document.getElementById("main"), fresh = next.getElementById("main");
    if (!main || !fresh) { return false; }
    // Whatever had focus gets it back in the new content: the same id, else the same place.
    var active = document.activeElement, focusedId = "", focusedAt = -1;
    if (main.contains(active) && active !== main) {
      focusedId = active.id;
      focusedAt = Array.prototype.indexOf.call(main.querySelectorAll(FOCUSABLE), active);
    }
    main.replaceChildren.apply(main, Array.prototype.map.call(fresh.childNodes, function (node) {
      return document.importNode(node, true);
    }));
    document.title = next.title;
    var again = (focusedId && document.getElementById(focusedId)) ||
      (focusedAt >= 0 && main.querySelectorAll(FOCUSABLE)[focusedAt]);
    if (again) { again.focus(); }
    if (!marker(next)) { marker(document).remove(); }  // done: stop asking
    return true;
  }

  function update() {
    window.fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (swap(new DOMParser().parseFromString(html, "text/html"))) { schedule(); }
      })
      // A failed fetch (server restarting, network gone) tries again at the next turn.
      .catch(schedule);
  }

  document.addEventListener("DOMContentLoaded", schedule);
})();
