/* kdbook-math.js: a formula too wide for a phone's column scrolls in its own box.
 *
 * MathJax 3 does not break inline formulas across lines, so on a narrow screen a long one runs
 * past the column and its end is cut off by the page. After MathJax has typeset the page (and
 * again when the window is resized), every formula wider than the block it sits in is wrapped
 * in a span.kd-wide-math (kdbook.css), an inline box as wide as the column that scrolls sideways.
 */
(function () {
  "use strict";

  var BLOCKS = "p, li, dd, dt, td, th, figcaption, div";

  function wrapWideFormulas() {
    document.querySelectorAll("article mjx-container").forEach(function (math) {
      if (math.parentElement && math.parentElement.classList.contains("kd-wide-math")) return;
      var block = math.parentElement && math.parentElement.closest(BLOCKS);
      if (!block) return;
      var room = block.getBoundingClientRect();
      var box = math.getBoundingClientRect();
      if (box.right <= room.right + 1 && box.width <= room.width + 1) return;
      var wrapper = document.createElement("span");
      wrapper.className = "kd-wide-math";
      math.parentElement.insertBefore(wrapper, math);
      wrapper.appendChild(math);
    });
  }

  function afterTypesetting() {
    var mathjax = window.MathJax;
    if (mathjax && mathjax.startup && mathjax.startup.promise) {
      mathjax.startup.promise.then(wrapWideFormulas);
    } else {
      wrapWideFormulas();
    }
  }

  window.addEventListener("load", afterTypesetting);
  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(wrapWideFormulas, 150);
  });
})();
