// Workers and API tokens: ask before what cannot be undone; copy a new token; dim empty dose rows.
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      input.select();
      var done = function () { button.textContent = button.getAttribute("data-copied"); };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(input.value).then(done);
      } else if (document.execCommand("copy")) {
        done();
      }
    });
  });

  function markEmptyDoses() {
    document.querySelectorAll(".dose-row").forEach(function (row) {
      var filled = Array.prototype.some.call(row.querySelectorAll("input, select"), function (input) {
        return input.value.trim() !== "";
      });
      row.classList.toggle("empty-dose", !filled);
    });
  }

  document.querySelectorAll(".dose-row input, .dose-row select").forEach(function (input) {
    input.addEventListener("change", markEmptyDoses);
  });
  markEmptyDoses();
})();
