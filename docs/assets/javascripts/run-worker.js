// The Web Worker that runs the guide's Python: Pyodide, loaded from the site itself, with
// the backprop wheel built from the checkout the site was built from. run-ui.js starts it
// on the first Run and ends it (terminate) on Stop. Messages in: {type: "init", indexURL,
// wheelURL, runnerURL}, {type: "run", id, prelude, code}, {type: "playground", id, code}.
// Messages out: {type: "progress", text}, {type: "ready"}, {type: "out", id, text},
// {type: "done", id, ok, result}, {type: "fatal", message}.
let runner = null;

const post = (message) => self.postMessage(message);

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
    stdout: (text) => post({ type: "out", id: null, text: `${text}\n` }),
    stderr: (text) => post({ type: "out", id: null, text: `${text}\n` }),
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
    const write = (text) => post({ type: "out", id: message.id, text });
    if (message.type === "run") {
      const ok = runner.run_block(message.prelude, message.code, write);
      post({ type: "done", id: message.id, ok });
    } else if (message.type === "playground") {
      const result = JSON.parse(runner.playground(message.code, write));
      post({ type: "done", id: message.id, ok: result.ok, result });
    } else {
      throw new Error(`unknown message ${message.type}`);
    }
  } catch (error) {
    post({ type: "fatal", id: message.id ?? null, message: String(error?.stack || error) });
  }
};
