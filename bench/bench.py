"""Benchmark backprop against micrograd 0.1.0, and on a chain of a million operations.

1. micrograd's own demo (its `demo.ipynb`): an `MLP(2, [16, 16, 1])` on 100 moons
   points, SVM hinge loss plus `1e-4` L2, full batch, SGD with
   `lr = 1.0 - 0.9 * k / 100` for 100 steps. Both engines start from the same weights
   (micrograd's, `random.seed(1337)`, copied into our MLP) and must produce the same loss
   at every step (to 1e-9). micrograd runs first, as its users run it (cyclic garbage
   collector on); then ours. Both get the points as Python floats. A step is the
   forward pass, `zero_grad`, `backward` and the update; the goal is that our median step
   takes at most a tenth of micrograd's.
2. A chain `y = tanh(y * w)` of 1,000,000 operations: forward and backward must work
   without recursion (and without touching the recursion limit); we report the time and,
   in a second run under `tracemalloc`, the peak memory per node.

Exit status 1 if the ratio goal, the trajectory match, the chain's gradient or the
memory goal fails. Run from the repository root: `python bench/bench.py` (`make bench`).
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

from backprop import Value
from backprop.losses import hinge, l2
from backprop.nn import MLP
from backprop.optim import SGD

try:
    from backprop.datasets import make_moons
except ImportError:  # pragma: no cover - only before the datasets module existed
    make_moons = None  # type: ignore[assignment]

RATIO_GOAL = 0.1
TRAJECTORY_TOLERANCE = 1e-9
CHAIN_SECONDS_GOAL = 3.0
CHAIN_BYTES_GOAL = 550
ALPHA = 1e-4


def moons(n: int = 100) -> tuple[list[list[float]], list[int]]:
    """100 noisy moons points, labels in {-1, +1}, as Python lists."""
    if make_moons is None:  # pragma: no cover
        raise SystemExit("backprop.datasets.make_moons is missing")
    X, y = make_moons(n=n, noise=0.1, seed=0)
    return X.tolist(), (y * 2 - 1).tolist()


# --------------------------------------------------------------------------- timing


def timed_steps(
    step: Callable[[int], tuple[float, float]], steps: int, echo: str = ""
) -> tuple[list[float], list[float], float, float]:
    """Run `step(k)` (one training step, returning loss and accuracy) `steps` times.

    Returns the losses, the wall time of each step, the mean CPU time per step and the
    last accuracy. With `echo`, prints each step as it ends (micrograd's are slow).
    """
    losses, seconds = [], []
    acc = 0.0
    cpu = time.process_time()
    for k in range(steps):
        start = time.perf_counter()
        loss, acc = step(k)
        seconds.append(time.perf_counter() - start)
        losses.append(loss)
        if echo:
            print(f"  {echo} step {k:3d}: loss {loss:.12f}  {seconds[-1]:.3f} s", flush=True)
    return losses, seconds, (time.process_time() - cpu) / steps, acc


# --------------------------------------------------------------------------- micrograd


def run_micrograd(X: list[list[float]], Y: list[int], steps: int) -> tuple:
    """micrograd's demo loop, verbatim but for the data. Returns losses, step times, the
    mean CPU time per step, the initial weights and the accuracy at the end."""
    from micrograd.engine import Value as MValue
    from micrograd.nn import MLP as MMLP

    random.seed(1337)
    model = MMLP(2, [16, 16, 1])
    initial = [float(p.data) for p in model.parameters()]

    def loss():
        inputs = [list(map(MValue, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(Y, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = ALPHA
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(Y, scores, strict=True)]
        return total_loss, sum(accuracy) / len(accuracy)

    def step(k: int) -> tuple[float, float]:
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        return float(total_loss.data), acc

    losses, seconds, cpu, acc = timed_steps(step, steps, echo="micrograd")
    return losses, seconds, cpu, initial, acc


# --------------------------------------------------------------------------- backprop


def run_backprop(
    X: list[list[float]], Y: list[int], steps: int, initial: list[float]
) -> tuple[list[float], list[float], float, float]:
    """The same demo with backprop: fused neurons, `hinge`, `l2` and `SGD`."""
    model = MLP(2, [16, 16, 1])
    model.set_parameters(initial)
    opt = SGD(model.parameters(), lr=1.0)

    def loss() -> tuple[Value, float]:
        inputs = [[Value(a), Value(b)] for a, b in X]
        scores = [model(x) for x in inputs]
        total_loss = hinge(scores, Y) + ALPHA * l2(model.parameters())
        accuracy = [(yi > 0) == (s.data > 0) for yi, s in zip(Y, scores, strict=True)]
        return total_loss, sum(accuracy) / len(accuracy)

    def step(k: int) -> tuple[float, float]:
        total_loss, acc = loss()
        opt.zero_grad()
        total_loss.backward()
        opt.lr = 1.0 - 0.9 * k / 100
        opt.step()
        return total_loss.data, acc

    losses, seconds, cpu, acc = timed_steps(step, steps)
    return losses, seconds, cpu, acc


# --------------------------------------------------------------------------- chain


def build_chain(n: int) -> tuple[Value, Value, Value]:
    """`y = tanh(y * w)`, n operations (n/2 products, n/2 tanh), from x = 0.5, w = 1."""
    x, w = Value(0.5, "x"), Value(1.0, "w")
    y = x
    for _ in range(n // 2):
        y = (y * w).tanh()
    return x, w, y


def chain_dx_forward_mode(n: int) -> float:
    """d y / d x of the chain by forward-mode differentiation on plain floats."""
    y, d = 0.5, 1.0
    for _ in range(n // 2):
        y = math.tanh(y * 1.0)
        d = d * 1.0 * (1.0 - y * y)
    return d


def run_chain(n: int) -> tuple[float, float, float, int, float]:
    """Wall-clock seconds of forward and backward, CPU seconds of both, nodes, dy/dx."""
    gc.collect()
    limit = sys.getrecursionlimit()
    cpu = time.process_time()
    start = time.perf_counter()
    x, _, y = build_chain(n)
    forward = time.perf_counter() - start
    y.backward()
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu
    assert sys.getrecursionlimit() == limit, "the recursion limit changed"
    return forward, total - forward, cpu, n + 2, x.grad


def chain_peak_bytes(n: int) -> int:
    """Peak bytes allocated while building the chain and running backward."""
    gc.collect()
    tracemalloc.start()
    try:
        _, _, y = build_chain(n)
        y.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    parser.add_argument("--chain", type=int, default=1_000_000, help="chain length")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    if args.chain < 2:
        parser.error(f"--chain must be at least 2, got {args.chain}")
    failures: list[str] = []
    print(f"Python {sys.version.split()[0]}, gc enabled: {gc.isenabled()}", flush=True)

    # 1. micrograd's demo -----------------------------------------------------------
    X, Y = moons()
    print(f"\n== micrograd's demo, {args.steps} steps: micrograd 0.1.0 first", flush=True)
    gc.collect()
    mg_losses, mg_seconds, mg_cpu, initial, mg_acc = run_micrograd(X, Y, args.steps)
    gc.collect()  # micrograd's leftover cycles, so that our steps don't pay for them
    ours_losses, ours_seconds, ours_cpu, ours_acc = run_backprop(X, Y, args.steps, initial)

    print("\n step   micrograd loss        backprop loss         |diff|     micrograd   backprop")
    worst = 0.0
    for k, (a, b, ta, tb) in enumerate(
        zip(mg_losses, ours_losses, mg_seconds, ours_seconds, strict=True)
    ):
        diff = abs(a - b)
        worst = max(worst, diff)
        print(f" {k:4d}   {a:.15f}   {b:.15f}   {diff:.1e}   {ta:8.3f} s  {tb:7.4f} s")
    mg_median, ours_median = statistics.median(mg_seconds), statistics.median(ours_seconds)
    ratio = ours_median / mg_median
    print(
        f"\nmedian step: micrograd {mg_median:.3f} s, backprop {ours_median * 1000:.1f} ms; "
        f"ratio {ratio:.4f} (1/{1 / ratio:.0f}), goal <= {RATIO_GOAL}"
    )
    print(
        f"mean step:   micrograd {statistics.fmean(mg_seconds):.3f} s, "
        f"backprop {statistics.fmean(ours_seconds) * 1000:.1f} ms"
    )
    print(
        f"CPU time per step: micrograd {mg_cpu:.3f} s, backprop {ours_cpu * 1000:.1f} ms; "
        f"ratio {ours_cpu / mg_cpu:.4f} (1/{mg_cpu / ours_cpu:.0f})"
    )
    print(f"final accuracy: micrograd {mg_acc:.2f}, backprop {ours_acc:.2f}")
    print(f"largest loss difference over {args.steps} steps: {worst:.2e}")
    if ratio > RATIO_GOAL:
        failures.append(f"step-time ratio {ratio:.4f} > {RATIO_GOAL}")
    if not worst <= TRAJECTORY_TOLERANCE:
        failures.append(f"loss trajectories differ by {worst:.2e} > {TRAJECTORY_TOLERANCE}")

    # 2. the chain ------------------------------------------------------------------
    n = args.chain
    print(f"\n== chain of {n:,} operations: y = tanh(y * w)", flush=True)
    forward, backward, cpu, nodes, dx = run_chain(n)
    expected = chain_dx_forward_mode(n)
    print(
        f"forward {forward:.2f} s + backward {backward:.2f} s = {forward + backward:.2f} s "
        f"for {nodes:,} nodes ({cpu:.2f} s of CPU time; goal ~{CHAIN_SECONDS_GOAL:.0f} s: "
        f"{'met' if forward + backward <= CHAIN_SECONDS_GOAL else 'missed'})"
    )
    print(f"dy/dx = {dx!r}, forward mode gives {expected!r}")
    if not math.isclose(dx, expected, rel_tol=1e-9) or dx == 0.0:
        failures.append(f"chain gradient {dx!r} != forward mode {expected!r}")
    peak = chain_peak_bytes(n)
    per_node = peak / nodes
    print(
        f"peak memory (tracemalloc, forward + backward): {peak / 2**20:.0f} MiB, "
        f"{per_node:.0f} bytes per node (goal <= {CHAIN_BYTES_GOAL})"
    )
    if per_node > CHAIN_BYTES_GOAL:
        failures.append(f"{per_node:.0f} bytes per node > {CHAIN_BYTES_GOAL}")

    print()
    for f in failures:
        print(f"FAIL: {f}")
    print(
        "OK: every checked goal met (the chain's time is reported, not checked: it depends "
        "on the machine's load)"
        if not failures
        else f"{len(failures)} goal(s) failed"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
