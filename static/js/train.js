// Show only the chosen algorithm's hyperparameters (all stay in the form, so
// without this script every group shows and the server uses the chosen one).
(function () {
  "use strict";
  var select = document.querySelector("select[name=algorithm]");
  if (!select) return;
  function show() {
    document.querySelectorAll("fieldset.params").forEach(function (group) {
      group.hidden = group.dataset.algorithm !== select.value;
    });
  }
  select.addEventListener("change", show);
  show();
})();
