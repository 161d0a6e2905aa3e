// The child-safety indicators page: its Print button (hidden until this script runs, since the
// content security policy allows no inline script) opens the browser's print dialog.
(function () {
  "use strict";
  var button = document.getElementById("indicators-print");
  if (!button || typeof window.print !== "function") return;
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
})();
