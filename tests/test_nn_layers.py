"""The image, normalisation, dropout and token layers of `backprop.nn`, against `torch.nn`.

Each layer takes a PyTorch layer's `state_dict()` as it is, and then gives PyTorch's output
and every gradient, in float64, with a random upstream gradient; training and evaluation
modes switch what batch normalisation and dropout do, as in PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop import Tensor
from backprop import nn as ours

torch = pytest.importorskip("torch")
tnn = torch.nn


def _agree(our_layer, their_layer, x: np.ndarray, *, grads: bool = True) -> None:
    their_layer = their_layer.double()
    our_layer.load_state_dict(their_layer.state_dict())
    a = Tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    ya, yt = our_layer(a), their_layer(t)
    np.testing.assert_allclose(ya.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    if not grads:
        return
    g = np.random.default_rng(5).normal(size=ya.shape)
    ya.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    named = dict(their_layer.named_parameters())
    for name, p in zip(our_layer._param_names, our_layer.parameters(), strict=False):
        np.testing.assert_allclose(p.grad, named[name].grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(2, 3, 8, 7))


def test_conv2d_loads_torchs_weights_and_agrees(images) -> None:
    _agree(
        ours.Conv2d(3, 4, 3, stride=2, padding=1), tnn.Conv2d(3, 4, 3, stride=2, padding=1), images
    )
    _agree(ours.Conv2d(3, 2, (2, 3), bias=False), tnn.Conv2d(3, 2, (2, 3), bias=False), images)


def test_conv2d_starts_within_torchs_bound() -> None:
    layer = ours.Conv2d(3, 8, 3, seed=0)
    bound = 1 / np.sqrt(3 * 3 * 3)
    theirs = tnn.Conv2d(3, 8, 3)
    assert np.abs(layer.weight.data).max() <= bound
    assert np.abs(theirs.weight.detach().numpy()).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.9 * bound  # the same range, filled


def test_pooling_layers_agree(images) -> None:
    _agree(ours.MaxPool2d(2), tnn.MaxPool2d(2), images)
    _agree(ours.AvgPool2d(3, stride=2), tnn.AvgPool2d(3, stride=2), images)


def test_batch_norm_trains_on_the_batch_and_evaluates_on_running_statistics(images) -> None:
    mine, theirs = ours.BatchNorm2d(3), tnn.BatchNorm2d(3).double()
    mine.load_state_dict(theirs.state_dict())
    rng = np.random.default_rng(1)
    for _ in range(3):  # training: the batch's statistics; the running ones move
        batch = rng.normal(2.0, 3.0, size=(4, 3, 5, 5))
        np.testing.assert_allclose(
            mine(batch).data, theirs(torch.tensor(batch)).detach().numpy(), rtol=1e-10
        )
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(mine.state_dict()[key], value.numpy(), rtol=1e-12)
    assert mine.state_dict()["num_batches_tracked"] == 3
    mine.eval()
    theirs.eval()
    assert not mine.training
    _agree(mine, theirs, images)  # evaluation: the running statistics, gradients too
    mine.train()
    theirs.train()
    _agree(ours.BatchNorm1d(4), tnn.BatchNorm1d(4), np.random.default_rng(2).normal(size=(6, 4)))


def test_layer_norm_agrees() -> None:
    x = np.random.default_rng(3).normal(size=(2, 5, 6))
    theirs = tnn.LayerNorm(6)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-1, 1)
    _agree(ours.LayerNorm(6), theirs, x)


def test_embedding_agrees_and_accumulates_repeated_tokens() -> None:
    tokens = np.array([[1, 4, 1], [0, 4, 4]])
    mine, theirs = ours.Embedding(6, 3, seed=0), tnn.Embedding(6, 3).double()
    mine.load_state_dict(theirs.state_dict())
    g = np.random.default_rng(4).normal(size=(2, 3, 3))
    mine(tokens).backward(g)
    theirs(torch.tensor(tokens)).backward(torch.tensor(g))
    np.testing.assert_allclose(mine.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine.weight.grad[4], g[0, 1] + g[1, 1] + g[1, 2])


def test_dropout_is_inverted_in_training_and_the_identity_in_evaluation() -> None:
    layer = ours.Dropout(0.25, seed=0)
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    y = layer(x)
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.02 and np.allclose(y.data[kept], 1 / 0.75)
    y.sum().backward()
    assert np.array_equal(x.grad, y.data)  # the gradient is the same mask, scaled
    layer.eval()
    assert layer(x) is x
    theirs = tnn.Dropout(0.25).eval()
    assert torch.equal(theirs(torch.ones(3)), torch.ones(3))


def test_a_sequential_model_loads_a_torch_state_dict_by_name() -> None:
    rng = np.random.default_rng(0)
    mine = ours.Sequential(
        ours.Conv2d(1, 4, 3, padding=1, seed=rng), ours.BatchNorm2d(4), ours.ReLU(),
        ours.MaxPool2d(2), ours.Flatten(), ours.Linear(4 * 4 * 4, 3, seed=rng),
    )  # fmt: skip
    theirs = tnn.Sequential(
        tnn.Conv2d(1, 4, 3, padding=1), tnn.BatchNorm2d(4), tnn.ReLU(),
        tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(4 * 4 * 4, 3),
    ).double()  # fmt: skip
    assert set(mine.state_dict()) == set(theirs.state_dict())
    _agree(mine, theirs, rng.normal(size=(5, 1, 8, 8)))
    mine.eval()
    assert all(not m.training for m in mine)


def test_state_dicts_that_do_not_fit_are_refused_whole() -> None:
    layer = ours.Conv2d(3, 4, 3, seed=0)
    before = layer.weight.data.copy()
    with pytest.raises(KeyError, match="missing"):
        layer.load_state_dict({"weight": before})
    with pytest.raises(ValueError, match=r"weight has shape \(4, 3, 3, 3\)"):
        layer.load_state_dict({"weight": np.zeros((4, 3, 2, 2)), "bias": np.zeros(4)})
    assert np.array_equal(layer.weight.data, before)


def test_layers_name_themselves_and_both_shapes_when_an_input_does_not_fit() -> None:
    with pytest.raises(ValueError, match=r"Conv2d\(3, 4.*\(N, 3, H, W\).*\(2, 5, 8, 8\)"):
        ours.Conv2d(3, 4, 3)(np.zeros((2, 5, 8, 8)))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\).*3 channels.*\(2, 4, 5, 5\)"):
        ours.BatchNorm2d(3)(np.zeros((2, 4, 5, 5)))
    with pytest.raises(ValueError, match=r"LayerNorm\(\(6,\)\).*\(6,\).*\(2, 5\)"):
        ours.LayerNorm(6)(np.zeros((2, 5)))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_multihead_attention_loads_torchs_weights_and_agrees(batch_first, causal) -> None:
    e, heads, n, lq, ls = 8, 2, 3, 5, 5
    rng = np.random.default_rng(6)
    theirs = tnn.MultiheadAttention(e, heads, batch_first=batch_first).double()
    with torch.no_grad():  # biases non-zero, so their gradients are checked too
        theirs.in_proj_bias.uniform_(-0.5, 0.5)
        theirs.out_proj.bias.uniform_(-0.5, 0.5)
    mine = ours.MultiheadAttention(e, heads, batch_first=batch_first)
    assert set(mine.state_dict()) == set(theirs.state_dict())
    mine.load_state_dict(theirs.state_dict())
    shape = (n, lq, e) if batch_first else (lq, n, e)
    x = rng.normal(size=shape)
    kv = rng.normal(size=(n, ls, e) if batch_first else (ls, n, e))
    mask = np.triu(np.ones((lq, ls), dtype=bool), k=1) if causal else None
    a, c = Tensor(x, requires_grad=True), Tensor(kv, requires_grad=True)
    t, tc = torch.tensor(x, requires_grad=True), torch.tensor(kv, requires_grad=True)
    ya, wa = mine(a, c, c, attn_mask=mask)
    yt, wt = theirs(t, tc, tc, attn_mask=None if mask is None else torch.tensor(mask))
    np.testing.assert_allclose(ya.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(wa.data, wt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.normal(size=ya.shape)
    ya.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(c.grad, tc.grad.numpy(), rtol=1e-9, atol=1e-12)
    for p, q in zip(mine.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_multihead_attention_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="embed_dim 6 is not a multiple of num_heads 4"):
        ours.MultiheadAttention(6, 4)
    layer = ours.MultiheadAttention(8, 2, batch_first=True)
    with pytest.raises(ValueError, match=r"query must have shape \(N, L, E\) with E = 8"):
        layer(np.zeros((2, 3, 5)), np.zeros((2, 3, 8)), np.zeros((2, 3, 8)))


def _same_loss_and_gradients(mine, theirs, loss_ours, loss_theirs) -> None:
    """The same loss, and every parameter's gradient by its PyTorch name, to 1e-10."""
    np.testing.assert_allclose(loss_ours.item(), loss_theirs.item(), rtol=1e-10)
    named = dict(mine.named_parameters())
    assert set(named) == {name for name, _ in theirs.named_parameters()}
    assert len(named) == len(mine.parameters())  # every parameter has its name
    for name, q in theirs.named_parameters():
        np.testing.assert_allclose(
            named[name].grad, q.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=name
        )


def test_the_digits_cnn_gives_torchs_loss_and_every_gradient() -> None:
    """conv -> ReLU -> pool -> conv -> ReLU -> linear on 8x8 digits, as part 3 trains it."""
    from backprop.tensor import cross_entropy

    rng = np.random.default_rng(0)
    mine = ours.Sequential(
        ours.Conv2d(1, 8, 3, padding=1, seed=rng), ours.ReLU(), ours.MaxPool2d(2),
        ours.Conv2d(8, 16, 3, padding=1, seed=rng), ours.ReLU(), ours.Flatten(),
        ours.Linear(16 * 4 * 4, 10, seed=rng),
    )  # fmt: skip
    theirs = tnn.Sequential(
        tnn.Conv2d(1, 8, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(8, 16, 3, padding=1), tnn.ReLU(), tnn.Flatten(), tnn.Linear(16 * 4 * 4, 10),
    ).double()  # fmt: skip
    mine.load_state_dict(theirs.state_dict())
    x = rng.uniform(0, 16, size=(12, 1, 8, 8))
    y = rng.integers(0, 10, size=12)
    loss = cross_entropy(mine(x), y)
    loss.backward()
    tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
    tloss.backward()
    _same_loss_and_gradients(mine, theirs, loss, tloss)


def test_a_pre_norm_transformer_block_gives_torchs_loss_and_every_gradient() -> None:
    """LayerNorm -> causal self-attention -> residual -> LayerNorm -> MLP -> residual."""
    e, heads, n, length = 8, 2, 3, 6
    rng = np.random.default_rng(1)

    class Block(ours.Module):
        def __init__(self) -> None:
            self.ln1, self.ln2 = ours.LayerNorm(e), ours.LayerNorm(e)
            self.attn = ours.MultiheadAttention(e, heads, batch_first=True, seed=rng)
            self.mlp = ours.Sequential(
                ours.Linear(e, 4 * e, seed=rng), ours.ReLU(), ours.Linear(4 * e, e, seed=rng)
            )

        def children(self):
            return [("ln1", self.ln1), ("attn", self.attn), ("ln2", self.ln2), ("mlp", self.mlp)]

        def parameters(self):
            return [p for _, m in self.children() for p in m.parameters()]

        def __call__(self, x):
            h = self.ln1(x)
            x = x + self.attn(h, h, h, is_causal=True, need_weights=False)[0]
            return x + self.mlp(self.ln2(x))

    class TorchBlock(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = tnn.LayerNorm(e), tnn.LayerNorm(e)
            self.attn = tnn.MultiheadAttention(e, heads, batch_first=True)
            self.mlp = tnn.Sequential(tnn.Linear(e, 4 * e), tnn.ReLU(), tnn.Linear(4 * e, e))

        def forward(self, x):
            h = self.ln1(x)
            mask = torch.triu(torch.ones(length, length, dtype=torch.bool), 1)
            x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
            return x + self.mlp(self.ln2(x))

    mine, theirs = Block(), TorchBlock().double()
    with torch.no_grad():
        for p in theirs.parameters():  # move every parameter off its start (LN's 1s and 0s)
            p.add_(torch.from_numpy(rng.normal(scale=0.1, size=tuple(p.shape))))
    mine.load_state_dict(theirs.state_dict())
    x = rng.normal(size=(n, length, e))
    target = rng.normal(size=(n, length, e))
    loss = ((mine(x) - Tensor(target)) ** 2).mean()
    loss.backward()
    tloss = ((theirs(torch.tensor(x)) - torch.tensor(target)) ** 2).mean()
    tloss.backward()
    _same_loss_and_gradients(mine, theirs, loss, tloss)
