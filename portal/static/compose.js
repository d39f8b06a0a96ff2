// A live character and segment count under a text's box, counted as
// portal/messaging/segments.py counts (GSM-7 160/153, otherwise Unicode 70/67).
// Optional: without JavaScript the preview shows the same count from the server.
(function () {
  "use strict";
  var GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXTENDED = "^{}\\[~]|€\f";

  function count(text) {
    var units = 0, gsm = true, i, c;
    for (i = 0; i < text.length; i++) {
      c = text.charAt(i);
      if (GSM_BASIC.indexOf(c) >= 0) { units += 1; }
      else if (GSM_EXTENDED.indexOf(c) >= 0) { units += 2; }
      else { gsm = false; break; }
    }
    // Outside GSM-7, UCS-2 counts UTF-16 code units, which is what String.length counts.
    if (!gsm) { units = text.length; }
    var single = gsm ? 160 : 70, part = gsm ? 153 : 67;
    var segments = units === 0 ? 0 : (units <= single ? 1 : Math.ceil(units / part));
    return { characters: units, segments: segments, encoding: gsm ? "GSM-7" : "Unicode" };
  }

  function show(box, out) {
    // The server sends "\r\n" as "\n": count the text as it will be sent.
    var c = count(box.value.replace(/\r\n/g, "\n"));
    out.textContent = c.characters + " characters, " + c.segments + " segment" +
      (c.segments === 1 ? "" : "s") + " (" + c.encoding + ")" +
      (c.segments > 10 ? ": over the 10 that can be sent." : ".") +
      " Placeholders count as typed; the preview counts them filled in.";
    out.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("body"), out = document.getElementById("body-count");
    if (!box || !out) { return; }
    box.addEventListener("input", function () { show(box, out); });
    show(box, out);
  });
})();
