/* Reload an extract's page once the background job that checks or matches it has finished.
   jobs.js draws the progress bar and hides the .job-refresh link when the job is finished. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var refresh = document.querySelector(".health-progress .job-refresh");
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
