"""A museum of classic bugs: what its newer exhibits (9-11) say about PyTorch and our engine."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from backprop import Tensor


def test_pytorch_mse_loss_warns_about_a_broadcast_target_but_still_broadcasts() -> None:
    torch = pytest.importorskip("torch")
    pred, target = torch.zeros(5, 1), torch.arange(5.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = torch.nn.functional.mse_loss(pred, target)
    assert any("different to the input size" in str(w.message) for w in caught)
    # it computed the (5, 5) comparison anyway: the mean over all pairs, not over rows
    assert loss.item() == pytest.approx(((0 - np.arange(5.0)) ** 2).mean())
    assert loss.item() != pytest.approx(0.0)


def test_pytorch_losses_average_by_default() -> None:
    torch = pytest.importorskip("torch")
    for loss in (torch.nn.MSELoss(), torch.nn.CrossEntropyLoss(), torch.nn.L1Loss()):
        assert loss.reduction == "mean"


def test_pytorch_optimisers_skip_a_parameter_without_a_gradient_as_ours_do() -> None:
    torch = pytest.importorskip("torch")
    from backprop.optim import SGD

    w = torch.nn.Parameter(torch.ones(3))
    torch.optim.SGD([w], lr=0.1).step()  # w.grad is None: no error, no change
    assert torch.equal(w.detach(), torch.ones(3))

    ours = Tensor(np.ones(3), requires_grad=True)
    SGD([ours], lr=0.1).step()
    assert ours.grad is None and np.array_equal(ours.data, np.ones(3))


def test_a_loss_that_no_parameter_reaches_is_refused() -> None:
    cut = Tensor(np.tanh(Tensor(np.ones(2), requires_grad=True).data))
    with pytest.raises(RuntimeError, match="does not require gradients"):
        (cut * 2).sum().backward()
