/* Follow a background job's progress without reloading the page (the page works without this). */
(function () {
  "use strict";

  function follow(section) {
    var url = section.getAttribute("data-job-status-url");
    var pollMs = parseInt(section.getAttribute("data-poll-ms"), 10) || 1000;
    var bar = section.querySelector(".job-progress");
    var text = section.querySelector(".job-text");
    var result = section.querySelector(".job-result");
    var download = section.querySelector(".job-download");
    var refresh = section.querySelector(".job-refresh");
    var next = section.querySelector(".job-next");
    var nextLink = section.querySelector(".job-next-link");
    var failures = 0;

    function show(job) {
      if (bar) {
        bar.value = job.percent;
        bar.textContent = job.percent + "%";
      }
      if (text) { text.textContent = job.text; }
      if (job.download_url && download && result) {
        download.href = job.download_url;
        result.hidden = false;
      }
      if (job.next_url && next && nextLink) {
        nextLink.href = job.next_url;
        nextLink.textContent = job.next_label;
        next.hidden = false;
      }
      if (job.finished && refresh) { refresh.hidden = true; }
    }

    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (job) {
          failures = 0;
          show(job);
          if (!job.finished) { window.setTimeout(poll, pollMs); }
        })
        .catch(function () {
          // A dropped connection on a phone should not end the follow-up; back off, then give up.
          failures += 1;
          if (failures < 30) { window.setTimeout(poll, pollMs * Math.min(failures + 1, 10)); }
        });
    }

    if (refresh) { window.setTimeout(poll, pollMs); }  // no refresh link: the job had already finished
  }

  document.addEventListener("DOMContentLoaded", function () {
    var sections = document.querySelectorAll("[data-job-status-url]");
    for (var i = 0; i < sections.length; i += 1) { follow(sections[i]); }
  });
}());
