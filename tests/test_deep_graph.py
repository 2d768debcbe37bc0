"""Deep graphs: no recursion anywhere (build, order, backward, free), and small nodes."""

from __future__ import annotations

import gc
import math
import sys
import tracemalloc
import weakref
from contextlib import contextmanager

from backprop import Value, topological_order

N = 100_000


def stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


@contextmanager
def tight_recursion_limit(headroom: int = 40):
    """Allow only `headroom` more Python frames than are in use now."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(stack_depth() + headroom)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def chain(n: int) -> tuple[Value, Value, Value]:
    x, w = Value(0.5, "x"), Value(1.0, "w")
    y = x
    for _ in range(n // 2):
        y = (y * w).tanh()
    return x, w, y


def test_deep_chain_backward_without_recursion():
    limit = sys.getrecursionlimit()
    x, w, y = chain(N)
    with tight_recursion_limit():
        order = topological_order(y)
        y.backward()
    assert sys.getrecursionlimit() == limit
    assert len(order) == N + 2 and order[0] is x and order[-1] is y
    # d y / d x by forward mode on plain floats
    value, d = 0.5, 1.0
    for _ in range(N // 2):
        value = math.tanh(value)
        d *= 1.0 - value * value
    assert y.data == value
    assert math.isclose(x.grad, d, rel_tol=1e-10)
    assert w.grad > 0.0


def test_deep_graph_with_shared_nodes():
    # Every sum uses the previous node twice: 2**n paths from y to x.
    n = N // 4
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = (y + y) * 0.5
    with tight_recursion_limit():
        y.backward()
    assert y.data == 1.0 and x.grad == 1.0
    assert len(topological_order(y)) == 1 + 3 * n  # x, n sums, n products, n constants


def test_deep_graph_is_freed_by_reference_counting():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        x, _, y = chain(N)
        y.backward()
        probe = weakref.ref(y._children[0])
        leaf = weakref.ref(x)
        del x, y
        assert probe() is None and leaf() is None
    finally:
        if was_enabled:
            gc.enable()


def test_memory_per_node():
    gc.collect()
    tracemalloc.start()
    try:
        _, _, y = chain(20_000)
        y.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak / 20_002 < 550


def test_nodes_use_slots():
    v = Value(1.0)
    assert not hasattr(v, "__dict__")
