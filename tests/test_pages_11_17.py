"""The claims about PyTorch on tutorial pages 11 (loss functions) and 17 (optimisers).

Page 11 says that PyTorch's losses take logits too and give the numbers and gradients of
`backprop.losses`, and that handing them probabilities runs without an error but gives
another loss. Page 17 says that `backprop.optim.Adam` has the defaults of
`torch.optim.Adam`, and that `torch.optim.SGD`'s rules are ours plus `dampening` and
`nesterov` options, which default to off.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from backprop import Value
from backprop.losses import binary_cross_entropy_with_logits, softmax_cross_entropy
from backprop.optim import SGD, Adam

torch = pytest.importorskip("torch")
F = torch.nn.functional

LOGITS = [2.0, 0.5, -1.0, 1000.0, -1000.0, 37.0]
LABELS = [1, 0, 1, 0, 0, 1]
ROWS = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [1000.0, 999.0, 998.0], [-1000.0, -1001.0, 3.0]]
CLASSES = [0, 2, 1, 0]


def test_binary_cross_entropy_with_logits_matches_torch() -> None:
    ours = [Value(z) for z in LOGITS]
    loss = binary_cross_entropy_with_logits(ours, LABELS)
    loss.backward()
    theirs = torch.tensor(LOGITS, dtype=torch.float64, requires_grad=True)
    reference = F.binary_cross_entropy_with_logits(
        theirs, torch.tensor(LABELS, dtype=torch.float64)
    )
    reference.backward()
    assert np.isclose(loss.data, reference.item(), rtol=1e-12, atol=0)
    assert np.allclose([z.grad for z in ours], theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_softmax_cross_entropy_matches_torch_cross_entropy() -> None:
    ours = [[Value(z) for z in row] for row in ROWS]
    loss = softmax_cross_entropy(ours, CLASSES)
    loss.backward()
    theirs = torch.tensor(ROWS, dtype=torch.float64, requires_grad=True)
    reference = F.cross_entropy(theirs, torch.tensor(CLASSES))
    reference.backward()
    assert np.isclose(loss.data, reference.item(), rtol=1e-12, atol=0)
    grads = [[z.grad for z in row] for row in ours]
    assert np.allclose(grads, theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_probabilities_instead_of_logits_run_but_give_another_loss() -> None:
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


def _defaults(function: object) -> dict[str, object]:
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def test_adam_has_torchs_defaults() -> None:
    ours, theirs = _defaults(Adam.__init__), _defaults(torch.optim.Adam.__init__)
    for name in ("lr", "betas", "eps"):
        assert ours[name] == theirs[name]
    assert (ours["lr"], ours["betas"], ours["eps"]) == (1e-3, (0.9, 0.999), 1e-8)


def test_torch_sgd_is_ours_plus_dampening_and_nesterov_switched_off() -> None:
    theirs = _defaults(torch.optim.SGD.__init__)
    assert theirs["dampening"] == 0 and theirs["nesterov"] is False
    assert "dampening" not in _defaults(SGD.__init__)

    rng = np.random.default_rng(17)
    start, gradients = rng.normal(size=4), rng.normal(size=(12, 4))
    ours = [Value(float(x)) for x in start]
    ours_opt = SGD(ours, lr=0.05, momentum=0.9)
    t = torch.tensor(start, requires_grad=True)
    torch_opt = torch.optim.SGD([t], lr=0.05, momentum=0.9)
    for g in gradients:
        for p, gi in zip(ours, g, strict=True):
            p.grad = float(gi)
        ours_opt.step()
        t.grad = torch.tensor(g)
        torch_opt.step()
    assert np.allclose([p.data for p in ours], t.detach().numpy(), rtol=1e-13, atol=0)
