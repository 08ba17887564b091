// The "select all" box of django-import-export's export form. The library wires it with an onchange= attribute,
// which the portal's Content-Security-Policy refuses; the handler itself is the library's
// (import_export/export_selectable_fields.js, loaded before this file by the form's media).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input.select-toggle").forEach((toggle) => {
    toggle.addEventListener("change", onSelectToggleChange);
  });
});
