// Accessibility fixes that need the rendered page (checked by tests/test_a11y.py).
// Material's `document$` fires on the first load and after every instant navigation.
(() => {
  // Regions that can scroll sideways (wide formulas, notebook cells and outputs, tables)
  // must be reachable by keyboard, or a keyboard user cannot scroll them (WCAG 2.1.1).
  const SCROLLERS = [
    "div.arithmatex",
    ".highlight-ipynb",
    ".jp-OutputArea-output",
    ".md-typeset__scrollwrap",
    ".bp-figure",
  ].join(", ");

  const scrolls = (el) => {
    const style = getComputedStyle(el);
    const x = /(auto|scroll)/.test(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
    const y = /(auto|scroll)/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
    return x || y;
  };

  const markScrollers = () => {
    for (const el of document.querySelectorAll(SCROLLERS)) {
      if (el.hasAttribute("tabindex") && !el.hasAttribute("data-bp-scroll")) continue;
      if (scrolls(el)) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-bp-scroll", "");
      } else if (el.hasAttribute("data-bp-scroll")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-bp-scroll");
      }
    }
  };

  let pending = 0;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(markScrollers, 200);
  });
  // Formulas grow once KaTeX's fonts have loaded: look again then.
  document$.subscribe(() => {
    markScrollers();
    document.fonts.ready.then(markScrollers);
  });
  window.addEventListener("load", markScrollers);
})();
