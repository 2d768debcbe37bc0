"""Large graphs: correct gradients, no recursion, and memory that grows linearly.

The shapes that break naive engines: a very long chain, a long sum built with `+`
(a chain too, one addition per term), many diamonds in a row (every step doubles the
number of paths), and a deep tensor graph.
"""

from __future__ import annotations

import gc
import math
import tracemalloc

import numpy as np
import pytest
from test_deep_graph import tight_recursion_limit

from backprop import Tensor, Value


def peak_bytes(build) -> int:
    """The peak memory traced while `build()` makes a graph and backpropagates through it."""
    gc.collect()
    tracemalloc.start()
    try:
        build()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def assert_linear(build, n: int) -> None:
    """Twice the size costs about twice the memory (not four times)."""
    small, large = peak_bytes(lambda: build(n)), peak_bytes(lambda: build(2 * n))
    assert 1.6 < large / small < 2.4, (small, large)


def long_sum(n: int) -> tuple[list[Value], Value]:
    terms = [Value(float(i % 7) - 3.0) for i in range(n)]
    total = Value(0.0)
    for t in terms:
        total = total + t * t  # built with + and *, not the fused Value.sum
    return terms, total


def diamonds(n: int) -> tuple[Value, Value]:
    """n diamonds in a row: y -> (y * 0.5, y * 0.5) -> their sum -> ... (2**n paths)."""
    x = Value(1.5)
    y = x
    for _ in range(n):
        left, right = y * 0.5, y * 0.5
        y = left + right
    return x, y


@pytest.mark.slow
def test_a_chain_of_a_million_operations() -> None:
    x, w = Value(0.5), Value(1.0)
    y = x
    for _ in range(500_000):
        y = (y * w).tanh()  # two operations per step
    with tight_recursion_limit():
        y.backward()
    value, d = 0.5, 1.0  # forward mode on plain floats
    for _ in range(500_000):
        value = math.tanh(value)
        d *= 1.0 - value * value
    assert y.data == value
    assert math.isclose(x.grad, d, rel_tol=1e-9)


def test_a_sum_of_100_000_terms_built_with_plus() -> None:
    terms, total = long_sum(100_000)
    with tight_recursion_limit():
        total.backward()
    assert total.data == sum(t.data**2 for t in terms)
    assert all(t.grad == 2 * t.data for t in terms)  # d(sum t^2)/dt = 2t


def test_a_long_sum_takes_linear_memory() -> None:
    def build(n: int) -> None:
        _, total = long_sum(n)
        total.backward()

    assert_linear(build, 10_000)


def test_ten_thousand_diamonds() -> None:
    x, y = diamonds(10_000)
    with tight_recursion_limit():
        y.backward()
    # Each diamond is y/2 + y/2 = y: the output is x, and d y / d x = 1 summed over
    # 2**10000 paths, each worth 2**-10000. Exact in floats at every step.
    assert y.data == x.data and x.grad == 1.0


def test_diamonds_take_linear_memory() -> None:
    def build(n: int) -> None:
        _, y = diamonds(n)
        y.backward()

    assert_linear(build, 3_000)


def test_a_tensor_graph_ten_thousand_operations_deep() -> None:
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal(4), requires_grad=True)
    y = x
    for _ in range(5_000):
        y = (y * 0.999).tanh()  # two operations per step
    g = rng.standard_normal(4)  # a non-uniform upstream gradient
    with tight_recursion_limit():
        y.backward(g)
    value, d = x.data.copy(), np.ones(4)  # forward mode
    for _ in range(5_000):
        value = np.tanh(value * 0.999)
        d *= 0.999 * (1 - value * value)
    np.testing.assert_allclose(y.data, value, rtol=1e-12)
    np.testing.assert_allclose(x.grad, g * d, rtol=1e-9)


def test_a_deep_tensor_graph_takes_linear_memory() -> None:
    def build(n: int) -> None:
        x = Tensor(np.ones(100), requires_grad=True)
        y = x
        for _ in range(n):
            y = (y * 0.5 + 0.5).tanh()
        y.backward(np.ones(100))

    assert_linear(build, 500)
