// The ticket page's helpers: canned replies go into the reply box, and on SMS tickets the reply's
// segment count and encoding are shown while typing (counted by the server with Twilio's rules).
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

  var textarea = document.getElementById("reply-body");
  if (!textarea) return;

  // Canned replies: insert at the cursor (or replace the selection), then keep typing.
  document.querySelectorAll("[data-canned]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-canned") || "";
      var start = textarea.selectionStart || 0;
      var end = textarea.selectionEnd || 0;
      var before = textarea.value.slice(0, start);
      var after = textarea.value.slice(end);
      var spacer = before && !/\s$/.test(before) ? " " : "";
      textarea.value = before + spacer + text + after;
      var caret = (before + spacer + text).length;
      textarea.focus();
      textarea.setSelectionRange(caret, caret);
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });

  var costUrl = textarea.getAttribute("data-sms-cost-url");
  var output = document.getElementById("sms-cost");
  var form = textarea.form;
  if (!costUrl || !output || !form || !window.fetch) return;
  var csrf = form.querySelector("input[name=_csrf]");
  var timer = null;
  var asked = 0;

  function update() {
    var mine = ++asked;
    fetch(costUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Requested-With": "fetch", "X-CSRF-Token": csrf ? csrf.value : "" },
      body: JSON.stringify({ text: textarea.value }),
    })
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
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 250);
  });
})();
