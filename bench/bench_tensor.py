"""Benchmark backprop's Tensor engine against hand-written numpy, PyTorch and HIPS autograd.

The workloads of issue 8: an MLP 784-256-128-10 (ReLU between layers, softmax
cross-entropy on integer labels, plain SGD) in float32 at batch 32 and batch 256, and
64-128-10 at batch 32. One training step is the forward pass, the loss, the backward
pass and the SGD update; every contender runs it from the same initial weights on the
same batches:

1. `numpy`: forward and backward written out by hand with numpy, in place where that is
   natural. No autograd at all: the floor the others are measured against.
2. `backprop`: our Tensor engine, as a user writes it (`nn.Sequential` of `nn.Linear`
   and `nn.ReLU`, `tensor.cross_entropy`, `optim.SGD`); before those modules exist,
   `tensor.linear`, `.relu()` and an in-place SGD update.
3. `torch`: PyTorch on the CPU (`torch.nn.Sequential`, `F.cross_entropy`,
   `torch.optim.SGD`), with as many threads as numpy's BLAS has.
4. `autograd`: HIPS autograd's `value_and_grad` of the same loss, written with
   `autograd.numpy`, then the same update (skipped with a note when not installed).

First, each contender runs a few steps and all must give the same losses and weights
(within float32 round-off); then they are timed interleaved: each round runs one step of
each contender, in an order that rotates every round, after warm-up rounds. Medians (and
quartiles) are compared with hand-written numpy's, measured in the same run. The goals:
ours/numpy at most 1.25 (784-256-128-10, b256), 1.5 (b32) and 2.0 (64-128-10, b32), and
ours faster than PyTorch everywhere; float32 must stay float32 in our engine.

It reports the BLAS in use (threadpoolctl) and the OpenBLAS environment variables as it
found them: it does not change them. Exit status 1 on a correctness mismatch; a missed
speed goal is printed, not an error. Run from the repository root:
`python bench/bench_tensor.py [--quick] [--rounds N] [--json PATH]` (`make bench`).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import gc
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import backprop
from backprop import Tensor
from backprop.tensor import cross_entropy, linear

LR = 0.01
DTYPE = np.float32
N_BATCHES = 8  # distinct batches, used in turn
CHECK_STEPS = 5
#: Losses of two contenders after the same steps may differ by this much (relative).
LOSS_RTOL = 1e-4
#: ... and their weights by this much (`np.allclose` with these).
WEIGHT_RTOL, WEIGHT_ATOL = 1e-3, 1e-5
ENV_VARS = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)

Params = list[tuple[np.ndarray, np.ndarray]]  # (weight (out, in), bias (out,)) per layer


@dataclass(frozen=True)
class Config:
    """One workload: layer sizes, batch size, the goal for ours/numpy, default rounds."""

    sizes: tuple[int, ...]
    batch: int
    goal: float
    rounds: int

    @property
    def name(self) -> str:
        return f"{'-'.join(map(str, self.sizes))} b{self.batch}"


CONFIGS = (
    Config((784, 256, 128, 10), 256, 1.25, 250),
    Config((784, 256, 128, 10), 32, 1.5, 600),
    Config((64, 128, 10), 32, 2.0, 1500),
)


# --------------------------------------------------------------------------- problem


def init_params(sizes: Sequence[int], seed: int = 0) -> Params:
    """PyTorch's default `nn.Linear` init, float32: weight and bias uniform in
    `[-1/sqrt(in), 1/sqrt(in)]`, drawn from numpy so every contender starts equal."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        bound = 1 / np.sqrt(n_in)
        w = rng.uniform(-bound, bound, size=(n_out, n_in)).astype(DTYPE)
        b = rng.uniform(-bound, bound, size=n_out).astype(DTYPE)
        params.append((w, b))
    return params


def make_batches(
    sizes: Sequence[int], batch: int, n: int = N_BATCHES, seed: int = 1
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`n` batches of standard-normal float32 inputs and random int64 class labels."""
    rng = np.random.default_rng(seed)
    return [
        (
            rng.standard_normal((batch, sizes[0])).astype(DTYPE),
            rng.integers(0, sizes[-1], size=batch).astype(np.int64),
        )
        for _ in range(n)
    ]


def copy_params(params: Params) -> Params:
    return [(w.copy(), b.copy()) for w, b in params]


# --------------------------------------------------------------------------- contenders


class Contender:
    """A training loop under test: `step(k)` trains on batch `k` and returns the loss."""

    name = ""

    def step(self, k: int) -> float:
        raise NotImplementedError

    def weights(self) -> list[np.ndarray]:
        """The parameters as numpy arrays (weights and biases, layer by layer)."""
        raise NotImplementedError


class NumpyMLP(Contender):
    """The floor: the forward and backward passes written out with numpy.

    With `G` the gradient of the loss with respect to a layer's output `a @ W.T + b`:
    `dW = G.T @ a`, `db = G` summed over rows, `da = G @ W`, and through a ReLU `da`
    is kept where the activation is positive. The loss's gradient with respect to the
    logits is `(softmax - onehot) / N`.
    """

    name = "numpy"

    def __init__(self, params: Params, batches: list, lr: float = LR) -> None:
        self.w = [w for w, _ in copy_params(params)]
        self.b = [b for _, b in copy_params(params)]
        self.batches = batches
        self.lr = lr
        self.rows = np.arange(batches[0][0].shape[0])

    def step(self, k: int) -> float:
        x, y = self.batches[k % len(self.batches)]
        rows, lr, w, b = self.rows, self.lr, self.w, self.b
        last = len(w) - 1
        acts = [x]  # each layer's input
        h = x
        for i in range(len(w)):
            h = h @ w[i].T
            h += b[i]
            if i < last:
                np.maximum(h, 0, out=h)
            acts.append(h)
        z = acts.pop()  # the logits, shifted in place for a stable softmax
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        total = e.sum(axis=1)
        loss = float(np.mean(np.log(total) - z[rows, y]))
        g = e
        g /= total[:, None]
        g[rows, y] -= 1
        g *= DTYPE(1 / len(rows))
        for i in range(last, -1, -1):
            a = acts[i]
            gw = g.T @ a
            gb = g.sum(axis=0)
            if i:
                g = g @ w[i]  # before w[i] is updated
                g *= a > 0
            gw *= lr
            w[i] -= gw
            gb *= lr
            b[i] -= gb
        return loss

    def weights(self) -> list[np.ndarray]:
        return [p for pair in zip(self.w, self.b, strict=True) for p in pair]


def _tensor_modules_available() -> bool:
    """`True` once `backprop.nn` has `Linear`/`Sequential`/`ReLU` and `optim.SGD` takes Tensors."""
    nn = backprop.nn
    if not all(hasattr(nn, name) for name in ("Linear", "Sequential", "ReLU")):
        return False
    try:
        layer = nn.Linear(2, 1, seed=0, dtype=DTYPE)
        backprop.optim.SGD(layer.parameters(), lr=LR)
    except Exception:
        return False
    return all(isinstance(p, Tensor) for p in layer.parameters())


class BackpropFunctional(Contender):
    """Our engine through its functions: `linear`, `.relu()`, `cross_entropy`, and an
    in-place SGD update `p.data -= lr * p.grad` (what `optim.SGD` does)."""

    name = "backprop"
    variant = "functional (tensor.linear, .relu(), cross_entropy, in-place SGD)"

    def __init__(self, params: Params, batches: list, lr: float = LR) -> None:
        self.layers = [
            (Tensor(w, requires_grad=True), Tensor(b, requires_grad=True))
            for w, b in copy_params(params)
        ]
        self.params = [p for pair in self.layers for p in pair]
        self.batches = [(Tensor(x), y) for x, y in batches]
        self.lr = lr

    def step(self, k: int) -> float:
        x, y = self.batches[k % len(self.batches)]
        last = len(self.layers) - 1
        h = x
        for i, (w, b) in enumerate(self.layers):
            h = linear(h, w, b)
            if i < last:
                h = h.relu()
        loss = cross_entropy(h, y)
        for p in self.params:
            p.grad = None
        loss.backward()
        lr = self.lr
        for p in self.params:
            p.data -= lr * p.grad
        return loss.item()

    def weights(self) -> list[np.ndarray]:
        return [p.data for p in self.params]


class BackpropModules(Contender):
    """Our engine as a user writes it: `nn.Sequential`, `cross_entropy`, `optim.SGD`."""

    name = "backprop"
    variant = "modules (nn.Sequential of nn.Linear/nn.ReLU, cross_entropy, optim.SGD)"

    def __init__(self, params: Params, batches: list, lr: float = LR) -> None:
        from backprop import nn, optim

        layers: list = []
        for i, (w, b) in enumerate(copy_params(params)):
            layer = nn.Linear(w.shape[1], w.shape[0], seed=0, dtype=DTYPE)
            if layer.weight.shape != w.shape or layer.bias.shape != b.shape:
                raise RuntimeError(
                    f"nn.Linear's weight {layer.weight.shape} / bias {layer.bias.shape} "
                    f"do not have the shapes {w.shape} / {b.shape} this benchmark expects"
                )
            layer.weight.data[...] = w  # the shared initial weights
            layer.bias.data[...] = b
            layers.append(layer)
            if i < len(params) - 1:
                layers.append(nn.ReLU())
        self.model = nn.Sequential(*layers)
        self.opt = optim.SGD(self.model.parameters(), lr=lr)
        self.batches = [(Tensor(x), y) for x, y in batches]

    def step(self, k: int) -> float:
        x, y = self.batches[k % len(self.batches)]
        loss = cross_entropy(self.model(x), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()

    def weights(self) -> list[np.ndarray]:
        return [p.data for p in self.model.parameters()]


class BackpropFunctionalToo(BackpropFunctional):
    """The functional variant timed beside the modules (`--ours both`), to show what
    `nn.Sequential` and `optim.SGD` cost over the bare functions."""

    name = "backprop-fn"


class TorchMLP(Contender):
    """PyTorch as its users write it: `nn.Sequential`, `F.cross_entropy`, `optim.SGD`."""

    name = "torch"

    def __init__(self, params: Params, batches: list, lr: float = LR) -> None:
        import torch

        self.torch = torch
        layers: list = []
        for i, (w, b) in enumerate(params):
            layer = torch.nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(w))
                layer.bias.copy_(torch.from_numpy(b))
            layers.append(layer)
            if i < len(params) - 1:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.loss_fn = torch.nn.functional.cross_entropy
        self.batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]

    def step(self, k: int) -> float:
        x, y = self.batches[k % len(self.batches)]
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss.item()

    def weights(self) -> list[np.ndarray]:
        return [p.detach().numpy() for p in self.model.parameters()]


class AutogradMLP(Contender):
    """HIPS autograd: `value_and_grad` of the loss written with `autograd.numpy`."""

    name = "autograd"

    def __init__(self, params: Params, batches: list, lr: float = LR) -> None:
        import autograd.numpy as anp
        from autograd import value_and_grad

        self.params = copy_params(params)
        self.batches = batches
        self.lr = lr
        rows = np.arange(batches[0][0].shape[0])
        last = len(params) - 1

        def loss(params: Params, x: np.ndarray, y: np.ndarray) -> float:
            h = x
            for i, (w, b) in enumerate(params):
                h = h @ w.T + b
                if i < last:
                    h = anp.maximum(h, 0)
            shifted = h - anp.max(h, axis=1, keepdims=True)
            return anp.mean(anp.log(anp.sum(anp.exp(shifted), axis=1)) - shifted[rows, y])

        self.value_and_grad = value_and_grad(loss)
        self.grads: Params = []

    def step(self, k: int) -> float:
        x, y = self.batches[k % len(self.batches)]
        loss, grads = self.value_and_grad(self.params, x, y)
        lr = self.lr
        for (w, b), (gw, gb) in zip(self.params, grads, strict=True):
            w -= lr * gw
            b -= lr * gb
        self.grads = grads
        return float(loss)

    def weights(self) -> list[np.ndarray]:
        return [p for pair in self.params for p in pair]


def available_contenders(
    ours: str = "auto", notes: list[str] | None = None
) -> list[type[Contender]]:
    """The contender classes that can run here, numpy first, ours second. `ours` picks
    our variant: "modules", "functional", "auto" (modules once they exist) or "both"
    (modules, and the functions as `backprop-fn`). Missing libraries are skipped with a
    line in `notes`."""
    notes = [] if notes is None else notes
    if ours == "auto":
        ours = "modules" if _tensor_modules_available() else "functional"
        if ours == "functional":
            notes.append(
                "backprop.nn.Linear/Sequential/ReLU with Tensor-aware optim.SGD not found: "
                "timing backprop through tensor.linear and an in-place SGD update"
            )
    classes: list[type[Contender]] = [NumpyMLP]
    classes.append(BackpropModules if ours in ("modules", "both") else BackpropFunctional)
    if ours == "both":
        classes.append(BackpropFunctionalToo)
    try:
        import torch  # noqa: F401

        classes.append(TorchMLP)
    except ImportError:
        notes.append("torch not installed (`make torch`): PyTorch skipped")
    try:
        import autograd  # noqa: F401

        classes.append(AutogradMLP)
    except ImportError:
        notes.append("autograd not installed (pip install -r bench/requirements.txt): skipped")
    return classes


# --------------------------------------------------------------------------- checks


@dataclass
class Check:
    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def fail(self, line: str) -> None:
        self.ok = False
        self.lines.append("MISMATCH: " + line)


def check_agreement(
    classes: Sequence[type[Contender]],
    params: Params,
    batches: list,
    steps: int = CHECK_STEPS,
) -> Check:
    """Run `steps` steps of every contender from `params`: the losses at every step and
    the weights after the last must match numpy's within float32 round-off."""
    check = Check()
    runs = {}
    for cls in classes:
        c = cls(params, batches)
        runs[cls.name] = ([c.step(k) for k in range(steps)], c.weights())
    ref_losses, ref_weights = runs[NumpyMLP.name]
    for name, (losses, weights) in runs.items():
        if name == NumpyMLP.name:
            continue
        worst = max(abs(a - b) / abs(b) for a, b in zip(losses, ref_losses, strict=True))
        if not worst <= LOSS_RTOL:
            check.fail(f"{name} losses {losses} differ from numpy's {ref_losses}")
        for i, (w, ref) in enumerate(zip(weights, ref_weights, strict=True)):
            if w.shape != ref.shape or not np.allclose(w, ref, WEIGHT_RTOL, WEIGHT_ATOL):
                diff = np.abs(w - ref).max() if w.shape == ref.shape else "shape"
                check.fail(f"{name} parameter {i} differs from numpy's (max |diff| {diff})")
        if check.ok:
            check.lines.append(f"{name}: same losses as numpy to {worst:.1e} over {steps} steps")
    return check


def check_float32(cls: type[Contender], params: Params, batches: list) -> Check:
    """After one step of our engine, every parameter and gradient is still float32."""
    check = Check()
    c = cls(params, batches)
    c.step(0)
    tensors = c.model.parameters() if isinstance(c, BackpropModules) else c.params
    for i, p in enumerate(tensors):
        grad = None if p.grad is None else p.grad.dtype
        if p.data.dtype != DTYPE or grad != DTYPE:
            check.fail(f"backprop parameter {i}: data {p.data.dtype}, grad {grad}")
    if check.ok:
        check.lines.append(f"backprop: all {len(tensors)} parameters and gradients float32")
    return check


# --------------------------------------------------------------------------- timing


def time_interleaved(
    contenders: Sequence[Contender], rounds: int, warmup: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Each round runs one step of every contender, the order rotated by one each
    round; returns the step times (seconds) after `warmup` rounds and the last losses."""
    times: dict[str, list[float]] = {c.name: [] for c in contenders}
    last: dict[str, float] = {}
    n = len(contenders)
    clock = time.perf_counter
    for r in range(warmup + rounds):
        for j in range(n):
            c = contenders[(r + j) % n]
            start = clock()
            loss = c.step(r)
            elapsed = clock() - start
            if r >= warmup:
                times[c.name].append(elapsed)
            last[c.name] = loss
    return times, last


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q2, q3


def bench_config(
    config: Config,
    classes: Sequence[type[Contender]],
    rounds: int,
    warmup: int,
) -> tuple[dict, Check]:
    """Check, then time one workload. Returns its JSON record and the checks."""
    params = init_params(config.sizes)
    batches = make_batches(config.sizes, config.batch)
    check = check_agreement(classes, params, batches)
    ours_cls = classes[1]
    f32 = check_float32(ours_cls, params, batches)
    check.ok &= f32.ok
    check.lines += f32.lines

    contenders = [cls(params, batches) for cls in classes]
    gc.collect()
    times, last = time_interleaved(contenders, rounds, warmup)
    # Same steps on the same batches: the last losses must still agree.
    ref = last[NumpyMLP.name]
    for name, loss in last.items():
        if abs(loss - ref) > 1e-3 * abs(ref):
            check.fail(f"{name} loss {loss} after the timed steps, numpy's {ref}")

    stats = {}
    for name, ts in times.items():
        q1, med, q3 = quartiles(ts)
        stats[name] = {"median_ms": med * 1e3, "q1_ms": q1 * 1e3, "q3_ms": q3 * 1e3}
    floor = stats[NumpyMLP.name]["median_ms"]
    ratios = {name: s["median_ms"] / floor for name, s in stats.items()}
    # The per-round ratio, whose median is less sensitive to load that drifts over the run.
    paired = {
        name: statistics.median(
            t / f for t, f in zip(times[name], times[NumpyMLP.name], strict=True)
        )
        for name in times
    }
    ours = ratios["backprop"]
    record = {
        "name": config.name,
        "sizes": list(config.sizes),
        "batch": config.batch,
        "rounds": rounds,
        "warmup": warmup,
        "stats": stats,
        "ratio_vs_numpy": ratios,
        "paired_ratio_vs_numpy": paired,
        "final_loss": last,
        "goal_vs_numpy": config.goal,
        "goal_vs_numpy_met": ours <= config.goal,
    }
    if "torch" in stats:
        record["ours_vs_torch"] = stats["backprop"]["median_ms"] / stats["torch"]["median_ms"]
        record["goal_vs_torch_met"] = record["ours_vs_torch"] < 1
    return record, check


# --------------------------------------------------------------------------- environment


def blas_threads() -> int | None:
    """The thread count of numpy's BLAS, from threadpoolctl (None without it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return int(pool["num_threads"])
    return None


def environment() -> dict:
    """Machine, versions, BLAS pools and the environment variables that steer them."""
    try:
        from threadpoolctl import threadpool_info

        keep = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads")
        pools = [{k: p.get(k) for k in keep if k in p} for p in threadpool_info()]
    except ImportError:
        pools = None
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    versions["backprop"] = backprop.__version__
    for module in ("torch", "autograd", "threadpoolctl"):
        try:
            mod = __import__(module)
            versions[module] = getattr(mod, "__version__", None)
        except ImportError:
            versions[module] = None
    if versions["autograd"] is None and "autograd" in sys.modules:
        from importlib.metadata import version

        versions["autograd"] = version("autograd")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "processor": _cpu_model(),
            "cpu_count": os.cpu_count(),
        },
        "versions": versions,
        "env": {name: os.environ.get(name) for name in ENV_VARS},
        "load_average_before": _load(),
        "blas": pools,
    }


def _load() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


# --------------------------------------------------------------------------- report


def print_config(record: dict, names: list[str]) -> None:
    print(f"\n{record['name']}  ({record['rounds']} rounds after {record['warmup']} warm-up)")
    print(f"  {'':10s} {'median':>10s} {'IQR':>19s} {'/numpy':>8s} {'paired':>8s}")
    for name in names:
        s = record["stats"][name]
        print(
            f"  {name:10s} {s['median_ms']:8.3f} ms  "
            f"[{s['q1_ms']:7.3f}, {s['q3_ms']:7.3f}] "
            f"{record['ratio_vs_numpy'][name]:7.2f}x "
            f"{record['paired_ratio_vs_numpy'][name]:7.2f}x"
        )
    ours = record["ratio_vs_numpy"]["backprop"]
    mark = "met" if record["goal_vs_numpy_met"] else "MISSED"
    print(f"  goal backprop/numpy <= {record['goal_vs_numpy']}: {ours:.2f}x  {mark}")
    if "ours_vs_torch" in record:
        mark = "met" if record["goal_vs_torch_met"] else "MISSED"
        print(
            f"  goal backprop faster than torch: {record['ours_vs_torch']:.2f}x torch's time"
            f"  {mark}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, help="timed rounds per workload (default: 250/600/1500)"
    )
    parser.add_argument("--warmup", type=int, help="untimed rounds first (default: rounds // 10)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the default rounds")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--ours",
        choices=("auto", "modules", "functional", "both"),
        default="auto",
        help="how our engine is driven (default: nn modules and optim.SGD when they exist; "
        "both: time the bare functions too, as backprop-fn)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="limit numpy's BLAS to this many threads (torch gets as many); default: as found",
    )
    parser.add_argument(
        "--only", action="append", default=[], help="run the workloads whose name contains this"
    )
    args = parser.parse_args(argv)

    restore: list = []  # undo the thread settings on the way out (for callers like tests)
    try:
        return _run(args, parser, restore)
    finally:
        for undo in reversed(restore):
            undo()


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser, restore: list) -> int:
    notes: list[str] = []
    classes = available_contenders(args.ours, notes)
    if args.threads is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            parser.error("--threads needs threadpoolctl (pip install -r bench/requirements.txt)")
        limits = threadpool_limits(limits=args.threads, user_api="blas")
        restore.append(limits.restore_original_limits)
        notes.append(f"--threads {args.threads}: numpy's BLAS limited to {args.threads}")
    threads = blas_threads()
    if TorchMLP in classes:
        import torch

        if threads is not None:
            restore.append(functools.partial(torch.set_num_threads, torch.get_num_threads()))
            torch.set_num_threads(threads)
        else:
            notes.append("threadpoolctl not installed: torch keeps its default thread count")
    info = environment()  # after torch is imported, so its thread pools show too
    ours_cls = classes[1]

    print("backprop Tensor engine: one MLP training step, float32 (interleaved medians)")
    m = info["machine"]
    print(f"machine: {m['processor']}, {m['cpu_count']} CPUs, {m['platform']}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v))
    for pool in info["blas"] or []:
        print("thread pool: " + ", ".join(f"{k}={pool[k]}" for k in pool if pool[k] is not None))
    if info["blas"] is None:
        print("thread pool: unknown (threadpoolctl not installed)")
    print(
        "environment: "
        + ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in info["env"].items())
    )
    if TorchMLP in classes:
        import torch

        print(f"torch threads: {torch.get_num_threads()} (numpy's BLAS: {threads})")
    print(f"backprop driven by: {ours_cls.variant}")
    load = info["load_average_before"]
    if load is not None:
        print(f"load average: {load[0]} {load[1]} {load[2]} on {m['cpu_count']} CPUs")
        if load[0] > 0.75 * (m["cpu_count"] or 1):
            notes.append(
                "the machine is busy: other processes compete for the CPUs, which slows "
                "multi-threaded BLAS and OpenMP (torch) most; the times are not representative "
                "(try again when it is quiet, or compare with --threads 1)"
            )
    for note in notes:
        print("note: " + note)

    ok = True
    records = []
    configs = [c for c in CONFIGS if not args.only or any(o in c.name for o in args.only)]
    if not configs:
        parser.error(f"--only matches none of {[c.name for c in CONFIGS]}")
    for config in configs:
        rounds = args.rounds or (config.rounds // 10 if args.quick else config.rounds)
        rounds = max(rounds, 2)
        warmup = args.warmup if args.warmup is not None else max(rounds // 10, 2)
        record, check = bench_config(config, classes, rounds, warmup)
        records.append(record)
        print_config(record, [cls.name for cls in classes])
        for line in check.lines:
            print("  check " + line)
        ok &= check.ok

    print("\nsummary (backprop's median step time over the others'):")
    for r in records:
        parts = [f"{r['ratio_vs_numpy']['backprop']:.2f}x numpy (goal {r['goal_vs_numpy']})"]
        if "ours_vs_torch" in r:
            parts.append(f"{r['ours_vs_torch']:.2f}x torch (goal < 1)")
        if "autograd" in r["stats"]:
            ag = r["stats"]["backprop"]["median_ms"] / r["stats"]["autograd"]["median_ms"]
            parts.append(f"{ag:.2f}x autograd")
        print(f"  {r['name']:22s} " + ", ".join(parts))
    missed = [r["name"] for r in records if not r["goal_vs_numpy_met"]]
    missed += [f"{r['name']} vs torch" for r in records if r.get("goal_vs_torch_met") is False]
    print("speed goals: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    print("correctness: " + ("all contenders agree" if ok else "MISMATCH (see above)"))

    if args.json:
        result = {
            **info,
            "backprop_variant": ours_cls.variant,
            "torch_threads": threads if TorchMLP in classes else None,
            "lr": LR,
            "dtype": "float32",
            "notes": notes,
            "load_average_after": _load(),
            "configs": records,
            "speed_goals_met": not missed,
            "correct": ok,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
