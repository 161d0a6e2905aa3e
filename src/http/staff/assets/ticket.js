// The ticket page's helpers: canned replies go into the reply box (a click, or "/" and a search);
// on SMS tickets the reply's segment count and encoding are shown while typing (counted by the
// server with Twilio's rules); and the page tells the server it is open (and whether a reply is
// being written), showing who else has the ticket open.
(function () {
  "use strict";
  // The conversation opens on its latest messages, as a chat does; photos arriving late keep it there.
  var conversation = document.querySelector(".conversation");
  if (conversation) {
    var stick = function () {
      conversation.scrollTop = conversation.scrollHeight;
    };
    stick();
    conversation.querySelectorAll("img").forEach(function (img) {
      img.addEventListener("load", function () {
        if (conversation.scrollHeight - conversation.scrollTop - conversation.clientHeight < 400) stick();
      });
    });
  }

  var csrfInput = document.querySelector("input[name=_csrf]");
  var csrf = csrfInput ? csrfInput.value : "";
  var textarea = document.getElementById("reply-body");

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Requested-With": "fetch", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
  }

  // ---------- presence: "Rania is writing a reply" ----------
  var banner = document.getElementById("presence");
  if (banner && window.fetch) {
    var presenceUrl = banner.getAttribute("data-presence-url");
    var every = Number(banner.getAttribute("data-heartbeat-ms")) || 15000;
    // Opening the page already said "viewing" (the server records it with the page).
    var sentState = "viewing";
    var shown = banner.textContent;

    var myState = function () {
      return textarea && textarea.value.trim() !== "" ? "replying" : "viewing";
    };

    var draw = function (answer) {
      var text = answer.lines.join("\n") + (answer.hint ? "\n" + answer.hint : "");
      // Redrawn only when it changes: the live region then speaks only news.
      if (text === shown) return;
      shown = text;
      banner.textContent = "";
      answer.lines.forEach(function (line) {
        var p = document.createElement("p");
        p.className = "presence-line";
        p.textContent = line;
        banner.appendChild(p);
      });
      if (answer.hint) {
        var hint = document.createElement("p");
        hint.className = "presence-hint";
        hint.textContent = answer.hint;
        banner.appendChild(hint);
      }
      banner.classList.toggle("presence-replying", answer.replying);
      banner.hidden = answer.lines.length === 0;
    };

    var beat = function () {
      sentState = myState();
      postJson(presenceUrl, { state: sentState })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (answer) {
          if (answer && Array.isArray(answer.lines)) draw(answer);
        })
        .catch(function () {});
    };

    var timer = window.setInterval(beat, every);
    if (myState() !== sentState) beat();
    // Starting or clearing a reply is news for colleagues now, not at the next heartbeat.
    if (textarea) {
      var soon = null;
      textarea.addEventListener("input", function () {
        window.clearTimeout(soon);
        soon = window.setTimeout(function () {
          if (myState() !== sentState) beat();
        }, 400);
      });
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") beat();
    });
    // Leaving the page: say so, so the banner on colleagues' screens goes at once. A beacon
    // cannot carry headers: the CSRF token travels as the form field.
    window.addEventListener("pagehide", function () {
      window.clearInterval(timer);
      if (navigator.sendBeacon) {
        var form = new URLSearchParams({ _csrf: csrf, state: "left" });
        navigator.sendBeacon(presenceUrl, new Blob([form.toString()], { type: "application/x-www-form-urlencoded" }));
      }
    });
    window.addEventListener("pageshow", function (event) {
      // Back from the browser's cache: the page is open again.
      if (event.persisted) {
        timer = window.setInterval(beat, every);
        beat();
      }
    });
  }

  if (!textarea) return;

  /** Puts text in the reply box from `start` to `end` (the selection by default), then keeps typing after it. */
  function insert(text, start, end) {
    var from = start === undefined ? textarea.selectionStart || 0 : start;
    var to = end === undefined ? textarea.selectionEnd || 0 : end;
    var before = textarea.value.slice(0, from);
    var after = textarea.value.slice(to);
    var spacer = before && !/\s$/.test(before) ? " " : "";
    textarea.value = before + spacer + text + after;
    var caret = (before + spacer + text).length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // ---------- canned replies: the buttons ----------
  // Without scripts each button asks for the page again with the reply in the box; here it goes
  // in at the cursor instead.
  var canned = [];
  document.querySelectorAll("[data-canned]").forEach(function (button) {
    canned.push({
      title: button.getAttribute("data-title") || "",
      text: button.getAttribute("data-canned") || "",
      lang: button.getAttribute("lang") || "",
      label: button.querySelector("small") ? button.querySelector("small").textContent : "",
    });
    button.addEventListener("click", function (event) {
      event.preventDefault();
      insert(button.getAttribute("data-canned") || "");
    });
  });

  // ---------- canned replies: "/" at the start of the box searches them ----------
  var listbox = document.getElementById("canned-listbox");
  var status = document.getElementById("canned-status");
  if (listbox && canned.length > 0) {
    // Arabic as people type it: hamza forms of alef, alef maqsura, taa marbuta, diacritics and
    // tatweel do not matter; Arabic-Indic digits are digits.
    var fold = function (text) {
      return text
        .toLowerCase()
        .replace(/[\u064B-\u065F\u0670\u0640]/g, "")
        .replace(/[\u0622\u0623\u0625\u0671]/g, "\u0627")
        .replace(/\u0649/g, "\u064A")
        .replace(/\u0629/g, "\u0647")
        .replace(/\u0624/g, "\u0648")
        .replace(/\u0626/g, "\u064A")
        .replace(/[\u0660-\u0669]/g, function (d) {
          return String(d.charCodeAt(0) - 0x0660);
        })
        .replace(/[\u06F0-\u06F9]/g, function (d) {
          return String(d.charCodeAt(0) - 0x06f0);
        });
    };
    canned.forEach(function (c) {
      c.foldedTitle = fold(c.title);
      c.foldedText = fold(c.text);
    });

    var found = [];
    var active = -1;
    var query = null;

    // The search is what follows a "/" that starts the reply, up to the cursor, on its first line.
    var currentQuery = function () {
      var head = textarea.value.slice(0, textarea.selectionStart || 0);
      var match = /^\/([^\n]*)$/.exec(head);
      return match && textarea.selectionStart === textarea.selectionEnd ? match[1] : null;
    };

    var search = function (q) {
      var words = fold(q).split(/\s+/).filter(Boolean);
      var scored = [];
      canned.forEach(function (c, index) {
        var all = words.every(function (w) {
          return c.foldedTitle.indexOf(w) >= 0 || c.foldedText.indexOf(w) >= 0;
        });
        if (!all) return;
        var inTitle = words.every(function (w) {
          return c.foldedTitle.indexOf(w) >= 0;
        });
        scored.push({ c: c, score: inTitle ? 0 : 1, index: index });
      });
      scored.sort(function (a, b) {
        return a.score - b.score || a.index - b.index;
      });
      return scored.slice(0, 8).map(function (s) {
        return s.c;
      });
    };

    var say = function (text) {
      if (status) status.textContent = text;
    };

    var close = function () {
      listbox.hidden = true;
      listbox.textContent = "";
      textarea.removeAttribute("aria-activedescendant");
      found = [];
      active = -1;
      query = null;
    };

    var highlight = function (index) {
      active = index;
      Array.prototype.forEach.call(listbox.children, function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        option.classList.toggle("active", i === index);
      });
      var option = listbox.children[index];
      if (option) {
        textarea.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      } else {
        textarea.removeAttribute("aria-activedescendant");
      }
    };

    var choose = function (index) {
      var c = found[index];
      if (!c) return;
      var end = textarea.selectionStart || 0;
      close();
      // The "/search" typed so far is replaced by the reply.
      textarea.value = textarea.value.slice(end);
      insert(c.text, 0, 0);
    };

    var open = function (q) {
      query = q;
      found = search(q);
      listbox.textContent = "";
      found.forEach(function (c, i) {
        var option = document.createElement("li");
        option.id = "canned-option-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("lang", c.lang);
        option.setAttribute("dir", "auto");
        var title = document.createElement("strong");
        title.textContent = c.title;
        var language = document.createElement("small");
        language.textContent = c.label;
        var excerpt = document.createElement("span");
        excerpt.className = "canned-excerpt";
        excerpt.textContent = c.text;
        option.appendChild(title);
        option.appendChild(document.createTextNode(" "));
        option.appendChild(language);
        option.appendChild(excerpt);
        // mousedown, not click: the box keeps the focus (and its cursor) meanwhile.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(i);
        });
        listbox.appendChild(option);
      });
      listbox.hidden = found.length === 0;
      var template = found.length === 0 ? textarea.getAttribute("data-canned-none") : textarea.getAttribute("data-canned-found");
      say((template || "").replace("%n", String(found.length)));
      highlight(found.length > 0 ? 0 : -1);
    };

    var refresh = function () {
      var q = currentQuery();
      if (q === null) {
        if (query !== null) {
          close();
          say("");
        }
        return;
      }
      if (q !== query) open(q);
    };

    textarea.addEventListener("input", refresh);
    textarea.addEventListener("click", refresh);
    textarea.addEventListener("blur", function () {
      close();
    });
    textarea.addEventListener("keydown", function (event) {
      if (query === null || listbox.hidden) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % found.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight((active - 1 + found.length) % found.length);
      } else if (event.key === "Enter" && !event.shiftKey && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
        say("");
        // Escape leaves the "/…" as typed; the search comes back when it changes.
        query = currentQuery();
      }
    });
  }

  // ---------- SMS cost while typing ----------
  var costUrl = textarea.getAttribute("data-sms-cost-url");
  var output = document.getElementById("sms-cost");
  if (!costUrl || !output || !window.fetch) return;
  var costTimer = null;
  var asked = 0;

  function update() {
    var mine = ++asked;
    postJson(costUrl, { text: textarea.value })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (cost) {
        // An older answer arriving late must not overwrite a newer one.
        if (!cost || mine !== asked) return;
        output.textContent = cost.label;
        output.classList.toggle("sms-cost-high", cost.segments > 2);
      })
      .catch(function () {});
  }

  textarea.addEventListener("input", function () {
    window.clearTimeout(costTimer);
    costTimer = window.setTimeout(update, 250);
  });
})();
