// Poll a running job's status and reload the page when it changes, so the
// result (or the error) shows as soon as the job finishes; meanwhile show the
// progress the job reports.
(function () {
  "use strict";
  var element = document.getElementById("job");
  if (!element) return;
  var shown = element.dataset.status;
  var bar = element.querySelector("[data-job-progress]");
  function showProgress(progress) {
    if (!bar || !progress || progress.done === undefined) return;
    bar.hidden = false;
    var meter = bar.querySelector("progress");
    if (progress.total) meter.max = progress.total;
    meter.value = progress.done;
    bar.querySelector("[data-job-progress-text]").textContent = progress.note || "";
  }
  function poll() {
    fetch(element.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.status !== shown) return window.location.reload();
        showProgress(body.progress);
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
