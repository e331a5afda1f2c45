// Draw the Plotly figures embedded in a page (json_script) in the page's theme,
// each with its text alternative; on /view, redraw the chart when the form
// changes, without reloading the page.
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["lasso2d", "select2d"],
    toImageButtonOptions: { format: "png", filename: "bandersnatch-chart", scale: 2 },
  };
  // /view's chart has the page's own "Drag on the chart to" choice instead.
  var VIEW_CONFIG = Object.assign({}, CONFIG, {
    modeBarButtonsToRemove: ["lasso2d", "select2d", "zoom2d", "pan2d"],
  });
  var NARROW = 600; // px: a narrower chart puts its legend under the plot
  // One template per theme (analytics/charts.py), sent once per page.
  var TEMPLATES = JSON.parse(document.getElementById("plotly-templates").textContent);
  // A finger swipes to scroll the page: on a touch screen a drag neither selects
  // nor zooms unless the reader picks it (mouse users keep box-select).
  var TOUCH = window.matchMedia("(pointer: coarse)").matches;

  function theme() {
    return document.documentElement.dataset.theme === "light" ? "light" : "dark";
  }

  // Figures' text reaches them escaped as charts.plain() leaves it.
  function unescape(value) {
    return String(value).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function layoutFor(element, figure) {
    var layout = Object.assign({}, figure.layout, { template: TEMPLATES[theme()] });
    if (element.clientWidth < NARROW) {
      layout.legend = Object.assign({}, layout.legend, {
        orientation: "h", x: 0, xanchor: "left", y: -0.18, yanchor: "top",
      });
      layout.margin = Object.assign({ l: 50, r: 10, t: 70 }, layout.margin, { b: 40 });
    }
    var picked = element.id === "chart" && document.querySelector("input[name=dragmode]:checked");
    if (picked) layout.dragmode = picked.value === "scroll" ? false : picked.value;
    else if (TOUCH) layout.dragmode = false;
    return layout;
  }

  function draw(element, figure) {
    element.figure = figure;
    describe(element, figure);
    var config = element.id === "chart" ? VIEW_CONFIG : CONFIG;
    return Plotly.react(element, figure.data, layoutFor(element, figure), config);
  }

  function redrawAll() {
    document.querySelectorAll("[data-figure]").forEach(function (element) {
      if (element.figure) draw(element, element.figure);
    });
  }

  // The text alternative (analytics/figure_text.py): the caption names the
  // chart for screen readers; "The numbers" shows its data as a table.
  function describe(element, figure) {
    var meta = (figure.layout && figure.layout.meta) || {};
    element.setAttribute("role", "img");
    element.tabIndex = 0; // a tap or Tab focuses it, which shows its toolbar on a touch screen
    element.setAttribute("aria-label", unescape(meta.caption || "A chart"));
    var numbers = element.nextElementSibling;
    if (!numbers || !numbers.classList.contains("chart-numbers")) {
      // Chart and numbers in one box, which takes the chart's place in a grid.
      var box = document.createElement("div");
      box.className = "chart-box";
      element.before(box);
      box.appendChild(element);
      numbers = document.createElement("details");
      numbers.className = "chart-numbers";
      var summary = document.createElement("summary");
      summary.textContent = "The numbers";
      numbers.appendChild(summary);
      numbers.addEventListener("toggle", function () {
        if (numbers.open && !numbers.querySelector("table")) numbers.appendChild(tableOf(numbers.table));
      });
      element.after(numbers);
    }
    numbers.table = meta.table || { columns: [], rows: [] };
    var shown = numbers.querySelector(".table-wrap");
    if (shown) shown.remove();
    if (numbers.open) numbers.appendChild(tableOf(numbers.table));
  }

  function cell(tag, value) {
    var element = document.createElement(tag);
    if (typeof value === "number") {
      element.className = "num";
      element.textContent = value.toLocaleString("en");
    } else {
      element.textContent = value === null || value === undefined ? "" : unescape(value);
    }
    return element;
  }

  function tableOf(data) {
    var wrap = document.createElement("div");
    wrap.className = "table-wrap";
    var table = document.createElement("table");
    table.className = "data-table";
    var head = table.createTHead().insertRow();
    data.columns.forEach(function (name) {
      var th = cell("th", name);
      th.scope = "col";
      head.appendChild(th);
    });
    var body = table.createTBody();
    data.rows.forEach(function (row) {
      var tr = body.insertRow();
      row.forEach(function (value, index) {
        var td = cell(index === 0 ? "th" : "td", value);
        if (index === 0) td.scope = "row";
        tr.appendChild(td);
      });
    });
    if (data.note) table.createCaption().textContent = data.note;
    wrap.appendChild(table);
    return wrap;
  }

  // The form's values, empty ones left out unless the field says an empty
  // value means something (data-keep-empty: a colour of "None").
  function queryOf(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      var field = form.elements[name];
      var keep = field && field.dataset && field.dataset.keepEmpty !== undefined;
      if (value !== "" || keep) params.set(name, value);
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

  // Choices that make no sense for a kind of chart are disabled, with a note:
  // a histogram has no y axis, a box plot's y axis is a number.
  function fitChoices(form, config) {
    var kind = form.elements.kind.value;
    var y = form.elements.y;
    var note = document.getElementById("chart-choices-note");
    y.disabled = kind === "histogram";
    Array.prototype.forEach.call(y.options, function (option) {
      option.disabled = kind === "box" && config.numeric.indexOf(option.value) < 0;
    });
    if (kind === "box" && y.selectedOptions[0] && y.selectedOptions[0].disabled) {
      var first = Array.prototype.find.call(y.options, function (option) { return !option.disabled; });
      if (first) y.value = first.value;
    }
    note.textContent = kind === "histogram" ? "A histogram counts rows along x: it has no y axis."
      : kind === "box" ? "A box plot's y axis is a number: other columns are left out."
      : "";
  }

  function setUpView(element, form) {
    var status = document.getElementById("chart-status");
    var rowsLink = document.getElementById("rows-link");
    var config = JSON.parse(document.getElementById(element.dataset.config).textContent);
    element.on("plotly_selected", function (event) { openSelection(element, form, config, event); });
    element.on("plotly_click", function (event) { openPoint(config, event); });
    fitChoices(form, config);

    document.querySelectorAll("input[name=dragmode]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        Plotly.relayout(element, { dragmode: layoutFor(element, element.figure).dragmode });
      });
    });

    form.addEventListener("change", function () {
      fitChoices(form, config);
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

  document.addEventListener("themechange", redrawAll);
  document.addEventListener("DOMContentLoaded", function () {
    // "Drag on the chart to": select rows with a mouse, scroll the page on a touch screen.
    var start = document.querySelector("input[name=dragmode][value=" + (TOUCH ? "scroll" : "select") + "]");
    if (start) start.checked = true;
    document.querySelectorAll("[data-figure]").forEach(function (element) {
      var figure = JSON.parse(document.getElementById(element.dataset.figure).textContent);
      draw(element, figure).then(function () {
        var form = document.getElementById("chart-form");
        if (form && element.id === "chart") setUpView(element, form);
      });
    });
  });
})();
