// vnsearch: small progressive enhancements. Every page works without this file; the
// Content-Security-Policy allows no inline script, so all of it lives here.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // Vietnamese without diacritics, lower case: "Điện Biên" -> "dien bien".
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[đĐ]/g, "d").toLowerCase().trim();
  }

  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  ready(function () {
    // The filters are folded under "Bộ lọc" on narrow screens; wide screens show them.
    var filters = document.getElementById("filters");
    var wide = window.matchMedia("(min-width: 48rem)");
    if (filters) {
      filters.open = wide.matches;
      wide.addEventListener("change", function (e) { filters.open = e.matches; });
    }

    // "/" puts the cursor in the search box (unless one is typing in a field already).
    var box = document.getElementById("q");
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
      if (e.key === "/" && box && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        box.focus();
        box.select();
      }
    });

    // The sort order applies as soon as it is chosen with the mouse or a touch. Arrow keys
    // only move the choice (WCAG 3.2.2: no change of page on input): Enter, or the
    // "Áp dụng" button that then appears, applies it.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      var keyed = false;
      var apply = select.form.querySelector("button[type=submit]");
      function submit() {
        if (select.form.requestSubmit) {
          select.form.requestSubmit();
        } else {
          select.form.submit();
        }
      }
      select.addEventListener("keydown", function (e) {
        if (e.key === "Enter") {
          e.preventDefault();
          submit();
        } else if (e.key !== "Tab") {
          keyed = true;
        }
      });
      select.addEventListener("pointerdown", function () { keyed = false; });
      select.addEventListener("change", function () {
        if (keyed) {
          if (apply) {
            apply.classList.remove("nojs-only");
          }
          return;
        }
        submit();
      });
    });

    // A date input is one tab stop: Tab leaves it at once instead of visiting day, month
    // and year (the arrow keys still move between them).
    document.querySelectorAll("input[type=date]").forEach(function (input) {
      input.addEventListener("keydown", function (e) {
        if (e.key !== "Tab" || e.altKey || e.ctrlKey || e.metaKey) {
          return;
        }
        var stops = Array.prototype.filter.call(
          document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]"),
          function (el) {
            return !el.disabled && el.tabIndex >= 0 && el.type !== "hidden" && el.getClientRects().length > 0;
          });
        var next = stops[stops.indexOf(input) + (e.shiftKey ? -1 : 1)];
        if (next) {
          e.preventDefault();
          next.focus();
        }
      });
    });

    // Typing in a facet's box narrows its list of values (the <datalist> suggests names).
    document.querySelectorAll("input[data-facet-filter]").forEach(function (input) {
      var facet = document.getElementById(input.getAttribute("data-facet-filter"));
      if (!facet) {
        return;
      }
      var items = facet.querySelectorAll("li[data-value]");
      var more = facet.querySelector("details.more");
      var noMatch = facet.querySelector(".no-match");
      var moreWasOpen = more ? more.open : false;
      var filtering = false;
      input.addEventListener("input", function () {
        var wanted = fold(input.value);
        var shown = 0;
        items.forEach(function (item) {
          var ok = !wanted || fold(item.getAttribute("data-value")).indexOf(wanted) !== -1;
          item.hidden = !ok;
          if (ok) {
            shown += 1;
          }
        });
        if (more) {
          if (wanted && !filtering) {
            moreWasOpen = more.open;
          }
          more.open = wanted ? true : moreWasOpen;
          more.classList.toggle("filtering", Boolean(wanted));
        }
        filtering = Boolean(wanted);
        if (noMatch) {
          noMatch.hidden = !wanted || shown > 0;
        }
      });
    });
  });
})();
