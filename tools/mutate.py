"""The drift detector: break one derivative rule at a time and see whether the guide notices.

Every code block of the guide runs under pytest, so a wrong derivative rule in the engine
should make some page fail. This script proves it, rule by rule:

1. It copies the checkout to a temporary folder (the working tree is never touched).
2. It runs the docs' code blocks once under coverage, recording which blocks execute
   which lines of `backprop/scalar.py` and `backprop/tensor.py`.
3. It lists the *mutants*: each local derivative (scalar engine) or each gradient a
   vector-Jacobian product returns (tensor engine) negated, doubled or swapped with its
   sibling; a broadcast gradient not summed back; a matrix-product gradient with a
   transpose dropped; the chain rule's accumulation `+=` turned into `=`.
4. For each mutant it writes the broken engine into the copy and runs only the blocks
   that execute the mutated line, tutorial pages first (then how-tos, explanations and
   reference), stopping at the first failure: the guide *catches* the mutant if one of
   them fails, and the report names that block.
   A mutant on a line that no block executes is reported as *not exercised*.

Usage: `python tools/mutate.py [--sample N] [--json PATH] [--jobs N]`. It exits with 1
when a mutant of an operation that the guide exercises survives, so a page that stops
checking what it teaches turns the run red.
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reports import ENGINE_SOURCES, sources_sha256

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ENGINE_SOURCES
DOCS = "docs"
# The evidence page renders this script's own report and refuses a stale one; it holds no
# derivative rule to catch a mutant with, so the drift detector leaves it out (else a
# changed engine could never get a fresh report).
EVIDENCE_PAGE = "docs/explanation/how-we-know.md"
TIMEOUT = 600  # seconds for one mutant's run

# Display names of the operations, by the function that implements them.
SYMBOLS = {
    "__add__": "+",
    "__sub__": "-",
    "__mul__": "*",
    "__truediv__": "/",
    "__pow__": "**",
    "__neg__": "neg",
    "__matmul__": "@",
    "__getitem__": "index",
    "_neg_vjp": "neg",
    "_extreme": "amax/amin",  # max and min share it with amax and amin
    "_cross_entropy_rows": "cross_entropy",  # the fused common case
    "_cross_entropy_general": "cross_entropy",  # every other form PyTorch takes
    "_propagate": "backward",
    "backward": "backward",
}


@dataclass
class Mutant:
    """One broken rule: where it is, what was done, and what the guide made of it."""

    file: str
    op: str
    kind: str
    line: int
    end_line: int
    description: str
    status: str = "pending"  # caught | survived | not exercised
    caught_by: str = ""
    tests_run: int = 0
    seconds: float = 0.0
    index: int = field(default=0, repr=False)


# ---------------------------------------------------------------------- finding mutants


def _is_zero(node: ast.expr) -> bool:
    """A zero or a missing gradient: negating or doubling it changes nothing."""
    return isinstance(node, ast.Constant) and (node.value is None or node.value == 0)


def _elements(node: ast.expr) -> list[ast.Tuple]:
    """The tuple literals a `return` hands back (both branches of `a if c else b`)."""
    if isinstance(node, ast.Tuple):
        return [node]
    if isinstance(node, ast.IfExp):
        return _elements(node.body) + _elements(node.orelse)
    return []


class _Sites(ast.NodeVisitor):
    """Collects (node, kind, description, apply) for one engine file.

    `apply(node)` is never stored: a site is identified by the position of its node, and
    `_mutate` re-finds it in a fresh parse, so every mutant starts from the real source.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.scalar = file.endswith("scalar.py")
        self.stack: list[str] = []
        self.found: list[tuple[str, str, str, int, int, tuple]] = []

    # the name of the operation a site belongs to
    def _op(self, literal: str | None = None) -> str:
        if literal:
            return literal
        for name in reversed(self.stack):
            if name not in {"vjp"}:
                return SYMBOLS.get(name, name)
        return "?"

    def _add(self, op: str, kind: str, text: str, node: ast.AST, key: tuple) -> None:
        self.found.append((op, kind, text, node.lineno, node.end_lineno or node.lineno, key))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    def _local_tuple(self, tup: ast.Tuple, op: str, where: str) -> None:
        elts = tup.elts
        for i, e in enumerate(elts):
            if _is_zero(e):
                continue  # -0 and 2*0 are the same rule: no mutant
            src = ast.unparse(e)
            self._add(op, "negated", f"{where} {i} `{src}` negated", e, ("neg", _pos(e)))
            self._add(op, "doubled", f"{where} {i} `{src}` doubled", e, ("dbl", _pos(e)))
        if len(elts) == 2 and ast.dump(elts[0]) != ast.dump(elts[1]):
            a, b = (ast.unparse(x) for x in elts)
            self._add(op, "swapped", f"{where}s `{a}` and `{b}` swapped", tup, ("swap", _pos(tup)))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if self.scalar and name == "_node" and len(node.args) == 4:
            label = node.args[3]
            op = self._op(label.value if isinstance(label, ast.Constant) else None)
            local = node.args[2]
            if isinstance(local, ast.Tuple):
                self._local_tuple(local, op, "local derivative")
            elif isinstance(local, ast.BinOp) and isinstance(local.left, ast.Tuple):
                self._local_tuple(local.left, op, "local derivative")  # (1.0,) * n
            elif (
                isinstance(local, ast.Call)
                and isinstance(local.func, ast.Name)
                and local.func.id == "tuple"
                and local.args
                and isinstance(local.args[0], ast.GeneratorExp)
            ):
                elt = local.args[0].elt
                src = ast.unparse(elt)
                self._add(
                    op, "negated", f"local derivatives `{src}` negated", elt, ("neg", _pos(elt))
                )
                self._add(
                    op, "doubled", f"local derivatives `{src}` doubled", elt, ("dbl", _pos(elt))
                )
        if not self.scalar and ("vjp" in self.stack or self.stack[-1:] == ["_neg_vjp"]):
            if name == "unbroadcast" and node.args:
                src = ast.unparse(node.args[0])
                self._add(
                    self._op(), "not unbroadcast",
                    f"`{ast.unparse(node)}` not summed back to the input's shape",
                    node, ("unb", _pos(node)),
                )  # fmt: skip
            if name == "swapaxes" and node.args:
                self._add(
                    self._op(), "transpose dropped",
                    f"`{ast.unparse(node)}` replaced by `{ast.unparse(node.args[0])}`",
                    node, ("swp", _pos(node)),
                )  # fmt: skip
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if not self.scalar and "vjp" in self.stack and node.attr == "T":
            self._add(
                self._op(), "transpose dropped",
                f"`{ast.unparse(node)}` replaced by `{ast.unparse(node.value)}`",
                node, ("dotT", _pos(node)),
            )  # fmt: skip
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        # The scalar engine's chain rule: `child.grad += local[i] * g`.
        target = node.target
        if (
            self.scalar
            and isinstance(node.op, ast.Add)
            and isinstance(target, ast.Attribute)
            and target.attr == "grad"
            and self.stack[-1:] == ["_propagate"]
        ):
            self._add(
                "backward", "accumulation",
                f"`{ast.unparse(node)}` turned into `=` (paths no longer summed)",
                node, ("aug", _pos(node)),
            )  # fmt: skip
        # Value.dot builds its local derivatives with `local += (xd, wd)`.
        if self.scalar and isinstance(node.value, ast.Tuple) and ast.unparse(target) == "local":
            self._local_tuple(node.value, "dot", "local derivative")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        # The tensor engine's chain rule: `grads[key] = grads[key] + pg`.
        value = node.value
        if (
            not self.scalar
            and self.stack[-1:] == ["backward"]
            and isinstance(value, ast.BinOp)
            and isinstance(value.op, ast.Add)
            and ast.unparse(value.left) == ast.unparse(node.targets[0])
            and ast.unparse(node.targets[0]).startswith("grads[")
        ):
            self._add(
                "backward", "accumulation",
                f"`{ast.unparse(node)}` turned into `= {ast.unparse(value.right)}` "
                f"(paths no longer summed)",
                node, ("acc", _pos(node)),
            )  # fmt: skip
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if (
            not self.scalar
            and node.value is not None
            and ("vjp" in self.stack or self.stack[-1:] == ["_neg_vjp"])
        ):
            tuples = _elements(node.value)
            for tup in tuples:
                self._local_tuple(tup, self._op(), "gradient")
            if not tuples:  # e.g. `return tuple(np.split(...))`
                src = ast.unparse(node.value)
                self._add(
                    self._op(),
                    "negated",
                    f"gradients `{src}` negated",
                    node,
                    ("negall", _pos(node)),
                )
        self.generic_visit(node)


def _pos(node: ast.AST) -> tuple[int, int, int, int]:
    return (node.lineno, node.col_offset, node.end_lineno or 0, node.end_col_offset or 0)


def find_mutants(root: Path) -> list[Mutant]:
    mutants: list[Mutant] = []
    for file in ENGINES:
        sites = _Sites(file)
        sites.visit(ast.parse((root / file).read_text("utf8")))
        for op, kind, text, line, end, key in sites.found:
            m = Mutant(file, op, kind, line, end, text)
            m.index = len(mutants)
            m._key = key  # type: ignore[attr-defined]
            mutants.append(m)
    return mutants


@functools.lru_cache(maxsize=4)
def _index(source: str) -> tuple[dict[tuple[int, int, int, int], list[ast.AST]], list[int]]:
    """The nodes of `source` by position, and the offset at which each line starts."""
    by_pos: dict[tuple[int, int, int, int], list[ast.AST]] = {}
    for n in ast.walk(ast.parse(source)):
        if hasattr(n, "lineno"):
            by_pos.setdefault(_pos(n), []).append(n)
    starts, total = [0, 0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return by_pos, starts


def mutated_source(source: str, mutant: Mutant) -> str:
    """`source` with the mutant's node rewritten in place: the text around it, comments
    and formatting included, stays exactly as it was."""
    how, pos = mutant._key  # type: ignore[attr-defined]
    by_pos, starts = _index(source)
    node = next((n for n in by_pos.get(pos, []) if _fits(how, n)), None)
    if node is None:
        raise RuntimeError(f"could not apply mutant {mutant.description!r} at line {mutant.line}")

    def offset(line: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets within the line.
        text = source[starts[line] : starts[line + 1] if line + 1 < len(starts) else None]
        return starts[line] + len(text.encode("utf8")[:col].decode("utf8"))

    def seg(n: ast.AST) -> str:
        return source[offset(n.lineno, n.col_offset) : offset(n.end_lineno, n.end_col_offset)]  # type: ignore[arg-type]

    if how in ("neg", "dbl"):
        op = "-_mut" if how == "neg" else "2.0 * _mut"
        new = f"(None if (_mut := ({seg(node)})) is None else {op})"
    elif how == "swap":
        a, b = node.elts  # type: ignore[attr-defined]
        new = f"({seg(b)}, {seg(a)})"
    elif how in ("unb", "swp"):
        new = f"({seg(node.args[0])})"  # type: ignore[attr-defined]
    elif how == "dotT":
        new = f"({seg(node.value)})"  # type: ignore[attr-defined]
    elif how == "aug":
        new = f"{seg(node.target)} = {seg(node.value)}"  # type: ignore[attr-defined]
    elif how == "acc":
        new = f"{seg(node.targets[0])} = {seg(node.value.right)}"  # type: ignore[attr-defined]
    elif how == "negall":
        new = f"return tuple(None if t is None else -t for t in ({seg(node.value)}))"  # type: ignore[attr-defined]
    else:
        raise ValueError(how)
    line, col, end_line, end_col = pos
    return source[: offset(line, col)] + new + source[offset(end_line, end_col) :]


def _fits(how: str, node: ast.AST) -> bool:
    kinds = {"swap": ast.Tuple, "unb": ast.Call, "swp": ast.Call, "dotT": ast.Attribute,
             "aug": ast.AugAssign, "acc": ast.Assign, "negall": ast.Return}  # fmt: skip
    return isinstance(node, kinds.get(how, ast.expr))


# ---------------------------------------------------------------------- running


def copy_tree(dest: Path) -> None:
    """The checkout as it is on disk (tracked and untracked, not ignored) into `dest`.

    Outside a git checkout (an exported tree), every file but the usual build and cache
    folders is copied."""
    proc = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True,
    )  # fmt: skip
    if proc.returncode == 0:
        listed = proc.stdout.decode().split("\0")
    else:
        skip = {".git", ".venv", "site", ".cache", ".pytest_cache", ".ruff_cache", ".hypothesis"}
        listed = [
            p.relative_to(ROOT).as_posix()
            for p in ROOT.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(ROOT).parts)
        ]
    for rel in filter(None, listed):
        src = ROOT / rel
        if not src.is_file() or rel.startswith("docs/assets/vendor"):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)  # the copy's backprop, not the checkout's
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["MPLBACKEND"] = "Agg"
    env.pop("CI", None)  # skips are not failures here: only failures count
    return env


def _pytest(
    tree: Path, args: list[str], timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=tree, env=_env(tree), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def coverage_map(tree: Path) -> dict[tuple[str, int], set[str]]:
    """Which docs test executes which line of each engine file."""
    proc = _pytest(
        tree,
        [DOCS, f"--ignore={EVIDENCE_PAGE}", "--cov=backprop", "--cov-context=test",
         "--cov-report=", "-x"],
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(
            "the unmutated guide does not pass, so mutants cannot be judged:\n"
            + proc.stdout[-4000:] + proc.stderr[-2000:]
        )  # fmt: skip
    import coverage

    data = coverage.CoverageData(basename=str(tree / ".coverage"))
    data.read()
    lines: dict[tuple[str, int], set[str]] = {}
    for measured in data.measured_files():
        try:
            rel = Path(measured).resolve().relative_to(tree.resolve()).as_posix()
        except ValueError:
            continue  # not the copy's engine
        if rel not in ENGINES:
            continue
        for line, contexts in data.contexts_by_lineno(measured).items():
            tests = {c.rsplit("|", 1)[0] for c in contexts if c}
            if tests:
                lines[(rel, line)] = tests
    return lines


_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+(?: \S+)*?)(?: - |$)", re.M)


# The pages that teach come first, so that the page reported as catching a mutant is the
# tutorial that teaches the rule whenever one of its blocks notices.
SECTIONS = ("docs/tutorial/", "docs/notebooks/", "docs/how-to/", "docs/explanation/")


def teaching_order(test: str) -> tuple[int, str]:
    """Sort key for a docs test id: tutorial, notebooks, how-to, explanation, then the rest."""
    rank = next((i for i, s in enumerate(SECTIONS) if test.startswith(s)), len(SECTIONS))
    return rank, test


def run_mutant(tree: Path, mutant: Mutant, tests: list[str]) -> None:
    path = tree / mutant.file
    original = path.read_text("utf8")
    start = time.perf_counter()
    try:
        path.write_text(mutated_source(original, mutant), "utf8")
        try:
            proc = _pytest(tree, ["-x", "-rfE", *tests])
            failed = proc.returncode != 0
            first = _FAILED.search(proc.stdout)
            caught_by = first.group(1) if first else (proc.stdout.strip().splitlines() or ["?"])[-1]
        except subprocess.TimeoutExpired:
            failed, caught_by = True, f"timed out after {TIMEOUT} s"
    finally:
        path.write_text(original, "utf8")
    mutant.seconds = round(time.perf_counter() - start, 1)
    mutant.tests_run = len(tests)
    mutant.status = "caught" if failed else "survived"
    mutant.caught_by = caught_by if failed else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=0, help="run only N mutants, spread evenly")
    parser.add_argument("--only", default="", help="run only mutants whose op or file matches")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    args = parser.parse_args(argv)

    mutants = find_mutants(ROOT)
    if args.only:
        mutants = [m for m in mutants if args.only in (m.op, m.file) or args.only in m.description]
    if args.sample and args.sample < len(mutants):
        step = len(mutants) / args.sample
        mutants = [mutants[int(i * step)] for i in range(args.sample)]
    if args.list:
        for m in mutants:
            print(f"{m.file}:{m.line} [{m.op}] {m.kind}: {m.description}")
        print(f"{len(mutants)} mutants")
        return 0

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="backprop-mutate-") as tmp:
        trees = [Path(tmp) / f"tree{i}" for i in range(max(1, args.jobs))]
        for tree in trees:
            copy_tree(tree)
        print(f"mutate: mapping which code blocks run which engine lines ({DOCS}/, under coverage)")
        lines = coverage_map(trees[0])
        print(f"mutate: {len(mutants)} mutants, {len(trees)} at a time")

        def work(item: tuple[int, Mutant]) -> Mutant:
            i, m = item
            tests = sorted(
                set().union(
                    *(lines.get((m.file, n), set()) for n in range(m.line, m.end_line + 1))
                ),
                key=teaching_order,
            )
            if not tests:
                m.status = "not exercised"
            else:
                run_mutant(trees[i % len(trees)], m, tests)
            print(f"  {m.status:>13}  {m.file.split('/')[-1]}:{m.line} [{m.op}] {m.description}"
                  + (f"  <- {m.caught_by}" if m.caught_by else ""), flush=True)  # fmt: skip
            return m

        # Each worker owns one tree: mutant i runs in tree i % jobs, so give each worker
        # the mutants of its own tree, one after another.
        lanes = [
            [(i, m) for i, m in enumerate(mutants) if i % len(trees) == k]
            for k in range(len(trees))
        ]
        with ThreadPoolExecutor(len(trees)) as pool:
            list(pool.map(lambda lane: [work(item) for item in lane], lanes))

    report = summarize(mutants, time.perf_counter() - started)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n", "utf8")
        print(f"mutate: report written to {args.json}")
    survivors = [m for m in mutants if m.status == "survived"]
    return 1 if survivors else 0


def summarize(mutants: list[Mutant], seconds: float) -> dict:
    counts: dict[str, int] = {}
    for m in mutants:
        counts[m.status] = counts.get(m.status, 0) + 1
    print()
    print(
        f"mutate: {len(mutants)} mutants in {seconds:.0f} s: "
        + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    )
    for m in mutants:
        if m.status == "survived":
            print(
                f"  SURVIVED {m.file}:{m.line} [{m.op}] {m.description} (ran {m.tests_run} blocks)"
            )
    return {
        "sources": list(ENGINES),
        "sources_sha256": sources_sha256(ROOT, ENGINES),
        "date": time.strftime("%Y-%m-%d"),
        "seconds": round(seconds),
        "counts": counts,
        "mutants": [{k: v for k, v in asdict(m).items() if k != "index"} for m in mutants],
    }


if __name__ == "__main__":
    sys.exit(main())
