"""The committed reports behind "How we know it's right" are current, complete and clean.

`tools/results/verification.json` (`make evidence`) and `tools/results/mutation.json`
(`make mutate`) each store the sources they describe and a SHA-256 of them. These tests
fail when the engine (or another listed source) changed after the report was written,
when a report leaves an operation, a bad input or a broken rule unverified, and, on a
sample of the broken rules, when the page that caught one no longer does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from backprop.catalogue import SCALAR_OPS, TENSOR_OPS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))

from reports import ENGINE_SOURCES, is_current, load, sources_sha256  # noqa: E402

REMAKE = {"verification.json": "make evidence", "mutation.json": "make mutate"}


@pytest.mark.parametrize("name", sorted(REMAKE))
def test_the_report_describes_the_sources_as_they_are_now(name: str) -> None:
    report = load(name)
    assert set(ENGINE_SOURCES) <= set(report["sources"]), f"{name} does not cover the engines"
    assert is_current(report), (
        f"tools/results/{name} is older than {', '.join(report['sources'])}: "
        f"run `{REMAKE[name]}` and commit the new report"
    )


def test_the_hash_notices_a_change_of_one_byte(tmp_path: Path) -> None:
    for file in ENGINE_SOURCES:
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file).write_bytes((ROOT / file).read_bytes())
    report = {"sources": list(ENGINE_SOURCES), "sources_sha256": sources_sha256(tmp_path)}
    assert is_current(report, tmp_path)
    engine = tmp_path / ENGINE_SOURCES[0]
    engine.write_bytes(engine.read_bytes().replace(b"+=", b"= ", 1))
    assert not is_current(report, tmp_path)


def test_the_verification_report_checked_every_operation_three_ways() -> None:
    tests = load("verification.json")["tests"]
    assert set(tests.values()) == {"passed"}
    prefix = "tests/test_coverage.py::"
    for op in SCALAR_OPS:
        for i in range(len(op.points)):
            p = f"{op.id}-{i}"
            assert tests[f"{prefix}test_scalar_op_against_pytorch[{p}]"] == "passed"
            name = f"{prefix}test_scalar_op_against_its_formulas_and_finite_differences[{p}]"
            assert tests[name] == "passed"
    for op in TENSOR_OPS:
        p = op.id
        assert tests[f"{prefix}test_tensor_op_against_pytorch[{p}]"] == "passed"
        name = f"{prefix}test_tensor_op_against_its_formulas_and_finite_differences[{p}]"
        assert tests[name] == "passed"


def test_the_verification_report_ran_a_thousand_random_graphs_per_engine() -> None:
    graphs = load("verification.json")["random_graphs"]
    for engine in ("scalar", "tensor"):
        assert graphs[engine]["passing"] >= 1000 and graphs[engine]["failing"] == 0


def test_the_verification_report_holds_the_whole_bad_input_catalogue() -> None:
    from test_bad_inputs import CATALOGUE

    rows = load("verification.json")["bad_inputs"]
    assert [(r["module"], r["what"], r["error"], r["match"]) for r in rows] == [
        (c.module, c.what, c.error.__name__, c.match) for c in CATALOGUE
    ]
    assert len(rows) >= 40


def test_the_mutation_report_is_the_full_run_and_no_mutant_survived(mutate) -> None:
    report = load("mutation.json")
    found = [(m.file, m.line, m.description) for m in mutate.find_mutants(ROOT)]
    recorded = [(m["file"], m["line"], m["description"]) for m in report["mutants"]]
    assert recorded == found, "mutation.json is not a full run of today's mutants: make mutate"
    statuses = {m["status"] for m in report["mutants"]}
    assert "survived" not in statuses, [m for m in report["mutants"] if m["status"] == "survived"]
    assert statuses <= {"caught", "not exercised"}
    for m in report["mutants"]:
        if m["status"] == "caught":
            assert m["caught_by"].startswith("docs/"), m  # caught by the guide, not the suite


def _sample(report: dict) -> list[dict]:
    """One caught mutant of each kind of breakage: the one whose page caught it fastest."""
    fastest: dict[str, dict] = {}
    for m in report["mutants"]:
        if (
            m["status"] == "caught"
            and m["seconds"] < fastest.get(m["kind"], {"seconds": 1e9})["seconds"]
        ):
            fastest[m["kind"]] = m
    return [fastest[kind] for kind in sorted(fastest)]


SAMPLE = _sample(load("mutation.json"))


@pytest.mark.parametrize(
    "recorded", SAMPLE, ids=[f"{m['file'].split('/')[-1]}:{m['line']}-{m['kind']}" for m in SAMPLE]
)
def test_the_page_that_caught_a_broken_rule_still_catches_it(mutate, recorded, tmp_path) -> None:
    """A sample of the full run, in make test: the page that caught each mutant, alone.

    The full run takes too long for every `make test`; this sample keeps each kind of
    breakage honest in between, and `make mutate` redoes them all."""
    mutant = next(
        m
        for m in mutate.find_mutants(ROOT)
        if (m.file, m.line, m.description)
        == (recorded["file"], recorded["line"], recorded["description"])
    )
    page = recorded["caught_by"].split("::")[0]
    mutate.copy_tree(tmp_path)
    mutate.run_mutant(tmp_path, mutant, [page])
    assert mutant.status == "caught", f"{page} no longer notices: {mutant.description}"


def test_the_evidence_page_is_in_the_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text("utf8").split("\nnav:\n", 1)[1]
    nav = yaml.safe_load("nav:\n" + config)["nav"]
    explanation = next(item["Explanation"] for item in nav if "Explanation" in item)
    assert {"How we know it's right": "explanation/how-we-know.md"} in explanation
