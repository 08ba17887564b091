// The periodic-task form of django-celery-beat: shows the chosen crontab in words under the crontab field. The
// library does this with an inline script, which the portal's Content-Security-Policy refuses.
"use strict";

(function () {
  const label = document.currentScript.dataset.label;

  function init() {
    const data = document.getElementById("readable-crontabs");
    const select = document.getElementById("id_crontab");
    const help = document.querySelector(".field-crontab .help");
    if (!data || !select) {
      return;
    }
    // The read-only row repeats the saved crontab in words; the live line under the select replaces it.
    document.querySelectorAll(".field-crontab_translation").forEach((row) => {
      row.style.display = "none";
    });
    if (!help) {
      return;
    }
    const readable = JSON.parse(data.textContent);
    const original = help.textContent;
    const update = () => {
      help.textContent = original;
      const words = readable[select.value];
      if (words) {
        help.append(document.createElement("br"), label + " " + words);
      }
    };
    select.addEventListener("change", update);
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
