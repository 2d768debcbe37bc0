"""The how-to guides: where the nav puts them, what the training recipe covers, and what
the debugging guide says about dead ReLUs."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


DOCS = ROOT / "docs"


TRAIN = DOCS / "how-to" / "train-on-your-data.md"


def test_a_dead_relu_unit_still_moves_under_weight_decay_and_momentum() -> None:
    """The debugging guide: a unit that is off for the whole batch gets no gradient, so
    plain SGD never moves it, but weight decay and momentum (from earlier steps) still do."""
    import numpy as np

    from backprop import Tensor
    from backprop.optim import SGD

    def dead_unit_after(**options: float) -> np.ndarray:
        w = Tensor(np.array([[-1.0, -2.0]]), requires_grad=True)  # off for positive inputs
        x = Tensor(np.array([[1.0, 0.5], [2.0, 1.0]]))
        opt = SGD([w], lr=0.1, **options)
        if options.get("momentum"):
            w.grad = np.array([[0.3, -0.2]])  # a velocity left over from earlier steps
            opt.step()
        for _ in range(3):
            opt.zero_grad()
            (x @ w.T).relu().sum().backward()
            assert not np.any(w.grad)  # dead: no gradient at all
            opt.step()
        return w.data.copy()

    assert np.array_equal(dead_unit_after(), [[-1.0, -2.0]])
    assert not np.array_equal(dead_unit_after(weight_decay=0.1), [[-1.0, -2.0]])
    assert not np.array_equal(dead_unit_after(momentum=0.9), [[-1.0, -2.0]])


def test_the_how_to_pages_are_in_the_nav_under_accurate_labels() -> None:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)  # !ENV, !!python
    nav = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader)["nav"]
    sections = {next(iter(item)): item[next(iter(item))] for item in nav if isinstance(item, dict)}
    howto = {k: v for entry in sections["How-to guides"] if isinstance(entry, dict)
             for k, v in entry.items()}  # fmt: skip
    assert howto["Train on your own data"] == "how-to/train-on-your-data.md"
    assert howto["Train an MLP on the moons (notebook)"] == "notebooks/train-moons.py"
    assert "Train a network on your data" not in howto
    explanation = {k: v for entry in sections["Explanation"] if isinstance(entry, dict)
                   for k, v in entry.items()}  # fmt: skip
    assert explanation["Why a naive engine is slow"] == "explanation/why-naive-is-slow.md"
    index = (DOCS / "explanation" / "index.md").read_text()
    assert "(why-naive-is-slow.md)" in index
    assert "(train-on-your-data.md)" in (DOCS / "how-to" / "index.md").read_text()


def test_the_training_how_to_covers_its_recipe() -> None:
    text = TRAIN.read_text()
    for needle in (
        "np.loadtxt",
        "np.genfromtxt",
        "np.load(",
        "default_rng(0)",
        "X[train].mean(axis=0)",
        "def batches(",
        "cross_entropy(",
        "Adam(",
        "gradcheck(",
        "math.log(n_classes)",
        "np.bincount(y_train).argmax()",
        "mse(",
    ):
        assert needle in text, needle
    assert "tempfile" in text  # the CSV is written at build time, not shipped
