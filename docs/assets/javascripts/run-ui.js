// Editors with Run, Reset and Stop for the code blocks hooks/run_blocks.py marked, and the
// playground. Imported by run.js only on pages that have them. One Web Worker runs Python
// (run-worker.js); it lives as long as this module, so across instant navigation, and is
// ended by Stop (the next Run starts a new one).

let worker = null; // the Worker, once started
let ready = null; // a promise that resolves when Python is loaded in it
let current = null; // {id, onOut, resolve, reject} of the run in flight
let nextId = 1;
let queue = Promise.resolve(); // one run at a time: the worker runs Python synchronously
const pages = new WeakSet(); // data blocks already set up

function startWorker(base, data, onProgress) {
  if (ready) return ready;
  const runtime = data.runtime;
  const indexURL = new URL(data.base, location.href).href;
  worker = new Worker(new URL("run-worker.js", base), { type: "module" });
  ready = new Promise((resolve, reject) => {
    worker.onmessage = ({ data: m }) => {
      if (m.type === "progress") onProgress(m.text);
      else if (m.type === "ready") resolve();
      else if (m.type === "out") current?.onOut(m.text);
      else if (m.type === "done" && current && m.id === current.id) current.resolve(m);
      else if (m.type === "fatal") {
        const error = new Error(m.message);
        if (current) current.reject(error);
        reject(error);
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      const error = new Error(`the Python worker failed: ${event.message || "unknown error"}`);
      current?.reject(error);
      reject(error);
    };
  });
  const failed = ready;
  failed.catch(() => {
    if (ready !== failed) return;
    worker?.terminate();
    worker = null;
    ready = null;
  });
  worker.postMessage({
    type: "init",
    indexURL,
    wheelURL: new URL(runtime.wheel, indexURL).href,
    runnerURL: new URL(runtime.runner, indexURL).href,
  });
  return ready;
}

function stopWorker() {
  if (worker) worker.terminate();
  worker = null;
  ready = null;
  if (current) current.reject(Object.assign(new Error("Stopped."), { stopped: true }));
}

// Run one message in the worker; `onOut` receives its output as it is printed.
function run(base, data, message, { onOut, onProgress }) {
  const task = queue.then(async () => {
    await startWorker(base, data, onProgress);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      current = { id, onOut, resolve, reject };
      onProgress("Running");
      worker.postMessage({ ...message, id });
    }).finally(() => {
      current = null;
    });
  });
  queue = task.catch(() => {});
  return task;
}

function button(label, title) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = `md-button bp-run-${label.toLowerCase()}`;
  b.textContent = label;
  b.title = title;
  return b;
}

function lineCount(text) {
  return text.replace(/\n$/, "").split("\n").length;
}

// Turn one marked <div class="language-python highlight"> into an editor.
function enhance(div, data, editors, base) {
  const index = div.dataset.bpBlock;
  const block = data.blocks[index];
  const playground = div.hasAttribute("data-bp-playground");
  const original = block.code;
  const box = document.createElement("div");
  box.className = "bp-run";
  box.dataset.bpBlock = index;
  const editor = document.createElement("textarea");
  editor.className = "bp-run-editor";
  editor.spellcheck = false;
  editor.value = original;
  editor.rows = lineCount(original);
  editor.setAttribute("aria-label", playground ? "The playground's program" : "Code block, editable");
  editor.addEventListener("input", () => {
    editor.rows = Math.max(lineCount(original), lineCount(editor.value));
  });
  const bar = document.createElement("div");
  bar.className = "bp-run-bar";
  const runButton = button("Run", "Run this code in your browser (Ctrl+Enter)");
  const resetButton = button("Reset", "Put the original code back");
  const stopButton = button("Stop", "Stop the running code (Python restarts on the next Run)");
  stopButton.disabled = true;
  const status = document.createElement("span");
  status.className = "bp-run-status";
  status.setAttribute("role", "status");
  const progress = document.createElement("progress");
  progress.className = "bp-run-progress";
  progress.hidden = true;
  bar.append(runButton, resetButton, stopButton, progress, status);
  const output = document.createElement("pre");
  output.className = "bp-run-output";
  output.setAttribute("aria-live", "polite");
  output.setAttribute("aria-label", "Output");
  output.hidden = true;
  const results = document.createElement("div");
  results.className = "bp-playground-results";
  box.append(editor, bar, output);
  if (playground) box.append(results);
  div.replaceWith(box);
  editors.set(index, editor);

  const show = (text, kind = "") => {
    output.hidden = false;
    output.className = `bp-run-output ${kind}`.trim();
    output.textContent = text;
  };

  const start = async () => {
    if (runButton.disabled) return;
    if (!data.runtime) {
      show(
        "Python for the browser (Pyodide) is not part of this build of the site.\n" +
          `Run \`${data.install}\` in your clone of the guide, then \`make serve\` or \`make build\` again.`,
        "bp-run-missing",
      );
      return;
    }
    const prelude = block.prelude.map((i) => editors.get(String(i))?.value ?? data.blocks[i].code);
    runButton.disabled = true;
    stopButton.disabled = false;
    progress.hidden = false;
    let printed = "";
    show("");
    results.replaceChildren();
    const began = performance.now();
    let ranFrom = began;
    const message = playground
      ? { type: "playground", code: editor.value }
      : { type: "run", prelude, code: editor.value };
    try {
      const done = await run(base, data, message, {
        onOut: (text) => {
          printed += text;
          output.textContent = printed;
        },
        onProgress: (text) => {
          if (text === "Running") ranFrom = performance.now();
          status.textContent = `${text}…`;
        },
      });
      const now = performance.now();
      const seconds = ((now - ranFrom) / 1000).toFixed(1);
      const loading = ranFrom - began > 500 ? ` (Python loaded in ${((ranFrom - began) / 1000).toFixed(1)} s)` : "";
      show(printed, done.ok ? "" : "bp-run-error");
      if (!printed && done.ok) output.hidden = true;
      status.textContent = done.ok
        ? `Ran in ${seconds} s${loading}.`
        : /\nAssertionError\b[^\n]*\n?$/.test(printed)
          ? "An assert failed: the block checks the numbers the page shows, and they changed."
          : "It raised an exception.";
      box.dataset.bpRan = done.ok ? "ok" : "error";
      if (playground && done.ok) showPlayground(results, done.result);
    } catch (error) {
      if (error.stopped) {
        show(`${printed}${printed && !printed.endsWith("\n") ? "\n" : ""}Stopped.`, "bp-run-error");
        status.textContent = "Stopped; Python will restart on the next Run.";
        box.dataset.bpRan = "stopped";
      } else {
        show(String(error.message || error), "bp-run-error");
        status.textContent = "Python could not run.";
        box.dataset.bpRan = "failed";
      }
    } finally {
      runButton.disabled = false;
      stopButton.disabled = true;
      progress.hidden = true;
    }
  };
  runButton.addEventListener("click", start);
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      start();
    }
  });
  resetButton.addEventListener("click", () => {
    editor.value = original;
    editor.rows = lineCount(original);
    output.hidden = true;
    results.replaceChildren();
    status.textContent = "";
  });
  stopButton.addEventListener("click", () => stopWorker());
}

// The playground's results: the drawn graph, a table of every node, the stepper.
function showPlayground(results, result) {
  const graph = document.createElement("figure");
  graph.className = "bp-figure bp-playground-graph";
  graph.innerHTML = result.svg;
  // A plain <table> in a wrapper, so Material styles it as it styles the guide's tables.
  const nodes = document.createElement("div");
  nodes.className = "md-typeset__table bp-playground-nodes";
  const table = document.createElement("table");
  nodes.append(table);
  table.innerHTML = "<thead><tr><th>node</th><th>operation</th><th>data</th><th>grad</th></tr></thead>";
  const body = document.createElement("tbody");
  for (const node of result.nodes) {
    const row = document.createElement("tr");
    for (const text of [node.label || "(unnamed)", node.op || "input", node.data, node.grad]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    body.append(row);
  }
  table.append(body);
  const stepper = document.createElement("div");
  stepper.className = "bp-playground-stepper";
  stepper.innerHTML = result.stepper;
  results.replaceChildren(graph, nodes, stepper);
  const root = stepper.querySelector("[data-stepper]") || stepper;
  window.backpropStepper?.init(root);
}

export function setup(doc, base) {
  const holder = [...doc.querySelectorAll("div.bp-run-data")].pop();
  if (!holder || pages.has(holder)) return;
  pages.add(holder);
  const data = JSON.parse(holder.dataset.bpRun);
  const editors = new Map();
  for (const div of doc.querySelectorAll("div[data-bp-block]:not(.bp-run)")) {
    enhance(div, data, editors, base);
  }
}
