"""The committed benchmark results and bench/bench.py: the results are present and well
formed (the pages print every number they show from them), the schema check rejects
broken data, and the benchmark still runs end to end (with a stand-in for micrograd) and
writes a record that passes the same check."""

from __future__ import annotations

import copy
import datetime
import importlib.util
import json
import math
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "bench" / "results"

DOCS = ROOT / "docs"

SLOW = DOCS / "explanation" / "why-naive-is-slow.md"

TRAIN = DOCS / "how-to" / "train-on-your-data.md"

DEBUG = DOCS / "how-to" / "debug-gradients.md"

CONTENDERS = ("micrograd", "backprop-unfused", "backprop", "tensor")


def _positive(record: dict, key: str, where: str) -> float:
    value = record.get(key)
    assert isinstance(value, int | float) and not isinstance(value, bool), (
        f"{where}.{key} must be a number, got {value!r}"
    )
    assert math.isfinite(value) and value > 0, f"{where}.{key} must be positive, got {value!r}"
    return value


def _string(record: dict, key: str, where: str) -> str:
    value = record.get(key)
    assert isinstance(value, str) and value, f"{where}.{key} must be a non-empty string"
    return value


def _date(record: dict) -> None:
    stamp = _string(record, "date", "record")
    parsed = datetime.datetime.fromisoformat(stamp)
    assert parsed.tzinfo is not None, f"date {stamp!r} has no time zone"


def _machine_and_versions(record: dict, versions: tuple[str, ...]) -> None:
    machine = record.get("machine")
    assert isinstance(machine, dict), "machine must be an object"
    _string(machine, "platform", "machine")
    count = machine.get("cpu_count")
    assert isinstance(count, int) and count >= 1, f"machine.cpu_count: {count!r}"
    found = record.get("versions")
    assert isinstance(found, dict), "versions must be an object"
    for name in versions:
        _string(found, name, "versions")


def check_scalar_results(record: dict) -> None:
    """Raise AssertionError naming the first problem of a bench/bench.py --json record."""
    assert isinstance(record, dict), "the record must be a JSON object"
    assert record.get("schema") == 1 and record.get("benchmark") == "scalar"
    _date(record)
    _machine_and_versions(record, ("python", "implementation", "backprop", "micrograd", "numpy"))
    assert isinstance(record.get("ok"), bool) and isinstance(record.get("failures"), list)
    gc_info = record.get("gc")
    assert isinstance(gc_info, dict) and isinstance(gc_info.get("enabled"), bool)
    assert isinstance(gc_info.get("threshold"), list) and gc_info["threshold"]
    settings = record.get("settings")
    assert isinstance(settings, dict), "settings must be an object"
    steps = settings.get("steps")
    assert isinstance(steps, int) and steps >= 1, f"settings.steps: {steps!r}"
    for key in ("points", "chain", "alpha"):
        _positive(settings, key, "settings")
    assert isinstance(settings.get("sizes"), list) and len(settings["sizes"]) >= 2

    demo = record.get("demo")
    assert isinstance(demo, dict), "demo must be an object"
    contenders = demo.get("contenders")
    assert isinstance(contenders, list), "demo.contenders must be a list"
    assert tuple(c.get("name") for c in contenders) == CONTENDERS, "contenders, in order"
    for c in contenders:
        where = f"demo.contenders[{c['name']}]"
        _string(c, "description", where)
        nodes = c.get("nodes_per_step")
        assert isinstance(nodes, int) and nodes >= 1, f"{where}.nodes_per_step: {nodes!r}"
        for key in ("median_s", "q1_s", "q3_s", "mean_s", "cpu_median_s", "cpu_q1_s"):
            _positive(c, key, where)
        for key in ("cpu_q3_s", "cpu_mean_s", "final_loss"):
            _positive(c, key, where)
        assert c["q1_s"] <= c["median_s"] <= c["q3_s"], f"{where}: quartiles out of order"
        assert c["cpu_q1_s"] <= c["cpu_median_s"] <= c["cpu_q3_s"], f"{where}: CPU quartiles"
        for key in ("gc_median_s", "gc_cpu_median_s", "collections_per_step"):
            value = c.get(key)
            assert isinstance(value, int | float) and value >= 0, f"{where}.{key}: {value!r}"
        assert c["gc_cpu_median_s"] <= c["cpu_median_s"], f"{where}: collector > step"
        share = c.get("gc_cpu_share")
        assert isinstance(share, int | float) and 0 <= share <= 1, f"{where}.gc_cpu_share"
        accuracy = c.get("final_accuracy")
        assert isinstance(accuracy, int | float) and 0 <= accuracy <= 1, f"{where}: accuracy"
        diff = c.get("max_loss_diff_vs_micrograd")
        assert isinstance(diff, int | float) and diff >= 0, f"{where}: loss difference"
        for key in ("step_seconds", "step_cpu_seconds", "step_gc_cpu_seconds"):
            series = c.get(key)
            assert isinstance(series, list) and len(series) == steps, f"{where}.{key}"
            assert all(isinstance(t, int | float) and t >= 0 for t in series), f"{where}.{key}"
        assert all(t > 0 for t in c["step_seconds"]), f"{where}: a step took no time"
    _positive(demo, "ratio_backprop_over_micrograd", "demo")
    _positive(demo, "ratio_goal", "demo")
    _positive(demo, "trajectory_tolerance", "demo")
    assert isinstance(demo.get("ratio_goal_met"), bool)

    chain = record.get("chain")
    assert isinstance(chain, dict), "chain must be an object"
    for key in ("operations", "nodes", "forward_s", "backward_s", "cpu_s", "peak_bytes"):
        _positive(chain, key, "chain")
    for key in ("bytes_per_node", "bytes_goal", "seconds_goal"):
        _positive(chain, key, "chain")
    assert isinstance(chain.get("dx"), float) and isinstance(chain.get("dx_forward_mode"), float)


def check_tensor_results(record: dict) -> None:
    """Raise AssertionError naming the first problem of a bench_tensor.py --json record,
    for the keys the explanation page reads."""
    assert isinstance(record, dict), "the record must be a JSON object"
    _date(record)
    _machine_and_versions(record, ("python", "numpy", "backprop"))
    configs = record.get("configs")
    assert isinstance(configs, list) and configs, "configs must be a non-empty list"
    for c in configs:
        where = f"configs[{c.get('name')!r}]"
        _string(c, "name", where)
        sizes = c.get("sizes")
        assert isinstance(sizes, list) and all(isinstance(n, int) and n > 0 for n in sizes)
        assert isinstance(c.get("batch"), int) and c["batch"] > 0, f"{where}.batch"
        stats = c.get("stats")
        assert isinstance(stats, dict) and {"numpy", "backprop"} <= set(stats), f"{where}"
        for name, s in stats.items():
            for key in ("median_ms", "q1_ms", "q3_ms"):
                _positive(s, key, f"{where}.stats[{name}]")
            assert s["q1_ms"] <= s["median_ms"] <= s["q3_ms"], f"{where}.stats[{name}]"
        ratios = c.get("ratio_vs_numpy")
        assert isinstance(ratios, dict) and set(ratios) == set(stats), f"{where}.ratios"
        for name in ratios:
            _positive(ratios, name, f"{where}.ratio_vs_numpy")


def test_the_committed_scalar_results_are_present_and_well_formed() -> None:
    path = RESULTS / "scalar.json"
    assert path.is_file(), "bench/results/scalar.json is missing: run bench/bench.py --json"
    record = json.loads(path.read_text())
    check_scalar_results(record)
    assert record["ok"], record["failures"]


def test_the_committed_tensor_results_are_present_and_well_formed() -> None:
    path = RESULTS / "tensor.json"
    assert path.is_file(), "bench/results/tensor.json is missing: run bench_tensor.py --json"
    record = json.loads(path.read_text())
    check_tensor_results(record)
    assert isinstance(record.get("dtype"), str)  # printed by the page


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r.pop("date"),
        lambda r: r["machine"].pop("cpu_count"),
        lambda r: r["versions"].pop("micrograd"),
        lambda r: r["demo"]["contenders"][0].update(cpu_median_s=-1.0),
        lambda r: r["demo"]["contenders"][1].update(median_s="fast"),
        lambda r: r["demo"]["contenders"][2].update(nodes_per_step=0),
        lambda r: r["demo"]["contenders"][3].update(gc_cpu_share=1.5),
        lambda r: r["demo"]["contenders"].pop(),
        lambda r: r["demo"]["contenders"][0]["step_seconds"].pop(),
        lambda r: r["chain"].update(bytes_per_node=float("nan")),
        lambda r: r["chain"].pop("forward_s"),
    ],
)
def test_the_schema_check_rejects_broken_scalar_results(damage) -> None:
    record = json.loads((RESULTS / "scalar.json").read_text())
    broken = copy.deepcopy(record)
    damage(broken)
    with pytest.raises((AssertionError, KeyError, TypeError)):
        check_scalar_results(broken)


def test_the_schema_check_rejects_broken_tensor_results() -> None:
    good = {
        "date": "2026-01-01T00:00:00+00:00",
        "machine": {"platform": "Linux", "cpu_count": 2},
        "versions": {"python": "3.11.7", "numpy": "2.4.6", "backprop": "0.1.0"},
        "configs": [
            {
                "name": "4-3 b2",
                "sizes": [4, 3],
                "batch": 2,
                "stats": {
                    "numpy": {"median_ms": 1.0, "q1_ms": 0.9, "q3_ms": 1.1},
                    "backprop": {"median_ms": 2.0, "q1_ms": 1.9, "q3_ms": 2.1},
                },
                "ratio_vs_numpy": {"numpy": 1.0, "backprop": 2.0},
            }
        ],
    }
    check_tensor_results(good)
    for damage in (
        lambda r: r.pop("configs"),
        lambda r: r["configs"][0]["stats"]["backprop"].update(median_ms=0.0),
        lambda r: r["configs"][0]["stats"].pop("numpy"),
        lambda r: r["machine"].pop("platform"),
    ):
        broken = copy.deepcopy(good)
        damage(broken)
        with pytest.raises((AssertionError, KeyError, TypeError)):
            check_tensor_results(broken)


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_scalar", ROOT / "bench" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scalar"] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["bench_scalar"]


def _initial_weights(n: int = 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1) -> list[float]:
    rng = random.Random(1337)
    return [rng.uniform(-1, 1) for _ in range(n)]


def test_our_three_engines_follow_the_same_trajectory(bench) -> None:
    X, Y = bench.moons()
    initial = _initial_weights()
    runs = {
        "backprop-unfused": bench.run_backprop_unfused(X, Y, 3, initial),
        "backprop": bench.run_backprop(X, Y, 3, initial),
        "tensor": bench.run_tensor(X, Y, 3, initial),
    }
    reference = runs["backprop-unfused"]["losses"]
    for name, run in runs.items():
        assert len(run["losses"]) == len(run["seconds"]) == len(run["gc_cpu"]) == 3
        assert max(abs(a - b) for a, b in zip(run["losses"], reference, strict=True)) < 1e-12
        record = bench.summarise(name, run, reference)
        assert record["nodes_per_step"] == run["nodes"] and record["median_s"] > 0
    # The fused graph is several times smaller; the tensor graph a few dozen nodes.
    nodes = {name: run["nodes"] for name, run in runs.items()}
    assert nodes["backprop-unfused"] > 5 * nodes["backprop"] > 5 * nodes["tensor"]
    assert nodes["tensor"] < 100


def test_the_micrograd_shaped_graph_has_micrograd_s_node_count(bench) -> None:
    """backprop-unfused claims to build micrograd's graph node for node: count both for
    one neuron, written as micrograd writes it (micrograd's own Value when installed)."""
    from backprop import Value

    ws = [Value(0.5), Value(-1.0)]
    xs = [Value(2.0), Value(3.0)]
    act = sum((w * x for w, x in zip(ws, xs, strict=True)), Value(0.1)).relu()
    ours = bench.count_nodes(act, "_children")
    assert ours == 2 + 2 + 1 + 2 * 2 + 1  # leaves, 2 products, 2 sums, relu
    try:
        from micrograd.engine import Value as MValue
    except ImportError:
        return
    mws, mxs = [MValue(0.5), MValue(-1.0)], [MValue(2.0), MValue(3.0)]
    mact = sum((w * x for w, x in zip(mws, mxs, strict=True)), MValue(0.1)).relu()
    assert bench.count_nodes(mact, "_prev") == ours


def test_the_tensor_weights_are_micrograd_s_layout(bench) -> None:
    initial = _initial_weights()
    arrays = bench.tensor_parameters(initial)
    assert [a.shape for a in arrays] == [(16, 2), (16,), (16, 16), (16,), (1, 16), (1,)]
    assert list(arrays[0][0]) == initial[:2] and arrays[1][0] == initial[2]  # neuron 0
    assert list(arrays[0][1]) == initial[3:5] and arrays[1][1] == initial[5]  # neuron 1


def test_the_benchmark_writes_a_record_that_passes_the_schema_check(
    bench, tmp_path, monkeypatch
) -> None:
    """main() end to end on tiny sizes, with our unfused run standing in for micrograd
    (not installed in CI); the record it writes must pass the page's schema check."""

    def stand_in(X, Y):
        initial = _initial_weights()
        return (*bench.backprop_unfused_demo(X, Y, initial), initial)

    monkeypatch.setattr(bench, "micrograd_demo", stand_in)
    real_version = bench._version
    monkeypatch.setattr(  # micrograd itself may not be installed (CI installs no bench deps)
        bench, "_version", lambda p: "stand-in" if p == "micrograd" else real_version(p)
    )
    out = tmp_path / "scalar.json"
    status = bench.main(["--steps", "2", "--chain", "1000", "--json", str(out)])
    record = json.loads(out.read_text())
    check_scalar_results(record)
    # The ratio goal cannot hold against a stand-in this fast; everything else must.
    assert all("ratio" in f for f in record["failures"]), record["failures"]
    assert status == (1 if record["failures"] else 0)
    assert record["settings"]["steps"] == 2 and record["chain"]["operations"] == 1000
