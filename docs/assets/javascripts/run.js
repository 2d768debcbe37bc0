// Run buttons on the guide's code blocks. This file is loaded on every page and stays tiny:
// only a page whose blocks the build marked as runnable (hooks/run_blocks.py appends a
// <div class="bp-run-data"> to it) imports run-ui.js, and Python itself (Pyodide, in a
// Web Worker) loads on the first Run. Material's `document$` fires on the first load and
// after every instant navigation; run-ui.js is a module, so it is imported once and its
// worker survives navigation.
(() => {
  const here = new URL(".", document.currentScript.src);
  let ui = null;
  const setup = () => {
    if (!document.querySelector("div.bp-run-data")) return;
    ui ??= import(new URL("run-ui.js", here).href);
    ui.then((module) => module.setup(document, here)).catch((error) => {
      ui = null;
      console.error("backprop: the Run buttons could not start:", error);
    });
  };
  if (typeof document$ !== "undefined") document$.subscribe(setup);
  else document.addEventListener("DOMContentLoaded", setup);
})();
