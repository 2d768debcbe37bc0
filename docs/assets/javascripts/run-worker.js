// The Web Worker that runs the guide's Python: Pyodide, loaded from the site itself, with
// the backprop wheel built from the checkout the site was built from. run-ui.js starts it
// on the first Run and ends it (terminate) on Stop. Messages in: {type: "init", indexURL,
// wheelURL, runnerURL}, {type: "run", id, prelude, code}, {type: "playground", id, code}.
// Messages out: {type: "progress", text}, {type: "ready"}, {type: "out", id, text},
// {type: "done", id, ok, result}, {type: "fatal", message}.
//
// Python runs synchronously here, so output is batched by time instead of by timer: what is
// printed is collected and posted at most every FLUSH_MS, and once more before "done". A
// loop printing 200,000 lines then sends some tens of messages, not 400,000.
let runner = null;
const FLUSH_MS = 50;
let pending = [];
let pendingId = null;
let flushedAt = 0;

const post = (message) => self.postMessage(message);

function flush() {
  if (pending.length) post({ type: "out", id: pendingId, text: pending.join("") });
  pending = [];
  flushedAt = performance.now();
}

function out(id, text) {
  if (id !== pendingId) flush();
  pendingId = id;
  pending.push(text);
  if (performance.now() - flushedAt >= FLUSH_MS) flush();
}

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

async function init({ indexURL, wheelURL, runnerURL }) {
  post({ type: "progress", text: "Downloading Python (about 13 MB, first Run only)" });
  const { loadPyodide } = await import(`${indexURL}pyodide.mjs`);
  const pyodide = await loadPyodide({
    indexURL,
    stdout: (text) => out(null, `${text}\n`),
    stderr: (text) => out(null, `${text}\n`),
  });
  post({ type: "progress", text: "Installing backprop" });
  const wheel = await (await fetchOk(wheelURL)).arrayBuffer();
  pyodide.unpackArchive(wheel, "wheel");
  const source = await (await fetchOk(runnerURL)).text();
  pyodide.FS.mkdirTree("/backprop-runner");
  pyodide.FS.writeFile("/backprop-runner/browser_runner.py", source);
  pyodide.runPython("import sys; sys.path.insert(0, '/backprop-runner')");
  runner = pyodide.pyimport("browser_runner");
  post({ type: "ready" });
}

self.onmessage = async ({ data: message }) => {
  try {
    if (message.type === "init") {
      await init(message);
      return;
    }
    if (runner === null) throw new Error("run before init");
    const write = (text) => out(message.id, text);
    flushedAt = performance.now() - FLUSH_MS; // the first line shows at once
    if (message.type === "run") {
      const ok = runner.run_block(message.prelude, message.code, write);
      flush();
      post({ type: "done", id: message.id, ok });
    } else if (message.type === "playground") {
      const result = JSON.parse(runner.playground(message.code, write));
      flush();
      post({ type: "done", id: message.id, ok: result.ok, result });
    } else {
      throw new Error(`unknown message ${message.type}`);
    }
  } catch (error) {
    flush();
    post({ type: "fatal", id: message.id ?? null, message: String(error?.stack || error) });
  }
};
