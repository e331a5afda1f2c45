// Suggestions under a table's text filters, as an ARIA combobox (the WAI-ARIA
// "list autocomplete" pattern): arrow keys move through the suggestions,
// Enter takes one, Escape closes the list. The form's data-suggest-url answers
// {"suggestions": [...]} for the input's own parameter (q=dra,
// city_contains=lis); an input marked data-suggest-from="N" asks once N
// characters are typed, DELAY_MS after the last key. Without this script the
// inputs are plain text fields.
(function () {
  "use strict";
  var DELAY_MS = 250;

  function combobox(form, input) {
    var from = Number(input.dataset.suggestFrom) || 1;
    var label = input.closest("label");
    var wrapper = document.createElement("div");
    var list = document.createElement("ul");
    var status = document.createElement("span");
    var options = [];
    var active = -1;
    var timer = null;
    var pending = null;

    wrapper.className = "combobox";
    list.id = input.id + "-suggestions";
    list.className = "suggestions";
    list.hidden = true;
    list.setAttribute("role", "listbox");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    // The label's own words name the input: the list, inside the wrapper, is not part of its name.
    label.parentNode.insertBefore(wrapper, label);
    wrapper.append(label, list, status);
    var caption = label.querySelector("span");
    if (caption) {
      caption.id = input.id + "-label";
      list.setAttribute("aria-labelledby", caption.id);
    }
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("autocomplete", "off");

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      highlight(-1);
    }

    function open() {
      if (!options.length) return;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function highlight(index) {
      if (options[active]) options[active].setAttribute("aria-selected", "false");
      active = index;
      if (options[active]) {
        options[active].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", options[active].id);
        options[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(suggestions) {
      list.replaceChildren();
      active = -1;
      options = suggestions.map(function (text, index) {
        var option = document.createElement("li");
        option.id = list.id + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = text;
        list.append(option);
        return option;
      });
      status.textContent = options.length
        ? options.length + (options.length === 1 ? " suggestion" : " suggestions") + ": arrow down to choose"
        : "";
      if (options.length) open();
      else close();
    }

    function choose(index) {
      input.value = options[index].textContent;
      show([]); // the list was for the text typed, not for this value
    }

    function ask() {
      var text = input.value.trim();
      if (text.length < from) {
        show([]);
        return;
      }
      pending = new AbortController();
      var query = new URLSearchParams([[input.name, text]]);
      fetch(form.dataset.suggestUrl + "?" + query, {
        headers: { Accept: "application/json" },
        signal: pending.signal,
      })
        .then(function (response) {
          return response.ok ? response.json() : { suggestions: [] };
        })
        .then(function (answer) {
          if (document.activeElement === input) show(answer.suggestions || []);
        })
        .catch(function (error) {
          if (error.name !== "AbortError") show([]);
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      if (pending) pending.abort(); // its answer would be for a text no longer there
      timer = setTimeout(ask, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      var expanded = !list.hidden;
      if (event.isComposing) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!options.length) return;
        event.preventDefault();
        if (!expanded) {
          open();
          if (event.altKey) return;
        }
        var count = options.length;
        if (event.key === "ArrowDown") highlight(active + 1 < count ? active + 1 : 0);
        else highlight(active > 0 ? active - 1 : count - 1);
      } else if (event.key === "Enter" && expanded && active >= 0) {
        event.preventDefault(); // take the suggestion; a second Enter sends the form
        choose(active);
      } else if (event.key === "Escape" && expanded) {
        event.preventDefault();
        close();
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", close);
    // A press on the list would blur the input and close the list before the click lands.
    list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    list.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) choose(options.indexOf(option));
    });
  }

  document.querySelectorAll("form[data-suggest-url]").forEach(function (form) {
    form.querySelectorAll("input[data-suggest-from]").forEach(function (input) {
      combobox(form, input);
    });
  });
})();
