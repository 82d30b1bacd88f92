// Progressive enhancement for the postmortem editor: re-run the blameless language check
// while the author types. Without this script the "Check language" button does the same.
(function () {
  "use strict";
  var form = document.getElementById("editor");
  var list = document.getElementById("live-findings");
  if (!form || !list || !window.fetch) {
    return;
  }
  var token = form.querySelector('input[name="csrf_token"]').value;
  var timer = null;

  function sections() {
    var out = {};
    form.querySelectorAll("textarea[data-section]").forEach(function (area) {
      out[area.name] = area.value;
    });
    return out;
  }

  function show(findings) {
    list.replaceChildren.apply(list, findings.map(function (f) {
      var item = document.createElement("li");
      item.textContent = f.section + ": \u201c" + f.phrase + "\u201d (" + f.category + ") \u2014 " +
        f.explanation + " Try: " + f.suggestion;
      return item;
    }));
    list.hidden = findings.length === 0;
  }

  function check() {
    fetch("/api/v1/language-check", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
      body: JSON.stringify(sections())
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (findings) {
      if (findings) {
        show(findings);
      }
    });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 700);
  });
})();
