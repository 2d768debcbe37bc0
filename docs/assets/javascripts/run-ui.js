// Editors with Run, Reset and Stop for the code blocks hooks/run_blocks.py marked, and the
// playground. Imported by run.js only on pages that have them. One Web Worker runs Python
// (run-worker.js); it lives as long as this module, so across instant navigation, and is
// ended by Stop (the next Run starts a new one).
//
// The editor is CodeMirror 6 (vendored, one minified module: see docs/assets/vendor/README.md):
// Python highlighting in the site's own code colours, line numbers, Tab indents, and, as
// CodeMirror's accessibility rule has it, Escape then Tab leaves the editor (a hint under
// each editor says so). Output is buffered and drawn once per animation frame, keeping the
// last TAIL_LINES lines, so a block that prints in a loop cannot hang the page.
import * as cm from "../vendor/codemirror/codemirror.min.js";

// The output shown is the last TAIL_LINES lines (and at most TAIL_CHARS characters), with
// a note of how many earlier lines were dropped, as notebook front ends do.
export const TAIL_LINES = 10_000;
const TAIL_CHARS = 2_000_000;

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
        // A fatal error (a stack overflow, say) leaves Pyodide broken: start afresh next Run.
        worker?.terminate();
        worker = null;
        ready = null;
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

// The light and dark editor themes. Colours come from Material's own variables (its code
// colours for the tokens are in run.css), so both follow the scheme; the `dark` flag also
// picks CodeMirror's dark defaults for what is not set here.
const schemeTheme = (dark) =>
  cm.EditorView.theme(
    {
      "&": {
        color: "var(--md-code-fg-color)",
        backgroundColor: "var(--md-code-bg-color)",
        border: "1px solid var(--md-default-fg-color--lightest)",
        borderRadius: "0.1rem",
        fontSize: "0.85em",
      },
      "&.cm-focused": { outline: "2px solid var(--md-accent-fg-color)", outlineOffset: "1px" },
      ".cm-scroller": { fontFamily: "var(--md-code-font-family, monospace)", lineHeight: "1.4" },
      ".cm-content": { padding: "0.7em 0", caretColor: "var(--md-code-fg-color)" },
      ".cm-line": { padding: "0 1.2em 0 0.6em" },
      ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--md-code-fg-color)" },
      "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground":
        { backgroundColor: "var(--md-accent-fg-color--transparent)" },
      ".cm-gutters": {
        backgroundColor: "var(--md-code-bg-color)",
        // Material's comment colour, which the site sets to reach 4.5:1 (extra.css).
        color: "var(--md-code-hl-comment-color)",
        borderRight: "1px solid var(--md-default-fg-color--lightest)",
      },
      ".cm-matchingBracket, &.cm-focused .cm-matchingBracket": {
        backgroundColor: "transparent",
        outline: "1px solid var(--md-default-fg-color--light)",
      },
    },
    { dark },
  );
const isDark = () => document.body.getAttribute("data-md-color-scheme") === "slate";
const scheme = new cm.Compartment();
const views = new Set(); // the live editors, which follow the colour scheme
let schemeWatch = null;

// Material switches the scheme by setting data-md-color-scheme on <body>: follow it live.
function followScheme() {
  if (schemeWatch) return;
  let dark = isDark();
  schemeWatch = new MutationObserver(() => {
    if (isDark() === dark) return;
    dark = isDark();
    for (const view of views) {
      if (!view.dom.isConnected) {
        views.delete(view);
        view.destroy();
      } else view.dispatch({ effects: scheme.reconfigure(schemeTheme(dark)) });
    }
  });
  schemeWatch.observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
}

let editorCount = 0;

// A CodeMirror editor for `code` in `parent`: {view, value} (value reads and sets the code).
function makeEditor(parent, code, { label, hintId, onRun }) {
  followScheme();
  const view = new cm.EditorView({
    parent,
    state: cm.EditorState.create({
      doc: code,
      extensions: [
        // Before the default keymap, which binds Mod-Enter to "insert a blank line".
        cm.Prec.highest(cm.keymap.of([{ key: "Mod-Enter", run: () => (onRun(), true) }])),
        cm.lineNumbers(),
        cm.minimalSetup,
        cm.indentUnit.of("    "),
        cm.indentOnInput(),
        cm.bracketMatching(),
        cm.python(),
        cm.syntaxHighlighting(cm.classHighlighter),
        cm.keymap.of([cm.indentWithTab]),
        scheme.of(schemeTheme(isDark())),
        // tabindex: a long line scrolls the editor sideways, and axe asks that a scrolling
        // region hold something focusable by tabindex (contenteditable alone does not count).
        cm.EditorView.contentAttributes.of({
          "aria-label": label,
          "aria-describedby": hintId,
          tabindex: "0",
        }),
      ],
    }),
  });
  views.add(view);
  return {
    view,
    get value() {
      return view.state.doc.toString();
    },
    set value(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
  };
}

// The end of a run's output: its last `maxLines` lines (at most `maxChars` characters),
// and how many lines came before them.
export class Tail {
  constructor(maxLines = TAIL_LINES, maxChars = TAIL_CHARS) {
    this.maxLines = maxLines;
    this.maxChars = maxChars;
    this.lines = []; // complete lines, without their newline
    this.chars = 0; // their length, newlines included
    this.open = ""; // the line being printed, not ended yet
    this.dropped = 0; // complete lines no longer kept
    this.cut = false; // whether the open line lost its start (it is longer than maxChars)
  }

  push(text) {
    const parts = (this.open + text).split("\n");
    this.open = parts.pop();
    const kept = parts.length > this.maxLines ? parts.slice(-this.maxLines) : parts;
    this.dropped += parts.length - kept.length;
    for (const line of kept) {
      this.lines.push(line);
      this.chars += line.length + 1;
    }
    let drop = 0;
    while (
      this.lines.length - drop > this.maxLines ||
      (drop < this.lines.length && this.chars + this.open.length > this.maxChars)
    ) {
      this.chars -= this.lines[drop].length + 1;
      drop += 1;
    }
    if (drop) {
      this.lines.splice(0, drop);
      this.dropped += drop;
    }
    if (parts.length) this.cut = false; // the cut line has ended, and is too long to keep
    if (this.open.length > this.maxChars) {
      this.open = this.open.slice(-this.maxChars);
      this.cut = true;
    }
  }

  get text() {
    return this.lines.length ? `${this.lines.join("\n")}\n${this.open}` : this.open;
  }

  get note() {
    const parts = [];
    if (this.dropped) {
      const n = this.dropped.toLocaleString("en");
      parts.push(`${n} earlier line${this.dropped === 1 ? "" : "s"} not shown: only the last ` +
        `${this.lines.length.toLocaleString("en")} are kept.`);
    }
    if (this.cut) parts.push("The last line is too long to show whole: its start is cut.");
    return parts.join(" ");
  }
}

function button(label, title) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = `md-button bp-run-${label.toLowerCase()}`;
  b.textContent = label;
  b.title = title;
  return b;
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
  const hint = document.createElement("span");
  hint.className = "bp-run-keys";
  hint.id = `bp-run-keys-${++editorCount}`;
  hint.textContent = "Tab indents; Esc then Tab leaves the editor; Ctrl+Enter runs.";
  bar.append(runButton, resetButton, stopButton, progress, status, hint);
  const dropped = document.createElement("p");
  dropped.className = "bp-run-dropped";
  dropped.hidden = true;
  const output = document.createElement("pre");
  output.className = "bp-run-output";
  output.setAttribute("aria-live", "polite");
  output.setAttribute("aria-label", "Output");
  output.tabIndex = 0; // a long output scrolls: the keyboard must reach it
  output.hidden = true;
  const results = document.createElement("div");
  results.className = "bp-playground-results";
  const holder = document.createElement("div");
  holder.className = "bp-run-editor";
  box.append(holder, bar, dropped, output);
  if (playground) box.append(results);
  div.replaceWith(box);
  const editor = makeEditor(holder, original, {
    label: playground ? "The playground's program" : "Code block, editable",
    hintId: hint.id,
    onRun: () => start(),
  });
  editors.set(index, editor);
  box.bpEditor = editor; // for the browser tests: the code, read and set as a reader would

  const show = (text, kind = "") => {
    output.hidden = false;
    output.className = `bp-run-output ${kind}`.trim();
    output.textContent = text;
  };
  const showDropped = (note) => {
    dropped.textContent = note;
    dropped.hidden = !note;
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
    // Output arrives in batches from the worker; it is kept in `pending` and drawn once per
    // animation frame, into a bounded tail, so printing in a loop cannot hang the page.
    const tail = new Tail();
    let pending = [];
    let frame = 0;
    const draw = () => {
      frame = 0;
      if (!pending.length) return;
      tail.push(pending.join(""));
      pending = [];
      const follow = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
      output.textContent = tail.text;
      showDropped(tail.note);
      if (follow) output.scrollTop = output.scrollHeight;
    };
    const drawNow = () => {
      cancelAnimationFrame(frame);
      draw();
      return tail.text;
    };
    show("");
    showDropped("");
    output.setAttribute("aria-busy", "true"); // screen readers wait for the whole output
    results.replaceChildren();
    const began = performance.now();
    let ranFrom = began;
    const message = playground
      ? { type: "playground", code: editor.value }
      : { type: "run", prelude, code: editor.value };
    try {
      const done = await run(base, data, message, {
        onOut: (text) => {
          pending.push(text);
          frame ||= requestAnimationFrame(draw);
        },
        onProgress: (text) => {
          if (text === "Running") ranFrom = performance.now();
          status.textContent = `${text}…`;
        },
      });
      const printed = drawNow();
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
      const printed = drawNow();
      if (error.stopped) {
        show(`${printed}${printed && !printed.endsWith("\n") ? "\n" : ""}Stopped.`, "bp-run-error");
        status.textContent = "Stopped; Python will restart on the next Run.";
        box.dataset.bpRan = "stopped";
      } else {
        show(String(error.message || error), "bp-run-error");
        showDropped("");
        status.textContent = "Python could not run.";
        box.dataset.bpRan = "failed";
      }
    } finally {
      output.setAttribute("aria-busy", "false");
      runButton.disabled = false;
      stopButton.disabled = true;
      progress.hidden = true;
    }
  };
  runButton.addEventListener("click", start);
  resetButton.addEventListener("click", () => {
    editor.value = original;
    output.hidden = true;
    showDropped("");
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
