"""Benchmark `backprop.tensor.conv2d`, forward and backward, against the same im2col
written by hand in numpy (no graph at all: the floor) and against PyTorch.

One step is a forward pass, a backward pass from a fixed upstream gradient, and the three
gradients (input, kernel, bias). The contenders take turns (one step each per round, the
order rotated every round), and the ratio reported is the median, over rounds, of our
time over numpy's in the same round, so a slow moment of a shared machine slows both.
The goal (issue 20): at most 1.3x hand-written numpy, at the digits CNN's sizes and at
batch 64, 32 channels, 28x28. The load average is recorded before and after.

    python bench/bench_conv.py [--rounds N] [--threads 1] [--json PATH] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tensor import _load, blas_threads, environment

from backprop import Tensor
from backprop.tensor import conv2d

GOAL = 1.3


@dataclass(frozen=True)
class Config:
    name: str
    batch: int
    c_in: int
    c_out: int
    size: int
    kernel: int = 3
    padding: int = 1


CONFIGS = [
    Config("digits CNN, first layer", 32, 1, 8, 8),
    Config("digits CNN, second layer", 32, 8, 16, 4),
    Config("batch 64, 32 channels, 28x28", 64, 32, 32, 28),
]


def numpy_step(x: np.ndarray, w: np.ndarray, b: np.ndarray, g: np.ndarray, p: int):
    """im2col by hand: the windows as a matrix, one product; col2im by kernel offsets."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    ho, wo = win.shape[2], win.shape[3]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)
    w2 = w.reshape(o, -1)
    out = (cols @ w2.T + b).reshape(n, ho, wo, o).transpose(0, 3, 1, 2)
    g2 = g.transpose(0, 2, 3, 1).reshape(-1, o)
    gw = (g2.T @ cols).reshape(w.shape)
    gb = g.sum(axis=(0, 2, 3))
    gcols = (g2 @ w2).reshape(n, ho, wo, c, kh, kw).transpose(0, 3, 1, 2, 4, 5)
    gxp = np.zeros_like(xp)
    for i in range(kh):
        for j in range(kw):
            gxp[:, :, i : i + ho, j : j + wo] += gcols[:, :, :, :, i, j]
    return out, gxp[:, :, p : p + h, p : p + wd], gw, gb


def backprop_step(x, w, b, g, p):
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    out = conv2d(xt, wt, bt, padding=p)
    out.backward(g)
    return out.data, xt.grad, wt.grad, bt.grad


def torch_step(x, w, b, g, p):
    import torch

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = torch.nn.functional.conv2d(xt, wt, bt, padding=p)
    out.backward(torch.from_numpy(g))
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def bench(config: Config, rounds: int, use_torch: bool) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(config.batch, config.c_in, config.size, config.size))
    w = rng.normal(size=(config.c_out, config.c_in, config.kernel, config.kernel))
    b = rng.normal(size=config.c_out)
    g = rng.normal(size=(config.batch, config.c_out, config.size, config.size))
    steps = {"numpy": numpy_step, "backprop": backprop_step}
    if use_torch:
        steps["torch"] = torch_step
    reference = numpy_step(x, w, b, g, config.padding)
    for name, step in steps.items():  # the same numbers first, then the clock
        for got, want in zip(step(x, w, b, g, config.padding), reference, strict=True):
            assert np.allclose(got, want, rtol=1e-9, atol=1e-9), name
    times: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for r in range(rounds + rounds // 10):
        for j in range(len(names)):
            name = names[(r + j) % len(names)]
            start = time.perf_counter()
            steps[name](x, w, b, g, config.padding)
            if r >= rounds // 10:
                times[name].append(time.perf_counter() - start)
    paired = {
        name: statistics.median(t / u for t, u in zip(times[name], times["numpy"], strict=True))
        for name in names
    }
    return {
        "name": config.name,
        "shape": [config.batch, config.c_in, config.size, config.size],
        "kernel": [config.c_out, config.c_in, config.kernel, config.kernel],
        "rounds": rounds,
        "median_ms": {n: 1e3 * statistics.median(t) for n, t in times.items()},
        "paired_ratio_vs_numpy": paired,
        "goal_vs_numpy": GOAL,
        "goal_met": paired["backprop"] <= GOAL,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="a tenth of the rounds")
    parser.add_argument("--threads", type=int, default=None, help="BLAS (and torch) threads")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    rounds = max(5, args.rounds // 10) if args.quick else args.rounds
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    try:
        import torch

        use_torch = True
        if args.threads:
            torch.set_num_threads(args.threads)
    except ImportError:
        use_torch = False
    record = {**environment(), "blas_threads": blas_threads(), "configs": []}
    for config in CONFIGS:
        result = bench(config, rounds, use_torch)
        record["configs"].append(result)
        ratios = ", ".join(f"{n} {r:.2f}x" for n, r in result["paired_ratio_vs_numpy"].items())
        print(
            f"{config.name:32s} {ratios}  goal {GOAL}: {'met' if result['goal_met'] else 'MISSED'}"
        )
    record["load_average_after"] = _load()
    record["goals_met"] = all(c["goal_met"] for c in record["configs"])
    if args.json:
        args.json.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
