"""The drift detector (`tools/mutate.py`, run in full by `make mutate`) in small.

The full run breaks every derivative rule of both engines in turn and runs the guide's
code blocks against each broken engine. Here: every mutant can be built, the mutants
cover the kinds of breakage they promise, and one real mutant is caught by the page
that teaches its rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_mutant_builds_a_different_engine_that_still_compiles(mutate) -> None:
    mutants = mutate.find_mutants(ROOT)
    sources = {f: (ROOT / f).read_text("utf8") for f in mutate.ENGINES}
    for m in mutants:
        broken = mutate.mutated_source(sources[m.file], m)
        assert broken != sources[m.file], m.description
        compile(broken, m.file, "exec")


def test_the_mutants_cover_every_kind_of_breakage_in_both_engines(mutate) -> None:
    mutants = mutate.find_mutants(ROOT)
    kinds = {(m.file, m.kind) for m in mutants}
    scalar, tensor = mutate.ENGINES
    for kind in ("negated", "doubled", "swapped", "accumulation"):
        assert (scalar, kind) in kinds, kind
    for kind in (
        "negated",
        "doubled",
        "swapped",
        "not unbroadcast",
        "transpose dropped",
        "accumulation",
    ):
        assert (tensor, kind) in kinds, kind
    ops = {m.op for m in mutants if m.file == scalar}
    assert {"+", "*", "/", "**", "exp", "log", "tanh", "sigmoid", "relu", "dot", "sum"} <= ops
    ops = {m.op for m in mutants if m.file == tensor}
    assert {"+", "*", "@", "sum", "mean", "amax/amin", "softmax", "linear", "cross_entropy"} <= ops


@pytest.mark.slow
def test_a_swapped_product_rule_is_caught_by_the_chain_rule_page(mutate, tmp_path) -> None:
    """d(a*b)/da = b and d(a*b)/db = a swapped: page 6 computes those gradients by hand."""
    mutant = next(
        m for m in mutate.find_mutants(ROOT) if m.op == "*" and m.kind == "swapped"
        and m.file.endswith("scalar.py")
    )  # fmt: skip
    mutate.copy_tree(tmp_path)
    mutate.run_mutant(tmp_path, mutant, ["docs/tutorial/06-chain-rule.md"])
    assert mutant.status == "caught", mutant
    assert "06-chain-rule.md" in mutant.caught_by
    # The copy is restored after the run: the engine there is the real one again.
    assert (tmp_path / mutant.file).read_text("utf8") == (ROOT / mutant.file).read_text("utf8")


def test_the_pages_that_teach_are_tried_first(mutate) -> None:
    tests = [
        "docs/reference/ops.md::[CodeFence#5][line:138]",
        "docs/explanation/museum-of-bugs.md::[CodeFence#2][line:76]",
        "docs/tutorial/15-broadcasting-and-reductions.md::[CodeFence#10][line:226]",
        "docs/how-to/check-a-gradient.md::[CodeFence#1][line:20]",
        "docs/tutorial/06-chain-rule.md::[CodeFence#3][line:40]",
    ]
    assert [t.split("/")[1] for t in sorted(tests, key=mutate.teaching_order)] == [
        "tutorial",
        "tutorial",
        "how-to",
        "explanation",
        "reference",
    ]
