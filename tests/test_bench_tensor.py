"""Smoke test of bench/bench_tensor.py: its whole code path on tiny sizes, two steps.

No timing is asserted (this machine is shared); the test only keeps the benchmark from
rotting: every contender that is installed runs, agrees with hand-written numpy, and the
JSON record has what the results page reads.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_tensor", ROOT / "bench" / "bench_tensor.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_tensor"] = module  # dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["bench_tensor"]


def _variants(bench) -> list[str]:
    return ["functional", "modules"] if bench._tensor_modules_available() else ["functional"]


def test_contenders_agree_on_tiny_sizes(bench):
    params = bench.init_params((6, 5, 4, 3))
    batches = bench.make_batches((6, 5, 4, 3), batch=4, n=2)
    for ours in _variants(bench):
        classes = bench.available_contenders(ours)
        assert classes[0] is bench.NumpyMLP and classes[1].name == "backprop"
        check = bench.check_agreement(classes, params, batches, steps=2)
        assert check.ok, check.lines
        f32 = bench.check_float32(classes[1], params, batches)
        assert f32.ok, f32.lines


def test_a_wrong_contender_is_caught(bench):
    class WrongRate(bench.NumpyMLP):
        name = "wrong"

        def __init__(self, params, batches, lr=bench.LR):
            super().__init__(params, batches, lr=2 * lr)

    params = bench.init_params((6, 5, 3))
    batches = bench.make_batches((6, 5, 3), batch=4, n=2)
    check = bench.check_agreement([bench.NumpyMLP, WrongRate], params, batches, steps=3)
    assert not check.ok
    assert any("wrong" in line for line in check.lines)


def test_numpy_floor_matches_a_finite_difference(bench):
    """The hand-written backward pass is right: its first SGD step moves one weight by
    `-lr * dL/dw`, with `dL/dw` checked by a central difference in float64."""
    params = [(w.astype(np.float64), b.astype(np.float64)) for w, b in bench.init_params((5, 4, 3))]
    ((x, y),) = bench.make_batches((5, 4, 3), batch=3, n=1)
    x = x.astype(np.float64)

    def loss(ps):
        m = bench.NumpyMLP(ps, [(x, y)], lr=0.0)
        return m.step(0)

    m = bench.NumpyMLP(params, [(x, y)], lr=1.0)
    m.step(0)
    analytic = params[0][0][1, 2] - m.w[0][1, 2]  # lr = 1: the step is the gradient
    h = 1e-6
    up, down = bench.copy_params(params), bench.copy_params(params)
    up[0][0][1, 2] += h
    down[0][0][1, 2] -= h
    numeric = (loss(up) - loss(down)) / (2 * h)
    assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("ours", ["auto", "functional"])
def test_main_runs_end_to_end_and_writes_json(bench, monkeypatch, tmp_path, capsys, ours):
    tiny = (bench.Config((6, 5, 4, 3), 4, 1.25, 2), bench.Config((6, 3), 2, 2.0, 2))
    monkeypatch.setattr(bench, "CONFIGS", tiny)
    out = tmp_path / "results" / "tensor.json"
    status = bench.main(["--rounds", "2", "--warmup", "1", "--ours", ours, "--json", str(out)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "correctness: all contenders agree" in printed
    assert "speed goals:" in printed and "OPENBLAS_CORETYPE=" in printed
    result = json.loads(out.read_text())
    assert result["correct"] is True
    assert result["machine"]["cpu_count"] >= 1 and result["versions"]["numpy"] == np.__version__
    assert set(result["env"]) >= {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}
    names = [c["name"] for c in result["configs"]]
    assert names == ["6-5-4-3 b4", "6-3 b2"]
    for record in result["configs"]:
        assert record["ratio_vs_numpy"]["numpy"] == 1.0
        assert set(record["stats"]) >= {"numpy", "backprop"}
        for stats in record["stats"].values():
            assert 0 < stats["q1_ms"] <= stats["median_ms"] <= stats["q3_ms"]
        assert isinstance(record["goal_vs_numpy_met"], bool)


def test_threads_option_limits_numpy_and_torch(bench, monkeypatch, tmp_path, capsys):
    pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(bench, "CONFIGS", (bench.Config((6, 3), 2, 2.0, 2),))
    out = tmp_path / "r.json"
    assert bench.main(["--rounds", "2", "--threads", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "--threads 1: numpy's BLAS limited to 1" in printed
    result = json.loads(out.read_text())
    assert all(p["num_threads"] == 1 for p in result["blas"] if p["user_api"] == "blas")
