"""The digits notebook (tutorial page 21): its promises, its links, and its accuracy.

`tests/test_notebooks.py` executes the notebook as the site build does, and the notebook
asserts its own test accuracy. Here we also run its code as a plain script, so the
accuracy and the other numbers can be asserted from outside, and retrain it on other
splits and seeds: the 95% must not hang on one lucky draw.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import jupytext
import numpy as np
import pytest
from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOK = DOCS / "notebooks" / "digits.py"


def _markdown_cells() -> list[str]:
    return [c.source for c in jupytext.read(NOTEBOOK).cells if c.cell_type == "markdown"]


def _prose(text: str) -> str:
    text = re.sub(r"^([ \t]*)```.*?^\1```", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def _headings(page: Path) -> set[str]:
    text = _prose(page.read_text("utf8"))
    return {slugify(h, "-") for h in re.findall(r"^#{1,6} (.+?)\s*$", text, re.M)}


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    """The notebook's code cells executed top to bottom as a script; its globals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace: dict[str, Any] = {"__name__": "digits_notebook"}
    cells = [c.source for c in jupytext.read(NOTEBOOK).cells if c.cell_type == "code"]
    source = "\n\n".join(cells)
    source = "\n".join(line for line in source.splitlines() if not line.startswith("%"))
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(compile(source, str(NOTEBOOK), "exec"), namespace)
    plt.close("all")
    namespace["__stdout__"] = out.getvalue()
    return namespace


def test_first_cell_says_what_we_build_and_the_prerequisites() -> None:
    first = _markdown_cells()[0]
    assert first.splitlines()[0] == "# Reading handwritten digits"
    assert "**Prerequisites:**" in first
    for page in (12, 13, 14, 15, 16, 17):
        assert re.search(rf"\(\.\./\.\./tutorial/{page}-[a-z-]+/\)", first), page
    assert "[download this notebook](digits.py)" in first


def test_it_ends_with_a_link_to_the_summary_page() -> None:
    last = _markdown_cells()[-1]
    assert "[the whole path](../../tutorial/19-the-whole-path/)" in last


def test_every_link_into_the_guide_exists() -> None:
    """mkdocs does not check links inside a notebook: check them here."""
    text = "\n".join(_markdown_cells())
    links = re.findall(r"\]\(((?:\.\./)+[a-z0-9/-]+?)/(?:#([a-z0-9-]+))?\)", text)
    assert links
    for target, anchor in links:
        page = (NOTEBOOK.parent / target.replace("../../", "../")).resolve().with_suffix(".md")
        assert page.exists(), target
        if anchor:
            assert anchor in _headings(page) or f"{{ #{anchor} }}" in page.read_text("utf8")


def test_british_spelling_in_prose() -> None:
    american = re.compile(
        r"\b(optimiz|minimiz|initializ|normaliz|standardiz|regulariz|visualiz|generaliz"
        r"|recogniz|behavior|colors?\b|center\b|labeled|modeling)",
        re.I,
    )
    assert not american.findall(_prose("\n".join(_markdown_cells())))


def test_the_data_split_and_scaling(run: dict[str, Any]) -> None:
    X, y = run["X"], run["y"]
    assert X.shape == (1797, 64)
    y_train, y_test = run["y_train"], run["y_test"]
    assert len(y_test) == 450 and len(y_train) == 1347
    # stratified: every digit has (within one image) a quarter of its images in the test set
    assert np.all(np.abs(np.bincount(y_test) - np.bincount(y) / 4) <= 1)
    # standardised with the training set's statistics only
    Z_train, Z_test = run["Z_train"], run["Z_test"]
    assert np.allclose(run["mean"], run["X_train"].mean(axis=0))
    assert np.allclose(Z_test, (run["X_test"] - run["mean"]) / run["std"])
    assert np.allclose(Z_train.mean(axis=0), 0)


def test_the_model_is_an_mlp_on_the_tensor_engine(run: dict[str, Any]) -> None:
    from backprop import Tensor
    from backprop.nn import Linear, ReLU, Sequential

    model = run["model"]
    assert isinstance(model, Sequential)
    first, act, last = model
    assert isinstance(first, Linear) and isinstance(act, ReLU) and isinstance(last, Linear)
    assert (first.in_features, last.out_features) == (64, 10)
    assert all(isinstance(p, Tensor) for p in model.parameters())
    # "uniform in [-1/8, 1/8] for 64 inputs": true of a fresh model
    fresh = run["make_model"](seed=0)
    assert np.abs(fresh[0].weight.data).max() <= 1 / 8


def test_the_test_accuracy_is_at_least_95_percent(run: dict[str, Any]) -> None:
    assert run["test_accuracy"] >= 0.95
    assert run["history"]["test accuracy"][-1] == run["test_accuracy"]
    printed = re.search(r"test accuracy: ([0-9.]+)%", run["__stdout__"])
    assert printed and abs(float(printed.group(1)) / 100 - run["test_accuracy"]) < 1e-3


@pytest.mark.parametrize("seed", [1, 2])
def test_the_accuracy_does_not_hang_on_one_lucky_draw(run: dict[str, Any], seed: int) -> None:
    """Another stratified split, another initialisation, another shuffle: still >= 95%."""
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(
        run["X"], run["y"], test_size=0.25, stratify=run["y"], random_state=seed
    )
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0
    train = run["train"]  # it reads the data from the notebook's globals: swap them
    saved = {k: train.__globals__[k] for k in ("Z_train", "Z_test", "y_train", "y_test")}
    try:
        train.__globals__.update(
            Z_train=(X_train - mean) / std,
            Z_test=(X_test - mean) / std,
            y_train=y_train,
            y_test=y_test,
        )
        history = train(run["make_model"](seed=seed), seed=seed)
    finally:
        train.__globals__.update(saved)
    assert history["test accuracy"][-1] >= 0.95


def test_pytorch_claims() -> None:
    """The notebook says Adam's default learning rate is PyTorch's too, and names the
    PyTorch pieces of the same loop."""
    import inspect

    torch = pytest.importorskip("torch")
    from backprop.optim import Adam

    assert inspect.signature(torch.optim.Adam).parameters["lr"].default == 1e-3
    assert inspect.signature(Adam).parameters["lr"].default == 1e-3
    assert callable(torch.nn.Linear) and callable(torch.nn.functional.cross_entropy)
