"""Run the verification tests and write what they found to tools/results/verification.json.

The page "How we know it's right" (docs/explanation/how-we-know.md) is rendered from this
report and from the drift detector's (`tools/mutate.py`). This script runs, in one pytest
process:

- `tests/test_coverage.py`: every operation of the catalogue against its formulas, finite
  differences and PyTorch float64;
- `tests/test_random_graphs.py`: random graphs of both engines against PyTorch and finite
  differences (the number of examples comes from `BACKPROP_GRAPH_EXAMPLES`, or `--examples`);
- `tests/test_bad_inputs.py`, `tests/test_numerics.py`, `tests/test_scale.py`,
  `tests/test_torch_semantics.py`: the bad-input catalogue, extreme inputs, huge graphs, and
  the gradient semantics shared with PyTorch, and the two engines on the same networks.

It records every test's outcome, the number of random graphs Hypothesis actually ran (from
its statistics), the PyTorch version, and a hash of the sources the results describe. It
exits with 1 if any test did not pass, so a report can only record a clean run.

Usage: `python tools/evidence.py [--examples N] [--json PATH]` (`make evidence`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from reports import ENGINE_SOURCES, RESULTS, ROOT, sources_sha256

TESTS = (
    "tests/test_coverage.py",
    "tests/test_random_graphs.py",
    "tests/test_bad_inputs.py",
    "tests/test_numerics.py",
    "tests/test_scale.py",
    "tests/test_torch_semantics.py",
    "tests/test_nn_tensor.py::test_the_scalar_and_tensor_engines_agree",
)
# The report describes the engines as the catalogue lists them and as these tests check them.
SOURCES = (*ENGINE_SOURCES, "backprop/catalogue.py", *(t.split("::")[0] for t in TESTS))

_STATS = re.compile(
    r"^(?P<test>\S+::test_random_(?P<engine>scalar|tensor)_graphs\S*):\s*$"
    r"(?P<body>(?:\n(?!\S+::).*)*)",
    re.M,
)
_PASSING = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")


def outcomes(junit: Path) -> dict[str, str]:
    """Each test's node id and outcome (passed, failed, error, skipped), from JUnit XML."""
    result = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/")
        file = f"{path}.py" if not path.endswith(".py") else path
        node = f"{file}::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
        result[node] = outcome
    return result


def graph_counts(stdout: str) -> dict[str, dict[str, int]]:
    """How many random graphs each engine's test ran, from Hypothesis's statistics."""
    counts: dict[str, dict[str, int]] = {}
    for m in _STATS.finditer(stdout):
        passing = failing = invalid = 0
        for p in _PASSING.finditer(m.group("body")):  # one line per phase
            passing += int(p.group(1))
            failing += int(p.group(2))
            invalid += int(p.group(3))
        counts[m.group("engine")] = {"passing": passing, "failing": failing, "invalid": invalid}
    return counts


def bad_inputs() -> list[dict[str, str]]:
    """The rows of the bad-input catalogue, as plain data for the evidence page."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_bad_inputs import CATALOGUE

    return [
        {"module": c.module, "what": c.what, "error": c.error.__name__, "match": c.match}
        for c in CATALOGUE
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, help="random graphs per engine (default 1000)")
    parser.add_argument("--json", type=Path, default=RESULTS / "verification.json")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    if args.examples:
        env["BACKPROP_GRAPH_EXAMPLES"] = str(args.examples)
    env["CI"] = "true"  # a skipped check (no PyTorch, say) counts as a failure here
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
             "--hypothesis-show-statistics", f"--junitxml={junit}", *TESTS],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        tests = outcomes(junit)
    seconds = time.perf_counter() - started
    counts: dict[str, int] = {}
    for outcome in tests.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    graphs = graph_counts(proc.stdout)
    print(f"evidence: {len(tests)} tests in {seconds:.0f} s: {counts}; random graphs: {graphs}")
    if proc.returncode != 0 or set(counts) != {"passed"} or set(graphs) != {"scalar", "tensor"}:
        print(proc.stdout[-6000:], proc.stderr[-2000:], sep="\n")
        print("evidence: not every check passed; no report written", file=sys.stderr)
        return 1

    import torch

    report = {
        "sources": list(SOURCES),
        "sources_sha256": sources_sha256(ROOT, SOURCES),
        "date": time.strftime("%Y-%m-%d"),
        "seconds": round(seconds),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "random_graphs": graphs,
        "bad_inputs": bad_inputs(),
        "counts": counts,
        "tests": tests,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", "utf8")
    print(f"evidence: report written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
