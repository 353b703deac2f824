/* kdbook-nav.js: the sidebar toggles work on phones and at desktop width.
 *
 * sphinx-book-theme 1.3 on pydata-sphinx-theme 0.17 draws two headers: the theme's own top
 * header (#pst-header, hidden by kdbook.css) and the article header with the toggles a reader
 * sees. Both themes wire their toggle handlers to document.querySelector(".primary-toggle") and
 * ".secondary-toggle", which is the first match in the page: the hidden copy in #pst-header.
 * The visible buttons therefore did nothing, at every width.
 *
 * The fix: take the hidden copies out of the page before the themes look for them. This file is
 * loaded synchronously in <head>; the document turns "interactive" once the body is parsed and
 * before the deferred pydata-sphinx-theme.js runs, and sphinx-book-theme wires its wide-screen
 * handler later still (on DOMContentLoaded). Both then find the visible buttons. The header itself
 * stays in the page (hidden), because pydata-sphinx-theme measures it.
 *
 * One gap remains between the themes: pydata-sphinx-theme lays the sidebar out beside the
 * article from 960 px, sphinx-book-theme collapses it on click only from 992 px; in between a
 * click would pull the sidebar into a modal. There the click collapses it too (kdbook.css hides
 * .pst-sidebar-hidden from 960 px).
 */
(function () {
  "use strict";

  function dropHiddenToggles() {
    var header = document.getElementById("pst-header");
    if (!header) return;
    header.querySelectorAll(".primary-toggle, .secondary-toggle").forEach(function (button) {
      button.remove();
    });
  }

  if (document.readyState === "loading") {
    var onState = function () {
      if (document.readyState !== "loading") {
        document.removeEventListener("readystatechange", onState);
        dropHiddenToggles();
      }
    };
    document.addEventListener("readystatechange", onState);
  } else {
    dropHiddenToggles();
  }

  function collapseInTheGap() {
    var toggle = document.querySelector(".primary-toggle");
    var sidebar = document.getElementById("pst-primary-sidebar");
    if (!toggle || !sidebar) return;
    var gap = window.matchMedia("(min-width: 960px) and (max-width: 991.98px)");
    toggle.addEventListener(
      "click",
      function (event) {
        if (!gap.matches) return;
        event.preventDefault();
        event.stopImmediatePropagation();
        sidebar.classList.toggle("pst-sidebar-hidden");
      },
      true
    );
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", collapseInTheGap);
  } else {
    collapseInTheGap();
  }
})();
