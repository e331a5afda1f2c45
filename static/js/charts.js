// Draw the Plotly figures embedded in a page (json_script), and on /view redraw
// the chart when the form changes, without reloading the page.
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displaylogo: false,
    toImageButtonOptions: { format: "png", filename: "bandersnatch-chart", scale: 2 },
  };

  function figureOf(element) {
    return JSON.parse(document.getElementById(element.dataset.figure).textContent);
  }

  // The site's look, sent once per page rather than inside every figure.
  var TEMPLATE = JSON.parse(document.getElementById("plotly-template").textContent);

  function draw(element, figure) {
    var layout = Object.assign({}, figure.layout, { template: TEMPLATE });
    return Plotly.react(element, figure.data, layout, CONFIG);
  }

  function queryOf(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (value !== "") params.set(name, value);
    });
    return params;
  }

  // A box drawn on a scatter opens the table filtered to that range, within
  // each field's bounds (config: the page's chart-config, see analytics/views.py).
  function openSelection(element, form, config, event) {
    if (!event || !event.range) return;
    var params = queryOf(form);
    ["x", "y", "color", "kind"].forEach(function (name) { params.delete(name); });
    [["x", element.dataset.x], ["y", element.dataset.y]].forEach(function (axis) {
      var field = axis[1], range = event.range[axis[0]];
      if (config.numeric.indexOf(field) < 0 || !range) return;
      var bounds = config.bounds[field] || [-Infinity, Infinity];
      var low = Math.max(bounds[0], Math.min(range[0], range[1]));
      var high = Math.min(bounds[1], Math.max(range[0], range[1]));
      if (config.whole.indexOf(field) >= 0) {
        low = Math.ceil(low);
        high = Math.floor(high);
      } else {
        low = Math.floor(low * 100) / 100;
        high = Math.ceil(high * 100) / 100;
      }
      if (low > high) return;
      params.set(field + "_min", low);
      params.set(field + "_max", high);
    });
    window.location.href = config.rows_url + "?" + params.toString();
  }

  function openPoint(config, event) {
    var point = event && event.points && event.points[0];
    var match = point && /^#(\d+)/.exec(point.text || "");
    if (match) window.location.href = config.row_url.replace(/0\/$/, match[1] + "/");
  }

  function setUpView(element, form) {
    var status = document.getElementById("chart-status");
    var rowsLink = document.getElementById("rows-link");
    var config = JSON.parse(document.getElementById(element.dataset.config).textContent);
    element.on("plotly_selected", function (event) { openSelection(element, form, config, event); });
    element.on("plotly_click", function (event) { openPoint(config, event); });

    form.addEventListener("change", function () {
      var params = queryOf(form);
      status.textContent = "Drawing…";
      fetch(form.dataset.figureUrl + "?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (result) {
          if (!result.ok) {
            status.textContent = result.body.message;
            return;
          }
          element.dataset.x = params.get("x");
          element.dataset.y = params.get("y");
          element.dataset.kind = params.get("kind");
          rowsLink.href = result.body.rows_url;
          history.replaceState(null, "", "?" + params.toString());
          return draw(element, result.body.figure).then(function () { status.textContent = ""; });
        })
        .catch(function () { form.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-figure]").forEach(function (element) {
      draw(element, figureOf(element)).then(function () {
        var form = document.getElementById("chart-form");
        if (form && element.id === "chart") setUpView(element, form);
      });
    });
  });
})();
