// The booking page's one script: the visitor's own time zone, from the browser, goes into
// the URL once so the server can show free times in it. Without script, the client's zone.
(function () {
  "use strict";
  if (!document.querySelector("[data-zone-auto]")) return;
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    return;
  }
  const url = new URL(window.location.href);
  if (!zone || url.searchParams.has("zone")) return;
  url.searchParams.set("zone", zone);
  window.location.replace(url.toString());
})();
