// Every page: the theme and the navigation menu.  Loaded in <head> without
// defer, so the chosen theme applies before the first paint (no flash).
//
// The theme follows the system (prefers-color-scheme) until the toggle picks
// the other one; that choice is remembered in localStorage.  Picking what the
// system says again forgets the choice.  <html data-theme> holds the theme in
// use; a "themechange" event on document tells the charts to redraw.
(function () {
  "use strict";

  var KEY = "bandersnatch-theme";
  var root = document.documentElement;
  var system = window.matchMedia("(prefers-color-scheme: light)");

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "light" || value === "dark" ? value : null;
    } catch (error) {
      return null; // storage refused (private mode): follow the system
    }
  }

  function systemTheme() {
    return system.matches ? "light" : "dark";
  }

  function apply(theme) {
    if (root.dataset.theme === theme) return;
    root.dataset.theme = theme;
    document.dispatchEvent(new CustomEvent("themechange", { detail: { theme: theme } }));
    label();
  }

  function remember(theme) {
    try {
      if (theme === systemTheme()) window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, theme);
    } catch (error) {
      // not remembered; the page still switches
    }
  }

  function label() {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    var other = root.dataset.theme === "light" ? "dark" : "light";
    button.setAttribute("aria-label", "Switch to the " + other + " theme");
    button.title = "Switch to the " + other + " theme";
  }

  root.classList.add("js");
  apply(stored() || systemTheme());
  system.addEventListener("change", function () {
    if (!stored()) apply(systemTheme());
  });

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.getElementById("theme-toggle");
    toggle.hidden = false;
    label();
    toggle.addEventListener("click", function () {
      var theme = root.dataset.theme === "light" ? "dark" : "light";
      remember(theme);
      apply(theme);
    });

    // On a narrow screen the links fold behind a Menu button (see site.css).
    var menuButton = document.getElementById("nav-toggle");
    var menu = document.getElementById(menuButton.getAttribute("aria-controls"));
    function setOpen(open) {
      menuButton.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("open", open);
    }
    menuButton.addEventListener("click", function () {
      setOpen(menuButton.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.classList.contains("open")) {
        setOpen(false);
        menuButton.focus();
      }
    });
  });
})();
