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

    // The sort order applies as soon as it is chosen.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form.requestSubmit) {
          select.form.requestSubmit();
        } else {
          select.form.submit();
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
