// Keeps the open queue current. Every few seconds it asks the server whether anything changed,
// sending the change token it has (If-None-Match): "304 Not Modified" costs nothing to render.
// When something did change, the new table body is swapped in (ticked rows stay ticked), new and
// newly unread rows are highlighted for a moment, the tab counts and the summary are updated, the
// browser tab's title shows the unread count ("(3) Ticket queue"), and, if the staff member turned
// the sound on (remembered in this browser), a short beep says that a resident wrote.
(function () {
  "use strict";
  var current = document.getElementById("queue-rows");
  if (!current) return;
  var summary = document.getElementById("queue-summary");
  var live = document.getElementById("queue-live");
  var soundButton = document.getElementById("queue-sound");
  var selectAll = document.getElementById("queue-select-all");
  var bulkHint = document.getElementById("bulk-selected");
  var bulkForm = document.getElementById("bulk");
  var seconds = Number(current.getAttribute("data-refresh-seconds")) || 10;
  var SOUND_KEY = "baladiya.queue.sound";
  var audio = null;

  // ---- selection (bulk actions) ----

  function boxes() {
    return current.querySelectorAll('input[type="checkbox"][name="reference"]');
  }

  function selectedReferences() {
    var refs = [];
    boxes().forEach(function (box) {
      if (box.checked) refs.push(box.value);
    });
    return refs;
  }

  function showSelection() {
    var count = selectedReferences().length;
    var all = boxes().length;
    if (bulkHint) {
      bulkHint.textContent = count > 0 ? (bulkHint.getAttribute("data-selected") || "") + " " + count : bulkHint.getAttribute("data-none") || "";
    }
    if (bulkForm) bulkForm.classList.toggle("idle", count === 0);
    if (selectAll) {
      selectAll.checked = all > 0 && count === all;
      selectAll.indeterminate = count > 0 && count < all;
    }
  }

  if (selectAll) {
    selectAll.hidden = false;
    selectAll.addEventListener("change", function () {
      boxes().forEach(function (box) {
        box.checked = selectAll.checked;
      });
      showSelection();
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "reference" && current.contains(event.target)) showSelection();
  });

  // ---- sound ----

  function soundOn() {
    try {
      return window.localStorage.getItem(SOUND_KEY) === "on";
    } catch (e) {
      return false;
    }
  }

  function showSound() {
    if (!soundButton) return;
    var on = soundOn();
    soundButton.setAttribute("aria-pressed", on ? "true" : "false");
    soundButton.textContent = soundButton.getAttribute(on ? "data-on" : "data-off");
  }

  /** A short, soft two-tone beep made on the spot: no audio file to load. */
  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      audio = audio || new Context();
      if (audio.state === "suspended") audio.resume();
      var start = audio.currentTime;
      [880, 1320].forEach(function (frequency, i) {
        var oscillator = audio.createOscillator();
        var gain = audio.createGain();
        oscillator.type = "sine";
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, start + i * 0.12);
        gain.gain.exponentialRampToValueAtTime(0.15, start + i * 0.12 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.12 + 0.11);
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(start + i * 0.12);
        oscillator.stop(start + i * 0.12 + 0.12);
      });
    } catch (e) {
      // No sound is better than a broken page.
    }
  }

  if (soundButton) {
    soundButton.hidden = false;
    showSound();
    soundButton.addEventListener("click", function () {
      var on = !soundOn();
      try {
        window.localStorage.setItem(SOUND_KEY, on ? "on" : "off");
      } catch (e) {
        // Private windows may refuse storage: the toggle then lasts for this page only.
      }
      showSound();
      // Browsers let a page play sound only after a click: this one unlocks it, and lets staff hear it.
      if (on) beep();
    });
  }

  // ---- refresh ----

  function rowsOf(tbody) {
    var found = {};
    tbody.querySelectorAll("tr[data-reference]").forEach(function (row) {
      found[row.getAttribute("data-reference")] = row.getAttribute("data-unread") === "1";
    });
    return found;
  }

  function adopt(fresh) {
    var before = rowsOf(current);
    var ticked = {};
    selectedReferences().forEach(function (ref) {
      ticked[ref] = true;
    });
    var news = false;
    fresh.querySelectorAll("tr[data-reference]").forEach(function (row) {
      var ref = row.getAttribute("data-reference");
      var unread = row.getAttribute("data-unread") === "1";
      if (!(ref in before)) row.classList.add("row-new");
      else if (unread && !before[ref]) row.classList.add("row-new");
      if (unread && !before[ref]) news = true;
      var box = row.querySelector('input[name="reference"]');
      if (box && ticked[ref]) box.checked = true;
    });
    var adopted = document.importNode(fresh, true);
    current.replaceWith(adopted);
    current = adopted;
    if (summary) summary.textContent = adopted.getAttribute("data-summary") || summary.textContent;
    ["mine", "unassigned", "all"].forEach(function (tab) {
      var count = document.getElementById("queue-count-" + tab);
      var value = adopted.getAttribute("data-count-" + tab);
      if (count && value !== null) count.textContent = value;
    });
    var title = adopted.getAttribute("data-title");
    if (title) document.title = title;
    if (news && soundOn()) beep();
    showSelection();
  }

  function refresh() {
    if (document.hidden || !window.fetch || !window.DOMParser) return;
    var url = current.getAttribute("data-refresh-url");
    var token = current.getAttribute("data-token");
    var headers = { "X-Requested-With": "fetch", Accept: "text/html" };
    if (token) headers["If-None-Match"] = '"' + token + '"';
    // no-store: the answer is ours to read, 304 included; the browser's cache must not replay it.
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: headers })
      .then(function (response) {
        if (response.status === 401) {
          // Signed out (session expired): go to the sign-in page and come back here afterwards.
          window.location.assign("/staff/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
          return null;
        }
        if (response.status === 304) return "";
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (text) {
        if (live) live.classList.remove("stale");
        if (!text) return;
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("queue-rows");
        if (fresh) adopt(fresh);
      })
      .catch(function () {
        if (live) live.classList.add("stale");
      });
  }

  showSelection();
  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });
})();
