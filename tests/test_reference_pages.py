"""The reference pages stay complete as the package grows.

- The API page documents every public name of every module (its `__all__`).
- The operations page fails to build when an engine gains an operation it does not list.
- Every link on the notation page (and on the last tutorial page) points at a page and an
  anchor that exist.
- The last tutorial page sums up every page of the path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import io
import os
import re
import sys
from pathlib import Path
from types import ModuleType

import markdown
import pytest
import yaml
from docs_harness import scan_fences

import backprop
import backprop.catalogue as catalogue

ROOT = Path(__file__).resolve().parents[1]
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


def _anchors(page: Path) -> set[str]:
    """The ids of a page's headings and `{ #id }` attributes, as MkDocs makes them."""
    md = markdown.Markdown(
        extensions=[
            "toc",
            "attr_list",
            "def_list",
            "admonition",
            "tables",
            "md_in_html",
            "pymdownx.details",
            "pymdownx.superfences",
            "pymdownx.arithmatex",
        ],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )
    html = md.convert(_without_code(page.read_text("utf8")))
    return set(re.findall(r'\bid="([^"]+)"', html))


def _without_code(text: str) -> str:
    """The page with every fenced block blanked out (a `# comment` is no heading)."""
    lines = text.splitlines()
    for fence in scan_fences(text):
        for i in range(fence.opener_line, fence.closer_line + 1):
            lines[i] = ""
    return "\n".join(lines)


def _links(page: Path) -> list[tuple[str, str]]:
    """Every relative Markdown link `[text](target#anchor)` on a page, outside code."""
    prose = re.sub(r"`[^`\n]*`", "", _without_code(page.read_text("utf8")))
    links = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        links.append((path, anchor))
    return links


def _check_links(page: Path) -> int:
    checked = 0
    for path, anchor in _links(page):
        target = (page.parent / path).resolve() if path else page
        assert target.is_file(), f"{page.name}: no page {path}"
        if anchor and target.suffix == ".md":
            assert anchor in _anchors(target), f"{page.name}: no anchor #{anchor} in {path}"
        checked += 1
    return checked


def test_every_link_on_the_notation_page_has_its_page_and_anchor() -> None:
    page = REFERENCE / "notation.md"
    assert _check_links(page) >= 30
    introduced = re.findall(r"\]\(\.\./tutorial/[^)#]+#[^)]+\)", page.read_text("utf8"))
    assert len(introduced) >= 25, "each symbol says where it is introduced"


def test_every_link_on_the_operations_page_has_its_page_and_anchor() -> None:
    assert _check_links(REFERENCE / "ops.md") >= 5


def test_the_anchor_finder_agrees_with_known_headings() -> None:
    ids = _anchors(REFERENCE / "ops.md")
    assert {"scalar-operations-value", "tensor-operations-tensor"} <= ids
    assert "activation-function" in _anchors(REFERENCE / "glossary.md")


# ----------------------------------------------------------------------------- page 23


def _nav_pages() -> list[str]:
    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml uses !ENV and !!python/name tags: read them as plain values here.
    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    nav = yaml.load((ROOT / "mkdocs.yml").read_text("utf8"), Loader=Loader)["nav"]
    tutorial = next(
        item["Tutorial"] for item in nav if isinstance(item, dict) and "Tutorial" in item
    )
    return [next(iter(item.values())) for item in tutorial if isinstance(item, dict)]


LAST_PAGE = DOCS / "tutorial" / "23-the-whole-path.md"


def test_the_last_page_sums_up_every_page_before_it_in_order() -> None:
    pages = _nav_pages()
    assert pages[-1] == "tutorial/23-the-whole-path.md"
    text = LAST_PAGE.read_text("utf8")
    table = text.split("## What each page does", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| [")]
    linked = [re.search(r"\]\(([^)]+)\)", row).group(1) for row in rows]
    expected = [str(Path(os.path.relpath(DOCS / p, LAST_PAGE.parent))) for p in pages[:-1]]
    assert linked == expected, "one row per page of the path, in the nav's order"
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 3 and all(cells), f"a row needs a page, an idea and a rule: {row}"


def test_the_last_page_points_on_to_pytorch_jax_and_micrograd() -> None:
    text = LAST_PAGE.read_text("utf8")
    where = text.split("## Where to go next", 1)[1].split("\n## ", 1)[0]
    assert "../explanation/backprop-to-pytorch.md" in where
    for name in ["PyTorch", "JAX", "micrograd", "Further reading"]:
        assert name in where


def test_every_link_on_the_last_page_has_its_page_and_anchor() -> None:
    assert _check_links(LAST_PAGE) >= 25


def test_the_last_pages_pytorch_namesakes_exist_and_agree_with_ours() -> None:
    """Page 23: `torch.nn.Linear`, `Tanh`, `Sequential` and `torch.optim.Adam` are the
    namesakes of the modules and optimiser of its program, with `zero_grad()` and `step()`."""
    torch = pytest.importorskip("torch")
    import numpy as np

    from backprop.nn import Linear, Sequential, Tanh
    from backprop.optim import Adam
    from backprop.tensor import cross_entropy

    rng = np.random.default_rng(0)
    ours = Sequential(Linear(2, 4, seed=rng), Tanh(), Linear(4, 3, seed=rng))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    theirs = theirs.double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
            assert tuple(q.shape) == p.shape  # weights (out, in) in both
            q.copy_(torch.from_numpy(p.data))
    X, labels = rng.normal(size=(5, 2)), np.array([0, 2, 1, 1, 0])
    adam_ours = Adam(ours.parameters(), lr=0.1)
    adam_theirs = torch.optim.Adam(theirs.parameters(), lr=0.1)
    for _ in range(3):
        adam_ours.zero_grad()
        adam_theirs.zero_grad()
        cross_entropy(ours(X), labels).backward()
        torch.nn.functional.cross_entropy(
            theirs(torch.from_numpy(X)), torch.from_numpy(labels)
        ).backward()
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
            assert np.allclose(p.grad, q.grad.numpy(), rtol=1e-10, atol=1e-12)
        adam_ours.step()
        adam_theirs.step()
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert np.allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)
