/* Reload a page whose background job (an import's check or write, an extract's check or match) has finished,
   so that it shows the outcome. jobs.js draws the progress bar and hides the .job-refresh link of a section
   marked data-reload-when-finished when its job is finished. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var refresh = document.querySelector("[data-reload-when-finished] .job-refresh");
    if (!refresh || !window.MutationObserver) { return; }
    var observer = new MutationObserver(function () {
      if (refresh.hidden) {
        observer.disconnect();
        window.location.reload();
      }
    });
    observer.observe(refresh, { attributes: true, attributeFilter: ["hidden"] });
  });
}());
