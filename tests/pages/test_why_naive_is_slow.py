"""Why a naive engine is slow: every number it shows is printed at build time from the
committed benchmark results."""

from __future__ import annotations

import datetime
import importlib.util
import math
import random
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

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


def _prose(path: Path) -> str:
    """The page without its code blocks, inline code, links' targets and math."""
    text = re.sub(r"^(\s*)(```|~~~).*?^\1\2\s*$", "", path.read_text(), flags=re.S | re.M)
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "", text, flags=re.S)
    return text


def test_the_explanation_types_no_number_by_hand() -> None:
    """Every number the page shows is printed by a build-time block: its prose has no
    digits at all (names like 'micrograd' or 'L2' are the only exceptions)."""
    prose = _prose(SLOW).replace("L2", "L")
    assert re.findall(r"\d", prose) == [], re.findall(r".{30}\d.{30}", prose)


def test_the_explanation_renders_the_results_at_build_time() -> None:
    text = SLOW.read_text()
    assert 'find_results("scalar.json")' in text and 'find_results("tensor.json")' in text
    assert text.count('exec="on"') >= 8
