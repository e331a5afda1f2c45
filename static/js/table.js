// The table pages. Empty filter fields stay out of the address, so a shared
// link holds only the filters in force (the server takes empty ones too).
// A table wider than the page scrolls sideways in its box, with a fade at
// each edge that hides columns; a table that fits lets its head stick to the
// top of the window as the page scrolls (in the box, it sticks to the box).
(function () {
  "use strict";

  document.querySelectorAll("form[data-drop-empty]").forEach(function (form) {
    form.addEventListener("formdata", function (event) {
      var data = event.formData;
      Array.from(new Set(data.keys())).forEach(function (name) {
        var kept = data.getAll(name).filter(function (value) {
          return typeof value !== "string" || value.trim() !== "";
        });
        data.delete(name);
        kept.forEach(function (value) {
          data.append(name, value);
        });
      });
    });
  });

  document.querySelectorAll("[data-table-frame]").forEach(function (frame) {
    var box = frame.querySelector(".table-scroll");
    var table = box.querySelector("table");

    function update() {
      var fits = table.offsetWidth <= box.clientWidth + 1;
      frame.classList.toggle("fits", fits);
      box.tabIndex = fits ? -1 : 0; // a box that does not scroll needs no stop on the way through the page
      frame.classList.toggle("more-left", !fits && box.scrollLeft > 1);
      frame.classList.toggle("more-right", !fits && box.scrollLeft + box.clientWidth < box.scrollWidth - 1);
    }

    box.addEventListener("scroll", update, { passive: true });
    if (typeof ResizeObserver !== "undefined") {
      var observer = new ResizeObserver(update);
      observer.observe(box);
      observer.observe(table);
    }
    update();
  });
})();
