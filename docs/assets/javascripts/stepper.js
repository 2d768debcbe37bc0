// The step-through of the backward pass (backprop.stepper.stepper_html).
//
// The page holds every frame in an ordered list, readable without JavaScript. This
// script shows one frame at a time, with Previous and Next buttons, a "Step k of n"
// status read out by screen readers, and the Left/Right arrow keys while the widget
// has focus. It acts only where a [data-stepper] element exists; Material's instant
// navigation re-runs it on every page (document$), and content added later (the
// playground) calls window.backpropStepper.init(element).
(function () {
  "use strict";

  function makeButton(text, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "bp-stepper-button";
    button.textContent = text;
    button.setAttribute("aria-label", label);
    return button;
  }

  // Turn one [data-stepper] element into a one-frame-at-a-time widget (once).
  function setUp(root) {
    if (root.bpStepper) return root.bpStepper;
    const list = root.querySelector(".bp-stepper-frames");
    const frames = list ? Array.from(list.children).filter((li) => li.matches(".bp-stepper-frame")) : [];
    if (frames.length === 0) return null;

    const controls = document.createElement("div");
    controls.className = "bp-stepper-controls";
    const previous = makeButton("← Previous", "Previous step");
    const next = makeButton("Next →", "Next step");
    const status = document.createElement("p");
    status.className = "bp-stepper-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    controls.append(previous, status, next);
    list.before(controls);

    let index = 0;
    function show(k) {
      index = Math.max(0, Math.min(frames.length - 1, k));
      frames.forEach((frame, i) => {
        frame.hidden = i !== index;
      });
      // aria-disabled rather than disabled: a focused button keeps its focus at the ends.
      previous.setAttribute("aria-disabled", String(index === 0));
      next.setAttribute("aria-disabled", String(index === frames.length - 1));
      const label = frames[index].dataset.label || "";
      status.textContent = `Step ${index + 1} of ${frames.length}: ${label}`;
      root.dataset.current = String(index);
    }

    previous.addEventListener("click", () => show(index - 1));
    next.addEventListener("click", () => show(index + 1));
    root.addEventListener("keydown", (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      if (event.key === "ArrowLeft") show(index - 1);
      else if (event.key === "ArrowRight") show(index + 1);
      else if (event.key === "Home") show(0);
      else if (event.key === "End") show(frames.length - 1);
      else return;
      event.preventDefault();
    });
    if (!root.hasAttribute("tabindex")) root.tabIndex = 0;
    root.setAttribute("aria-roledescription", "step-through");
    root.classList.add("bp-stepper--js");

    const api = {
      show,
      next: () => show(index + 1),
      previous: () => show(index - 1),
      get index() {
        return index;
      },
      get length() {
        return frames.length;
      },
    };
    root.bpStepper = api;
    show(0);
    return api;
  }

  // Set up `element` if it is a stepper, and every stepper inside it.
  function init(element) {
    const scope = element || document;
    const roots = Array.from(scope.querySelectorAll("[data-stepper]"));
    if (scope.matches && scope.matches("[data-stepper]")) roots.unshift(scope);
    return roots.map(setUp).filter(Boolean);
  }

  window.backpropStepper = { init };

  if (typeof document$ !== "undefined") {
    document$.subscribe(() => init(document));
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => init(document));
  } else {
    init(document);
  }
})();
