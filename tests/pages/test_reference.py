"""The reference pages stay complete as the package grows.

- The API page documents every public name of every module (its `__all__`).
- The operations page fails to build when an engine gains an operation it does not list.
- Every link on the notation and operations pages points at a page and an anchor that
  exist.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import io
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from docs_harness import scan_fences
from page_links import anchors, check_links

import backprop
import backprop.catalogue as catalogue

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
REFERENCE = DOCS / "reference"

# The modules whose names the API page must document.
MODULES = [
    "backprop.scalar",
    "backprop.tensor",
    "backprop.gradcheck",
    "backprop.draw",
    "backprop.stepper",
    "backprop.nn",
    "backprop.optim",
    "backprop.losses",
    "backprop.datasets",
    "backprop.figures",
    "backprop.catalogue",
]


# ----------------------------------------------------------------------------- API page


def _api_blocks() -> dict[str, list[str] | None]:
    """Each `::: module` block of the API page and its `members:` list (None if absent)."""
    text = (REFERENCE / "api.md").read_text("utf8")
    blocks: dict[str, list[str] | None] = {}
    for match in re.finditer(r"^::: (\S+)\n((?:[ \t]+.*\n?)*)", text, re.M):
        options = yaml.safe_load(match.group(2)) if match.group(2).strip() else None
        members = (options or {}).get("options", {}).get("members")
        blocks[match.group(1)] = members
    return blocks


def _public_names(module: ModuleType) -> set[str]:
    """`__all__`, or, for a module without one, the functions and classes it defines."""
    if hasattr(module, "__all__"):
        return set(module.__all__)
    return {
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    }


@pytest.mark.parametrize("name", MODULES)
def test_the_api_page_documents_every_public_name_of_each_module(name: str) -> None:
    # importlib, not `import backprop.gradcheck as m`: the package's own
    # `gradcheck` and `draw` functions shadow those submodules as attributes.
    module = importlib.import_module(name)
    blocks = _api_blocks()
    assert name in blocks, f"the API page has no `::: {name}` block"
    members = blocks[name]
    assert members is not None, f"`::: {name}` needs a `members:` list to compare with"
    assert len(members) == len(set(members)), f"`::: {name}` lists a member twice"
    assert set(members) == _public_names(module), (
        f"{name}: only on the page {set(members) - _public_names(module)}, "
        f"only in the module {_public_names(module) - set(members)}"
    )


def test_every_module_that_exports_names_is_checked() -> None:
    package = Path(backprop.__file__).parent
    modules = {f"backprop.{p.stem}" for p in package.glob("*.py") if not p.stem.startswith("_")}
    assert modules == set(MODULES)
    assert set(_api_blocks()) == set(MODULES), "the API page has a block for another module"


def test_every_name_of_the_package_itself_is_on_the_api_page() -> None:
    blocks = _api_blocks()
    for name in backprop.__all__:
        obj = getattr(backprop, name)
        if inspect.ismodule(obj):
            assert obj.__name__ in blocks, f"backprop.{name}: no `::: {obj.__name__}` block"
            continue
        homes = [
            module
            for module, members in blocks.items()
            if name in (members or []) and getattr(importlib.import_module(module), name) is obj
        ]
        assert homes, f"backprop.{name} is documented in no block of the API page"


def test_the_api_page_spells_its_prose_british() -> None:
    text = (REFERENCE / "api.md").read_text("utf8")
    headings = re.findall(r"^#+ .*", text, re.M)
    assert "## Optimisers: `backprop.optim`" in headings
    assert not any(re.search(r"optimiz|initializ|normaliz", h, re.I) for h in headings)


# ----------------------------------------------------------------------------- operations


def _session(page: Path, session: str) -> str:
    """The source of the markdown-exec blocks of one session, joined in page order."""
    fences = [f for f in scan_fences(page.read_text("utf8")) if f'session="{session}"' in f.info]
    assert fences, f"no session {session!r} on {page.name}"
    return "\n".join(f.content for f in fences)


def _run(source: str) -> str:
    """Run a page's code as a module of its own (dataclasses look their module up) and
    return what it prints."""
    module = ModuleType("ops_page")
    out = io.StringIO()
    sys.modules[module.__name__] = module
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, "<ops.md>", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return out.getvalue()


def test_the_tensor_table_fails_when_tensor_gains_an_operation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = _session(REFERENCE / "ops.md", "ops-tensor")
    monkeypatch.setattr(backprop.Tensor, "cube", lambda self: self**3, raising=False)
    with pytest.raises(AssertionError, match=re.escape("engine only: {'cube'}")):
        _run(source)


def test_the_tensor_table_fails_when_tensor_gains_an_operator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = _session(REFERENCE / "ops.md", "ops-tensor")
    monkeypatch.setattr(backprop.Tensor, "__floordiv__", lambda self, o: self, raising=False)
    with pytest.raises(AssertionError, match="__floordiv__"):
        _run(source)


def test_the_tensor_table_fails_when_the_module_gains_a_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = _session(REFERENCE / "ops.md", "ops-tensor")

    def hardtanh(a: object) -> None:
        """A new operation nobody put in the table."""

    hardtanh.__module__ = "backprop.tensor"
    monkeypatch.setattr(backprop.tensor, "hardtanh", hardtanh, raising=False)
    monkeypatch.setattr(backprop.tensor, "__all__", [*backprop.tensor.__all__, "hardtanh"])
    with pytest.raises(AssertionError, match="hardtanh"):
        _run(source)


def test_the_tensor_table_fails_when_a_vjp_formula_is_wrong(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = _session(REFERENCE / "ops.md", "ops-tensor")
    # Flip the sign of softmax's stated VJP: the check against backward(G) must notice.
    ops = list(catalogue.TENSOR_OPS)
    i = next(i for i, op in enumerate(ops) if op.name == "softmax")
    right = ops[i].grads
    ops[i] = dataclasses.replace(ops[i], grads=lambda g, a: tuple(-x for x in right(g, a)))
    monkeypatch.setattr(catalogue, "TENSOR_OPS", ops)
    with pytest.raises(AssertionError, match="softmax"):
        _run(source)


def test_the_tensor_table_prints_one_row_per_operation() -> None:
    output = _run(_session(REFERENCE / "ops.md", "ops-tensor"))
    rows = [line for line in output.splitlines() if line.startswith("| `")]
    count = re.search(r"^(\d+) rows \(\d+ of them [^)]*\), (\d+) Jacobian entries", output, re.M)
    assert count and int(count.group(1)) == len(rows) >= 30


def test_the_scalar_table_fails_when_value_gains_an_operation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = _session(REFERENCE / "ops.md", "ops-table")
    monkeypatch.setattr(backprop.Value, "cube", lambda self: self**3, raising=False)
    with pytest.raises(AssertionError, match=re.escape("engine only: {'cube'}")):
        _run(source)


# ----------------------------------------------------------------------------- links


def test_every_link_on_the_notation_page_has_its_page_and_anchor() -> None:
    page = REFERENCE / "notation.md"
    assert check_links(page) >= 30
    introduced = re.findall(r"\]\(\.\./tutorial/[^)#]+#[^)]+\)", page.read_text("utf8"))
    assert len(introduced) >= 25, "each symbol says where it is introduced"


def test_every_link_on_the_operations_page_has_its_page_and_anchor() -> None:
    assert check_links(REFERENCE / "ops.md") >= 5


def test_the_anchor_finder_agrees_with_known_headings() -> None:
    ids = anchors(REFERENCE / "ops.md")
    assert {"scalar-operations-value", "tensor-operations-tensor"} <= ids
    assert "activation-function" in anchors(REFERENCE / "glossary.md")
