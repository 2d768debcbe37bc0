"""Claims of tutorial page 12 (Loss functions), checked more widely than its own code.

- The gradients it derives: (2/B)(y_hat - y) for the mean squared error, -t/B or 0 for the
  hinge, (p - y)/B for both cross-entropies, on random batches and scaled upstream.
- Binary cross-entropy is convex in the logit for both labels; the squared error of a
  sigmoid is not (its curvature is negative past -ln 2). So logistic regression with
  cross-entropy is convex in its weights, and with the squared error it is not.
- Maximum likelihood: both cross-entropies are the mean negative log-likelihood of the
  labels, and the normal negative log-likelihood is the mean squared error scaled, plus a
  constant.
- PyTorch's losses take logits and give the same numbers and gradients; handing them
  probabilities runs without an error but gives another loss.
- The page links to the sections it cites and to the next page, and every anchor other
  pages link to exists.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop import Value
from backprop.losses import binary_cross_entropy_with_logits, hinge, mse, softmax_cross_entropy

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "tutorial"
PAGE = TUTORIAL / "12-loss-functions.md"

UPSTREAM = 0.7  # backward() from 0.7 * loss: every gradient scales by 0.7


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# --- the gradients ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_derived_gradients_on_random_batches(seed: int) -> None:
    rng = np.random.default_rng(seed)
    B = 7
    outputs = [Value(float(v)) for v in rng.normal(size=B) * 3]
    targets = rng.normal(size=B).tolist()
    (UPSTREAM * mse(outputs, targets)).backward()
    for o, y in zip(outputs, targets, strict=True):
        assert math.isclose(o.grad, UPSTREAM * 2 / B * (o.data - y), rel_tol=1e-12)

    signs = rng.choice([-1, 1], size=B).tolist()
    scores = [Value(float(v)) for v in rng.normal(size=B) * 2]
    (UPSTREAM * hinge(scores, signs)).backward()
    for s, t in zip(scores, signs, strict=True):
        assert s.grad == pytest.approx(UPSTREAM * (-t / B if t * s.data < 1 else 0.0), abs=1e-15)

    labels = rng.integers(0, 2, size=B).tolist()
    logits = [Value(float(v)) for v in rng.normal(size=B) * 4]
    (UPSTREAM * binary_cross_entropy_with_logits(logits, labels)).backward()
    for z, y in zip(logits, labels, strict=True):
        assert math.isclose(z.grad, UPSTREAM * (_sigmoid(z.data) - y) / B, rel_tol=1e-12)

    rows = [[Value(float(v)) for v in row] for row in rng.normal(size=(B, 4)) * 3]
    classes = rng.integers(0, 4, size=B).tolist()
    (UPSTREAM * softmax_cross_entropy(rows, classes)).backward()
    for row, c in zip(rows, classes, strict=True):
        exps = [math.exp(z.data) for z in row]
        for j, z in enumerate(row):
            expected = UPSTREAM * (exps[j] / sum(exps) - (j == c)) / B
            assert math.isclose(z.grad, expected, rel_tol=1e-11, abs_tol=1e-15)


# --- convexity ---------------------------------------------------------------------------------


def _slope(loss, z: float) -> float:
    v = Value(z)
    loss(v).backward()
    return v.grad


def _curvature(loss, z: float, h: float = 1e-4) -> float:
    return (_slope(loss, z + h) - _slope(loss, z - h)) / (2 * h)


@pytest.mark.parametrize("label", [0, 1])
def test_binary_cross_entropy_is_convex_in_the_logit(label: int) -> None:
    def bce(v: Value) -> Value:
        return binary_cross_entropy_with_logits([v], [label])

    for z in np.linspace(-15, 15, 121):
        assert _curvature(bce, float(z)) > 0
        assert math.isclose(
            _curvature(bce, float(z)), _sigmoid(z) * (1 - _sigmoid(z)), rel_tol=1e-5, abs_tol=1e-9
        )


@pytest.mark.parametrize("label", [0, 1])
def test_the_squared_error_of_a_sigmoid_is_not_convex(label: int) -> None:
    def squared(v: Value) -> Value:
        return mse([v.sigmoid()], [float(label)])

    edge = -math.log(2) if label == 1 else math.log(2)  # sigmoid = 1/3, or 2/3 for label 0
    wrong_side = np.linspace(-8, edge - 0.05, 30) if label == 1 else np.linspace(edge + 0.05, 8, 30)
    right_side = np.linspace(edge + 0.05, 8, 30) if label == 1 else np.linspace(-8, edge - 0.05, 30)
    assert all(_curvature(squared, float(z)) < 0 for z in wrong_side)
    assert all(_curvature(squared, float(z)) > 0 for z in right_side)


def _hessian(loss_of_weights, w: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central differences of the gradient from backward(): one column per weight."""

    def grad(at: np.ndarray) -> np.ndarray:
        vs = [Value(float(x)) for x in at]
        loss_of_weights(vs).backward()
        return np.array([v.grad for v in vs])

    cols = [(grad(w + h * e) - grad(w - h * e)) / (2 * h) for e in np.eye(len(w))]
    H = np.array(cols).T
    return (H + H.T) / 2


def _logistic(X: np.ndarray, y: np.ndarray, loss: str):
    def of(ws: list[Value]) -> Value:
        logits = [
            Value.sum([w * float(x) for w, x in zip(ws[:-1], row, strict=True)]) + ws[-1]
            for row in X
        ]
        if loss == "bce":
            return binary_cross_entropy_with_logits(logits, y.tolist())
        return mse([z.sigmoid() for z in logits], y.astype(float).tolist())

    return of


def test_logistic_regression_is_convex_with_cross_entropy_and_not_with_the_squared_error() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(12, 2))
    y = (X[:, 0] + 0.5 * rng.normal(size=12) > 0).astype(int)
    bce, squared = _logistic(X, y, "bce"), _logistic(X, y, "mse")
    lowest = {"bce": [], "mse": []}
    for w in rng.normal(size=(15, 3)) * 4:
        lowest["bce"].append(np.linalg.eigvalsh(_hessian(bce, w)).min())
        lowest["mse"].append(np.linalg.eigvalsh(_hessian(squared, w)).min())
    assert min(lowest["bce"]) > -1e-7  # never curving down, in any direction
    assert min(lowest["mse"]) < -1e-3  # somewhere it curves down


# --- maximum likelihood ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_cross_entropies_are_the_mean_negative_log_likelihood(seed: int) -> None:
    rng = np.random.default_rng(seed)
    zs, ys = (rng.normal(size=9) * 3).tolist(), rng.integers(0, 2, size=9).tolist()
    likelihood = math.prod(
        _sigmoid(z) if y == 1 else 1 - _sigmoid(z) for z, y in zip(zs, ys, strict=True)
    )
    bce = binary_cross_entropy_with_logits([Value(z) for z in zs], ys).data
    assert math.isclose(bce, -math.log(likelihood) / 9, rel_tol=1e-12)

    rows, classes = rng.normal(size=(5, 3)) * 2, rng.integers(0, 3, size=5)
    probabilities = np.exp(rows) / np.exp(rows).sum(axis=1, keepdims=True)
    nll = -np.mean(np.log(probabilities[np.arange(5), classes]))
    ce = softmax_cross_entropy([[Value(float(z)) for z in r] for r in rows], classes.tolist()).data
    assert math.isclose(ce, nll, rel_tol=1e-12)


@pytest.mark.parametrize("v", [0.1, 1.0, 4.0])
def test_the_normal_negative_log_likelihood_is_the_squared_error_scaled(v: float) -> None:
    rng = np.random.default_rng(3)
    y_hat, y = rng.normal(size=6), rng.normal(size=6)
    density = np.exp(-((y - y_hat) ** 2) / (2 * v)) / np.sqrt(2 * np.pi * v)
    nll = -np.mean(np.log(density))
    squared = mse([Value(float(t)) for t in y_hat], y.tolist()).data
    assert math.isclose(nll, squared / (2 * v) + 0.5 * math.log(2 * math.pi * v), rel_tol=1e-12)


# --- PyTorch -----------------------------------------------------------------------------------

LOGITS = [2.0, 0.5, -1.0, 1000.0, -1000.0, 37.0]
LABELS = [1, 0, 1, 0, 0, 1]
ROWS = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [1000.0, 999.0, 998.0], [-1000.0, -1001.0, 3.0]]
CLASSES = [0, 2, 1, 0]


def test_binary_cross_entropy_with_logits_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    ours = [Value(z) for z in LOGITS]
    (UPSTREAM * binary_cross_entropy_with_logits(ours, LABELS)).backward()
    theirs = torch.tensor(LOGITS, dtype=torch.float64, requires_grad=True)
    reference = torch.nn.functional.binary_cross_entropy_with_logits(
        theirs, torch.tensor(LABELS, dtype=torch.float64)
    )
    (UPSTREAM * reference).backward()
    assert np.isclose(
        binary_cross_entropy_with_logits([Value(z) for z in LOGITS], LABELS).data,
        reference.item(),
        rtol=1e-12,
        atol=0,
    )
    assert np.allclose([z.grad for z in ours], theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_softmax_cross_entropy_matches_torch_cross_entropy() -> None:
    torch = pytest.importorskip("torch")
    ours = [[Value(z) for z in row] for row in ROWS]
    loss = softmax_cross_entropy(ours, CLASSES)
    (UPSTREAM * loss).backward()
    theirs = torch.tensor(ROWS, dtype=torch.float64, requires_grad=True)
    reference = torch.nn.functional.cross_entropy(theirs, torch.tensor(CLASSES))
    (UPSTREAM * reference).backward()
    assert np.isclose(loss.data, reference.item(), rtol=1e-12, atol=0)
    grads = [[z.grad for z in row] for row in ours]
    assert np.allclose(grads, theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_probabilities_instead_of_logits_run_but_give_another_loss() -> None:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    logits = torch.tensor(ROWS[:2], dtype=torch.float64, requires_grad=True)
    labels = torch.tensor(CLASSES[:2])
    right = F.cross_entropy(logits, labels)
    wrong = F.cross_entropy(logits.softmax(dim=1), labels)  # no error
    assert not np.isclose(right.item(), wrong.item(), rtol=1e-3)
    (right_grad,) = torch.autograd.grad(right, logits)
    (wrong_grad,) = torch.autograd.grad(wrong, logits)
    assert not np.allclose(right_grad.numpy(), wrong_grad.numpy(), rtol=1e-3)

    z = torch.tensor(LOGITS[:3], dtype=torch.float64)
    y = torch.tensor(LABELS[:3], dtype=torch.float64)
    right = F.binary_cross_entropy_with_logits(z, y)
    wrong = F.binary_cross_entropy_with_logits(z.sigmoid(), y)  # no error either
    assert not np.isclose(right.item(), wrong.item(), rtol=1e-3)


# --- the page ----------------------------------------------------------------------------------


def _prose(page: Path) -> str:
    return re.sub(r"```.*?```", "", page.read_text("utf8"), flags=re.S)


def _anchors(page: Path) -> set[str]:
    text = _prose(page)
    explicit = set(re.findall(r"\{ *#([\w-]+) *\}", text))
    titles = [re.sub(r"\{.*\}", "", h).strip() for h in re.findall(r"^#+ (.+)$", text, re.M)]
    return explicit | {slugify(title, "-") for title in titles}


def test_links_from_the_page_to_tutorial_sections_resolve() -> None:
    links = re.findall(r"\]\(([0-9]{2}-[\w-]+\.md)(?:#([\w-]+))?\)", _prose(PAGE))
    assert ("13-from-scalars-to-tensors.md", "") in links  # the next page
    for target, anchor in links:
        assert (TUTORIAL / target).exists(), target
        if anchor:
            assert anchor in _anchors(TUTORIAL / target), f"{target}#{anchor}"


def test_every_anchor_other_pages_use_exists() -> None:
    used = set()
    for md in DOCS.rglob("*.md"):
        used |= set(re.findall(rf"{PAGE.name}#([\w-]+)", md.read_text("utf8")))
    assert {"softmax-cross-entropy", "binary-cross-entropy"} <= used
    assert used <= _anchors(PAGE), used - _anchors(PAGE)


def test_maximum_likelihood_is_collapsed_inside_binary_cross_entropy() -> None:
    text = PAGE.read_text("utf8")
    start = text.index("\n## Binary cross-entropy")
    end = text.index("\n## ", start + 1)
    notes = re.findall(r"^\?\?\? note .*$", text[start:end], re.M)
    assert len(notes) == 1  # the depth is one collapsed block, with code the tests run
    block = text[text.index(notes[0]) :]
    assert "    ```python" in block[: block.index("\n## ")]
