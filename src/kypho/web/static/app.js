// kypho's forms: branching (show a field only when another has a value), list
// widgets (codes only when something was observed) and the unsaved-changes
// warning. Display only: every value is validated on the server.
(function () {
  "use strict";

  function valueOf(form, name) {
    const inputs = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
    for (const input of inputs) {
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) return input.value;
      } else {
        return input.value;
      }
    }
    return "";
  }

  function setShown(box, shown) {
    box.classList.toggle("hidden", !shown);
    for (const input of box.querySelectorAll("input, select, textarea")) {
      if (!shown && !input.disabled) {
        input.disabled = true;
        input.dataset.branchDisabled = "1";
      } else if (shown && input.dataset.branchDisabled === "1") {
        input.disabled = false;
        delete input.dataset.branchDisabled;
      }
    }
  }

  function update(form) {
    for (const box of form.querySelectorAll("[data-show-if]")) {
      const current = valueOf(form, box.dataset.showIf);
      const targets = (box.dataset.showValues || "").split("|");
      const hit = targets.includes(current);
      setShown(box, box.dataset.showOp === "!=" ? !hit : hit);
    }
    for (const codes of form.querySelectorAll("[data-codes-of]")) {
      const any = valueOf(form, codes.dataset.codesOf + "__any");
      setShown(codes, any === "yes");
    }
  }

  let dirty = false;

  document.addEventListener("DOMContentLoaded", function () {
    for (const form of document.querySelectorAll("form.crf")) {
      update(form);
      form.addEventListener("change", function () { update(form); });
    }
    for (const form of document.querySelectorAll("form[data-warn-unsaved]")) {
      form.addEventListener("input", function () { dirty = true; });
      form.addEventListener("change", function () { dirty = true; });
      form.addEventListener("submit", function () { dirty = false; });
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
