"""Page 23, the whole path: what its exercise says about updating parameters in each engine."""

from __future__ import annotations

import numpy as np
import pytest

from backprop import Tensor


def test_writing_data_in_our_engine_is_not_recorded() -> None:
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    (w * w).sum().backward()
    w.data -= 0.5 * w.grad  # the exercise's update, without no_grad()
    assert np.array_equal(w.data, [0.0, 0.0])
    assert w.is_leaf  # still a leaf: the update made no node
    w.zero_grad()
    (w * Tensor(np.array([3.0, 5.0]))).sum().backward()
    assert np.array_equal(w.grad, [3.0, 5.0])  # the new loss's gradient, nothing else


def test_pytorch_needs_no_grad_for_an_in_place_update_of_a_leaf() -> None:
    torch = pytest.importorskip("torch")
    p = torch.tensor([1.0, -2.0], requires_grad=True)
    (p * p).sum().backward()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        p -= 0.5 * p.grad
    with torch.no_grad():
        p -= 0.5 * p.grad
    assert torch.equal(p.detach(), torch.tensor([0.0, 0.0]))
