/* The record page: page images with recognised words; the search words highlighted. */
(function () {
  "use strict";
  var root = document.getElementById("pages");
  if (!root || !window.SoHoaPages) return;
  var viewer = window.SoHoaPages.attach(root, root.getAttribute("data-q") || "");
  var input = document.getElementById("hl");
  if (!input) return;
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { viewer.highlight(input.value); }, 150);
  });
})();
