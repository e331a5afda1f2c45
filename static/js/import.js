// Drag and drop for the import form: a file dropped on the zone goes into the
// file input, as if it had been chosen. Without this script the input works
// as usual; the server checks the size and the contents either way.
(function () {
  "use strict";
  var zone = document.querySelector("[data-drop-zone]");
  if (!zone || typeof DataTransfer === "undefined") return;
  var input = zone.querySelector("input[type=file]");
  var shown = zone.querySelector("[data-drop-file]");
  var maxBytes = Number(zone.dataset.maxBytes) || 0;
  zone.querySelector("[data-drop-hint]").hidden = false;

  // As Django's filesizeformat writes it, so the limit reads the same as on the page.
  function size(bytes) {
    var units = ["bytes", "KB", "MB", "GB"];
    var unit = 0;
    while (bytes >= 1024 && unit < units.length - 1) {
      bytes /= 1024;
      unit += 1;
    }
    return unit ? bytes.toFixed(1) + " " + units[unit] : bytes + " bytes";
  }

  function show() {
    var file = input.files[0];
    var tooBig = Boolean(file && maxBytes && file.size > maxBytes);
    shown.textContent = file ? file.name + " (" + size(file.size) + ")" : "";
    if (tooBig) shown.textContent += ": more than the limit of " + size(maxBytes);
    shown.classList.toggle("error", tooBig);
  }

  function carriesFiles(event) {
    return Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1;
  }

  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("dragging");
    });
  });
  zone.addEventListener("dragleave", function (event) {
    if (!zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("dragging");
    var file = event.dataTransfer.files[0];
    if (!file) return;
    var transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    show();
  });
  input.addEventListener("change", show);

  // A file dropped beside the zone would make the browser open it and leave the form.
  ["dragover", "drop"].forEach(function (type) {
    window.addEventListener(type, function (event) {
      if (carriesFiles(event)) event.preventDefault();
    });
  });
})();
