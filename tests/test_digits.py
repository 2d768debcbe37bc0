"""The digits notebook (tutorial page 21): its promises, its links, and its accuracy.

`tests/test_notebooks.py` executes the notebook as the site build does, and the notebook
asserts its own test accuracy. Here we also run its code as a plain script, so the
accuracy and the other numbers can be asserted from outside; check that every choice is
made on the validation set and the test set is looked at once, after them; and retrain
it on other splits and seeds: the 95% must not hang on one lucky draw.
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


def _code_cells() -> list[str]:
    return [c.source for c in jupytext.read(NOTEBOOK).cells if c.cell_type == "code"]


def test_first_cell_says_what_we_build_and_the_prerequisites() -> None:
    first = _markdown_cells()[0]
    assert first.splitlines()[0] == "# Reading handwritten digits"
    assert "**Prerequisites:**" in first
    for page in (13, 14, 15, 16, 17, 18, 20):
        assert re.search(rf"\(\.\./\.\./tutorial/{page}-[a-z-]+/\)", first), page
    assert "[download this notebook](digits.py)" in first


def test_it_ends_with_links_to_the_next_pages() -> None:
    last = _markdown_cells()[-1]
    assert "](../../tutorial/22-digits-in-pytorch/)" in last
    assert "](../../tutorial/23-the-whole-path/)" in last


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


def test_standardising_links_to_the_narrow_bowl() -> None:
    text = "\n".join(_markdown_cells())
    assert "](../../tutorial/08-gradient-descent/#two-parameters-a-loss-surface)" in text


def test_british_spelling_in_prose() -> None:
    american = re.compile(
        r"\b(optimiz|minimiz|initializ|normaliz|standardiz|regulariz|visualiz|generaliz"
        r"|recogniz|behavior|colors?\b|center\b|labeled|modeling)",
        re.I,
    )
    assert not american.findall(_prose("\n".join(_markdown_cells())))


def test_the_exercises_have_collapsible_solutions_checked_by_code() -> None:
    cells = jupytext.read(NOTEBOOK).cells
    exercises = [i for i, c in enumerate(cells) if "### Exercise" in c.source]
    assert len(exercises) >= 2
    for i in exercises:
        assert cells[i].cell_type == "markdown"
        assert re.search(r"<details[^>]*>\s*<summary>Solution</summary>", cells[i].source)
        assert cells[i].source.count("<details") == cells[i].source.count("</details>")
        assert cells[i + 1].cell_type == "code" and "assert" in cells[i + 1].source


def test_the_exercises_claims(run: dict[str, Any]) -> None:
    """Exercise 1: the first loss is about ln 10; Exercise 2: the hand-derived gradient."""
    assert abs(run["first_loss"] - np.log(10)) < 0.1
    last = run["last"]
    assert np.allclose(run["dW"], last.weight.grad, rtol=1e-12, atol=1e-15)


def test_the_data_split_and_scaling(run: dict[str, Any]) -> None:
    X, y = run["X"], run["y"]
    assert X.shape == (1797, 64)
    y_train, y_val, y_test = run["y_train"], run["y_val"], run["y_test"]
    assert (len(y_train), len(y_val), len(y_test)) == (1077, 270, 450)
    # stratified: every digit has (within one image) a quarter of its images in the test set
    assert np.all(np.abs(np.bincount(y_test) - np.bincount(y) / 4) <= 1)
    assert np.all(np.abs(np.bincount(y_val) - np.bincount(y) * 0.15) <= 2)
    # three disjoint sets that together are the data: no image in two of them
    rows = {
        name: {
            r.tobytes() + bytes([label]) for r, label in zip(run[f"X_{name}"], labels, strict=True)
        }
        for name, labels in (("train", y_train), ("val", y_val), ("test", y_test))
    }
    assert not (rows["train"] & rows["val"]) and not (rows["train"] & rows["test"])
    assert not (rows["val"] & rows["test"])
    # standardised with the training set's statistics only
    assert np.allclose(run["mean"], run["X_train"].mean(axis=0))
    for name in ("val", "test"):
        assert np.allclose(run[f"Z_{name}"], (run[f"X_{name}"] - run["mean"]) / run["std"])
    assert np.allclose(run["Z_train"].mean(axis=0), 0)


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


def test_every_choice_is_made_on_the_validation_set(run: dict[str, Any]) -> None:
    runs, chosen = run["runs"], run["chosen_lr"]
    assert len(runs) >= 3  # a real choice of learning rate
    best = {lr: min(h["validation loss"]) for lr, (_, h) in runs.items()}
    assert chosen == min(best, key=best.get)
    model, history = runs[chosen]
    assert model is run["model"]
    epoch = history["best epoch"]
    assert history["validation loss"][epoch - 1] == best[chosen]  # early stopping, on validation
    loss, _ = run["evaluate"](model, run["Z_val"], run["y_val"])
    assert np.isclose(loss, best[chosen], rtol=1e-12)  # the model holds that epoch's weights
    assert chosen == 1e-2  # page 22 (22-digits-in-pytorch.md) starts from the rate chosen here
    assert set(history) == {
        "train loss",
        "train accuracy",
        "validation loss",
        "validation accuracy",
        "best epoch",
    }  # no test curve


def test_the_test_set_is_looked_at_once_after_every_choice() -> None:
    """The test images reach a model in one line, after the training cell; before it, they
    appear only where they are split off and standardised."""
    cells = _code_cells()
    looks = [
        (i, line)
        for i, cell in enumerate(cells)
        for line in cell.splitlines()
        if re.search(r"\w\(Z_test\b|\(\s*Z_test\s*,|X_test\[", line) and "imshow" not in line
    ]
    assert len(looks) == 1, looks
    look, _ = looks[0]
    training = next(i for i, cell in enumerate(cells) if "choose_and_train(data)" in cell)
    assert training < look
    allowed = re.compile(r"train_test_split|^\s*X, y, |^Z_test = \(X_test - mean\) / std|sizes = ")
    for cell in cells[:look]:
        for line in cell.splitlines():
            if re.search(r"\b[XZy]_test\b", line):
                assert allowed.search(line) or re.match(r"for part, share in", line), line


def test_the_test_accuracy_is_at_least_95_percent(run: dict[str, Any]) -> None:
    assert run["test_accuracy"] >= 0.95
    assert np.isclose(run["test_accuracy"], (run["predicted"] == run["y_test"]).mean())
    printed = re.search(r"test accuracy: ([0-9.]+)%", run["__stdout__"])
    assert printed and abs(float(printed.group(1)) / 100 - run["test_accuracy"]) < 1e-3


@pytest.mark.parametrize("seed", [1, 2])
def test_the_accuracy_does_not_hang_on_one_lucky_draw(run: dict[str, Any], seed: int) -> None:
    """Other stratified splits, another initialisation, another shuffle, the same choices
    made on validation: still >= 95% on the test set."""
    from sklearn.model_selection import train_test_split

    from backprop import no_grad

    X_rest, X_test, y_rest, y_test = train_test_split(
        run["X"], run["y"], test_size=0.25, stratify=run["y"], random_state=seed
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=0.2, stratify=y_rest, random_state=seed
    )
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0
    data = {"train": ((X_train - mean) / std, y_train), "validation": ((X_val - mean) / std, y_val)}
    chosen, runs = run["choose_and_train"](data, seed=seed)
    with no_grad():
        predicted = runs[chosen][0]((X_test - mean) / std).data.argmax(axis=1)
    assert (predicted == y_test).mean() >= 0.95


def test_pytorch_claims() -> None:
    """The notebook says Adam's default learning rate is PyTorch's too."""
    import inspect

    torch = pytest.importorskip("torch")
    from backprop.optim import Adam

    assert inspect.signature(torch.optim.Adam).parameters["lr"].default == 1e-3
    assert inspect.signature(Adam).parameters["lr"].default == 1e-3
