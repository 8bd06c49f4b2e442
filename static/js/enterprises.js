/* Narrow the business type, sector and location lists to the chosen pilot unit.
 *
 * Without JavaScript every list shows all units' choices grouped by unit (<optgroup>), and the
 * server refuses a choice that does not belong to the chosen unit. Option values are
 * "<unit>:<code>". */
(function () {
  "use strict";

  function unitOf(value) {
    var at = value.indexOf(":");
    return at < 0 ? "" : value.slice(0, at);
  }

  function narrow(select, groups, unit) {
    var current = select.value;
    Array.prototype.slice.call(select.querySelectorAll("optgroup")).forEach(function (group) {
      group.remove();
    });
    var kept = false;
    groups.forEach(function (group) {
      var first = group.querySelector("option");
      if (first && unitOf(first.value) === unit) {
        var copy = group.cloneNode(true);
        select.appendChild(copy);
        kept = true;
      }
    });
    select.value = unitOf(current) === unit ? current : "";
    return kept;
  }

  function setUp(fieldset) {
    var unitSelect = fieldset.querySelector("[data-unit-select]");
    if (!unitSelect) { return; }
    var declared = Array.prototype.slice.call(fieldset.querySelectorAll("select[data-declared]")).map(function (select) {
      return {
        select: select,
        wrapper: select.closest(".field"),
        groups: Array.prototype.slice.call(select.querySelectorAll("optgroup")).map(function (g) { return g.cloneNode(true); })
      };
    });
    var declarations = fieldset.querySelector("[data-declarations]");
    var notInPilot = fieldset.querySelector("[data-not-in-pilot]");

    function update() {
      var unit = unitSelect.value;
      var outside = unit === "none";
      if (notInPilot) { notInPilot.hidden = !outside; }
      if (declarations) { declarations.hidden = outside; }
      declared.forEach(function (item) {
        var kept = narrow(item.select, item.groups, unit);
        item.select.disabled = !unit || outside;
        if (item.select.name === "location" && item.wrapper) {
          // Only units that declare zones or parks ask for one.
          item.wrapper.hidden = Boolean(unit) && !kept;
        }
      });
    }

    unitSelect.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.slice.call(document.querySelectorAll("[data-classification]")).forEach(setUp);
  });
})();
