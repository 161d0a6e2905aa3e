// Keeps the open queue current: every few seconds, asks the server for the table body with the
// same filters and swaps it in. Rows that were not there before are highlighted for a moment.
(function () {
  "use strict";
  var current = document.getElementById("queue-rows");
  if (!current || !window.fetch || !window.DOMParser) return;
  var summary = document.getElementById("queue-summary");
  var live = document.getElementById("queue-live");
  var seconds = Number(current.getAttribute("data-refresh-seconds")) || 10;

  function references(tbody) {
    var found = {};
    tbody.querySelectorAll("tr[data-reference]").forEach(function (row) {
      found[row.getAttribute("data-reference")] = true;
    });
    return found;
  }

  function refresh() {
    if (document.hidden) return;
    var url = current.getAttribute("data-refresh-url");
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch", Accept: "text/html" } })
      .then(function (response) {
        if (response.status === 401) {
          // Signed out (session expired): go to the sign-in page and come back here afterwards.
          window.location.assign("/staff/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
          return null;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (text) {
        if (text === null) return;
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("queue-rows");
        if (!fresh) return;
        var known = references(current);
        fresh.querySelectorAll("tr[data-reference]").forEach(function (row) {
          if (!known[row.getAttribute("data-reference")]) row.classList.add("row-new");
        });
        var adopted = document.importNode(fresh, true);
        current.replaceWith(adopted);
        current = adopted;
        if (summary) summary.textContent = adopted.getAttribute("data-summary") || summary.textContent;
        if (live) live.classList.remove("stale");
      })
      .catch(function () {
        if (live) live.classList.add("stale");
      });
  }

  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });
})();
