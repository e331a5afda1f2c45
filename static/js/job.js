// Poll a running job's status and reload the page when it changes, so the
// result (or the error) shows as soon as the job finishes.
(function () {
  "use strict";
  var element = document.getElementById("job");
  if (!element) return;
  var shown = element.dataset.status;
  function poll() {
    fetch(element.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.status !== shown) window.location.reload();
        else window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
