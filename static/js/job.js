// Poll a running job's status and reload the page when it changes, so the
// result (or the error) shows as soon as the job finishes; meanwhile show the
// progress the job reports, the time it has run, and (for rows or bytes) an
// estimate of what is left at the pace since that count began (a job may
// count the bytes it reads, then the rows it writes).
(function () {
  "use strict";
  var element = document.getElementById("job");
  if (!element) return;
  var shown = element.dataset.status;
  var bar = element.querySelector("[data-job-progress]");
  var clock = element.querySelector("[data-job-elapsed]");
  function seconds(value) {
    return value < 90 ? Math.round(value) + " s" : Math.round(value / 60) + " min";
  }
  function showTime(startedAt, progress) {
    if (!clock || !startedAt) return;
    var elapsed = (Date.now() - Date.parse(startedAt)) / 1000;
    var text = seconds(Math.max(elapsed, 0)) + " elapsed";
    var counted = progress && progress.unit !== "stages" && progress.total && progress.done > 0;
    if (counted && progress.done < progress.total) {
      var since = progress.since ? (Date.now() - Date.parse(progress.since)) / 1000 : elapsed;
      text += ", about " + seconds(Math.max(since, 0) * (progress.total - progress.done) / progress.done) + " left";
    }
    clock.textContent = text;
    clock.hidden = false;
  }
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
        showTime(body.started_at, body.progress);
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
