"""Page 25, normalisation and dropout: the claims its blocks cannot check themselves.

The page derives batch normalisation's backward pass as the sum of three paths (directly,
through the mean, through the variance) and states what each contributes; says that the
running statistics are an exponential moving average of the batch means and of the
*unbiased* batch variances, as PyTorch keeps them, because the biased variance falls short
by (B - 1)/B on average; that a batch of one is refused in training, by PyTorch too, while
one image is not; that inverted dropout keeps the expected value, with a spread of
|x| sqrt(p / (1 - p)) per draw, as PyTorch's does; that layer normalisation matches
PyTorch's; that train() and eval() reach every module inside a Sequential, as in PyTorch;
and that with eps > 0 the sum of x̂² is B v / (v + eps). It links back to the pages it
builds on. These tests check those claims and the links.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop import Tensor, no_grad
from backprop.nn import BatchNorm1d, BatchNorm2d, Dropout, LayerNorm, Linear, ReLU, Sequential
from backprop.tensor import batch_norm, dropout, layer_norm

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "tutorial" / "25-normalisation.md"
FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s#]*\.md)?(?:#([\w-]+))?\)")
EPS = 1e-5


def _prose(text: str) -> str:
    return FENCE.sub(lambda m: " " * len(m.group(0)), text)


def _anchors(page: Path) -> set[str]:
    prose = _prose(page.read_text("utf8"))
    ids = set(re.findall(r"\{\s*#([\w-]+)[^}]*\}", prose))
    for heading in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t]*$", prose, re.M):
        if not re.search(r"\{\s*#[\w-]+[^}]*\}\s*$", heading):
            ids.add(slugify(heading.replace("`", ""), "-"))
    return ids


def _links() -> list[tuple[str, str]]:
    return [
        (m.group(1) or "", m.group(2) or "") for m in LINK.finditer(_prose(PAGE.read_text("utf8")))
    ]


# ---------------------------------------------------------------- links and structure


def test_the_prerequisites_link_to_pages_15_17_and_18() -> None:
    head = PAGE.read_text("utf8").split("**Prerequisites:**", 1)[1].split("\n## ", 1)[0]
    linked = {target for target, _ in LINK.findall(head)}
    for page in ("15-broadcasting-and-reductions.md", "17-training.md", "18-generalisation.md"):
        assert page in linked, page


def test_every_link_resolves_to_a_page_and_a_section_that_exist() -> None:
    for target, anchor in _links():
        if target == "24-convolutions.md" and not (PAGE.parent / target).exists():
            continue  # written at the same time as this page; the site build checks it
        page = PAGE if not target else (PAGE.parent / target).resolve()
        assert page.is_file(), target
        if anchor:
            assert anchor in _anchors(page), f"{target}#{anchor}"


def test_the_page_links_back_to_the_convolutions() -> None:
    assert "24-convolutions.md" in {target for target, _ in _links()}


def test_the_sections_come_in_teaching_order() -> None:
    headings = re.findall(r"^## (.+)$", _prose(PAGE.read_text("utf8")), re.M)
    order = ["Batch normalisation in training", "Running statistics", "backward pass",
             "Layer normalisation", "Dropout", "Training mode", "Exercises", "Next"]  # fmt: skip
    found = [next(i for i, h in enumerate(headings) if key in h) for key in order]
    assert found == sorted(found)


# ---------------------------------------------------------------- the backward pass


def test_the_three_paths_each_give_the_term_the_page_derives() -> None:
    """Each path is isolated by detaching the other two routes from x."""
    rng = np.random.default_rng(11)
    x, G = rng.normal(size=(7, 3)) * [1.0, 2.0, 0.5], rng.normal(size=(7, 3))
    gamma = np.array([1.5, -0.5, 2.0])
    B = x.shape[0]
    mu, v = x.mean(axis=0), x.var(axis=0)
    sigma = np.sqrt(v + EPS)
    xh = (x - mu) / sigma

    def through(direct: bool, mean: bool, variance: bool) -> np.ndarray:
        xt = Tensor(x, requires_grad=True)
        m = xt.mean(axis=0, keepdims=True)
        var = xt.var(axis=0, keepdims=True, correction=0)
        num = (xt if direct else xt.detach()) - (m if mean else m.detach())
        out = gamma * num / ((var if variance else var.detach()) + EPS).sqrt()
        out.backward(G)
        return xt.grad

    direct = gamma * G / sigma
    mean = np.broadcast_to(-gamma / (B * sigma) * G.sum(axis=0), x.shape)
    variance = -gamma * xh / (B * sigma) * (G * xh).sum(axis=0)
    assert np.allclose(through(True, False, False), direct, rtol=1e-13)
    assert np.allclose(through(False, True, False), mean, rtol=1e-13)
    assert np.allclose(through(False, False, True), variance, rtol=1e-12, atol=1e-14)
    assert np.allclose(through(True, True, True), direct + mean + variance, rtol=1e-12, atol=1e-14)


def test_with_eps_the_sum_of_squares_of_x_hat_is_b_v_over_v_plus_eps() -> None:
    rng = np.random.default_rng(12)
    x, G = rng.normal(size=(9, 2)) * 0.01, rng.normal(size=(9, 2))  # v near eps: visible
    xt = Tensor(x, requires_grad=True)
    batch_norm(xt, None, None, training=True).backward(G)
    v, B = x.var(axis=0), x.shape[0]
    xh = (x - x.mean(axis=0)) / np.sqrt(v + EPS)
    assert np.allclose((xh**2).sum(axis=0), B * v / (v + EPS), rtol=1e-13)
    weighted = (xt.grad * xh).sum(axis=0)
    expected = (G * xh).sum(axis=0) / np.sqrt(v + EPS) * EPS / (v + EPS)  # gamma = 1
    assert np.allclose(weighted, expected, rtol=1e-10)
    assert np.all(np.abs(weighted) > 1e-3)  # small but not zero


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 4, 3, 3)])
def test_batch_norm_output_and_gradients_match_pytorch(shape) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    x, G = rng.normal(size=shape), rng.normal(size=shape)
    w, b = rng.normal(size=4), rng.normal(size=4)
    ours = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    out = batch_norm(ours[0], None, None, ours[1], ours[2], training=True)
    out.backward(G)
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    tout = torch.nn.functional.batch_norm(
        theirs[0], None, None, theirs[1], theirs[2], training=True
    )
    tout.backward(torch.tensor(G))
    assert np.allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-13)
    for o, t in zip(ours, theirs, strict=True):
        assert np.allclose(o.grad, t.grad.numpy(), rtol=1e-11, atol=1e-12)


# ---------------------------------------------------------------- running statistics


def test_the_running_statistics_are_a_moving_average_of_means_and_unbiased_variances() -> None:
    rng = np.random.default_rng(14)
    batches = [rng.normal(loc=1.0, scale=2.0, size=(5, 3)) for _ in range(6)]
    bn = BatchNorm1d(3)
    for batch in batches:
        bn(batch)
    t = len(batches)
    weights = [0.1 * 0.9 ** (t - 1 - k) for k in range(t)]  # the newest batch weighs 0.1
    mean = sum(w * b.mean(axis=0) for w, b in zip(weights, batches, strict=True))
    var = 0.9**t * 1.0 + sum(
        w * b.var(axis=0, ddof=1) for w, b in zip(weights, batches, strict=True)
    )
    assert np.allclose(bn.running_mean, mean, rtol=1e-13)
    assert np.allclose(bn.running_var, var, rtol=1e-13)
    assert int(bn.num_batches_tracked) == t


def test_pytorch_keeps_the_same_running_statistics() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(15)
    ours, theirs = BatchNorm1d(3), torch.nn.BatchNorm1d(3).double()
    for _ in range(5):
        batch = rng.normal(loc=[0.0, 3.0, -1.0], size=(4, 3))
        ours(batch)
        theirs(torch.from_numpy(batch))
    assert np.allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-13)
    assert np.allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-13)
    assert theirs.momentum == ours.momentum == 0.1
    x = rng.normal(size=(3, 3))  # evaluation uses the running statistics in both
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        assert np.allclose(ours(x).data, theirs(torch.from_numpy(x)).numpy(), rtol=1e-13)


def test_the_biased_batch_variance_falls_short_by_b_minus_1_over_b_on_average() -> None:
    rng = np.random.default_rng(16)
    B = 4
    samples = rng.normal(scale=3.0, size=(200_000, B))  # true variance 9
    biased = samples.var(axis=1).mean()
    assert abs(biased - 9.0 * (B - 1) / B) < 0.05
    assert abs(samples.var(axis=1, ddof=1).mean() - 9.0) < 0.05


def test_a_batch_of_one_is_refused_in_training_by_pytorch_too_but_one_image_is_not() -> None:
    torch = pytest.importorskip("torch")
    x = np.array([[3.0, -1.0, 0.25]])
    with pytest.raises(ValueError, match="more than one entry per channel"):
        BatchNorm1d(3)(x)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        torch.nn.BatchNorm1d(3).double()(torch.from_numpy(x))
    image = np.random.default_rng(17).normal(size=(1, 2, 5, 5))
    ours = BatchNorm2d(2)(image).data
    theirs = torch.nn.BatchNorm2d(2).double()(torch.from_numpy(image)).detach().numpy()
    assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-13)


def test_a_fresh_batch_norm_in_evaluation_divides_by_sqrt_1_plus_eps_in_pytorch_too() -> None:
    torch = pytest.importorskip("torch")
    x = np.array([[3.0, -1.0, 0.25], [1.0, 2.0, -4.0]])
    theirs = torch.nn.BatchNorm1d(3).double().eval()
    with torch.no_grad():
        assert np.allclose(theirs(torch.from_numpy(x)).numpy(), x / np.sqrt(1 + EPS), rtol=1e-15)
    assert np.allclose(BatchNorm1d(3).eval()(x).data, x / np.sqrt(1 + EPS), rtol=1e-15)


# ---------------------------------------------------------------- layer norm and dropout


def test_layer_norm_matches_pytorch_and_ignores_the_batch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(18)
    x, G = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    w, b = rng.normal(size=6), rng.normal(size=6)
    ours = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    out = layer_norm(ours[0], 6, ours[1], ours[2])
    out.backward(G)
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    tout = torch.nn.functional.layer_norm(theirs[0], (6,), theirs[1], theirs[2])
    tout.backward(torch.tensor(G))
    assert np.allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-13)
    for o, t in zip(ours, theirs, strict=True):
        assert np.allclose(o.grad, t.grad.numpy(), rtol=1e-11, atol=1e-12)
    ln = LayerNorm(6)
    assert np.array_equal(ln(x).data[2:3], ln(x[2:3]).data)  # no statistics across examples
    assert not hasattr(ln, "running_mean")
    assert np.array_equal(ln.eval()(x).data, ln.train()(x).data)  # no modes either


def test_one_dropout_draw_has_spread_abs_x_times_sqrt_p_over_1_minus_p() -> None:
    for p in (0.1, 0.25, 0.5):
        x = 2.0
        values = np.array([x / (1 - p), 0.0])
        probabilities = np.array([1 - p, p])
        mean = values @ probabilities
        spread = np.sqrt(((values - mean) ** 2) @ probabilities)
        assert np.isclose(mean, x, rtol=1e-15)
        assert np.isclose(spread, abs(x) * np.sqrt(p / (1 - p)), rtol=1e-14)


def test_pytorchs_dropout_is_inverted_too() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x = torch.full((200_000,), 2.0, dtype=torch.float64)
    y = torch.nn.functional.dropout(x, p=0.25, training=True).numpy()
    assert set(np.unique(y)) == {0.0, 2.0 / 0.75}
    assert abs(y.mean() - 2.0) < 5 * 2.0 * np.sqrt(0.25 / 0.75 / len(y))
    assert torch.equal(torch.nn.functional.dropout(x, p=0.25, training=False), x)


def test_dropout_in_evaluation_is_the_identity_and_its_masks_repeat_with_a_seed() -> None:
    x = np.arange(1.0, 7.0)
    layer = Dropout(0.5, seed=3).eval()
    assert np.array_equal(layer(x).data, x)
    a = dropout(Tensor(x), 0.5, training=True, seed=4).data
    assert np.array_equal(a, dropout(Tensor(x), 0.5, training=True, seed=4).data)


# ---------------------------------------------------------------- train and eval


def test_train_and_eval_reach_every_module_inside_as_in_pytorch() -> None:
    torch = pytest.importorskip("torch")
    ours = Sequential(
        Linear(2, 4, seed=0), BatchNorm1d(4), ReLU(), Dropout(0.5), Linear(4, 2, seed=0)
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Dropout(0.5),
        torch.nn.Linear(4, 2),
    )  # fmt: skip
    assert all(m.training for m in ours) and all(m.training for m in theirs)
    assert ours.eval() is ours and theirs.eval() is theirs
    assert not any(m.training for m in ours) and not any(m.training for m in theirs)
    ours.train()
    theirs.train()
    assert all(m.training for m in ours) and all(m.training for m in theirs)
    assert set(ours.state_dict()) == set(theirs.state_dict())


def test_evaluating_in_training_mode_moves_the_running_statistics_in_pytorch_too() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(19).normal(loc=2.0, size=(10, 3))
    cases = [
        (BatchNorm1d(3), lambda m: m(x), lambda m: m.running_mean.copy()),
        (
            torch.nn.BatchNorm1d(3).double(),
            lambda m: m(torch.from_numpy(x)),
            lambda m: m.running_mean.numpy().copy(),
        ),
    ]
    for bn, call, running_mean in cases:
        with no_grad(), torch.no_grad():
            call(bn)  # training mode: moved
            moved = running_mean(bn)
            bn.eval()
            call(bn)  # evaluation mode: left alone
        assert np.all(moved > 0.1)
        assert np.array_equal(running_mean(bn), moved)


def test_in_evaluation_only_the_direct_path_is_left_as_in_pytorch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(20)
    x, G = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    mean, var, w = rng.normal(size=3), rng.uniform(0.5, 2.0, size=3), rng.normal(size=3)
    xt = Tensor(x, requires_grad=True)
    batch_norm(xt, mean.copy(), var.copy(), Tensor(w), training=False).backward(G)
    assert np.allclose(xt.grad, w * G / np.sqrt(var + EPS), rtol=1e-14)
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.batch_norm(
        tx, torch.tensor(mean), torch.tensor(var), torch.tensor(w), training=False
    ).backward(torch.tensor(G))
    assert np.allclose(xt.grad, tx.grad.numpy(), rtol=1e-13)
