"""The conv2d benchmark (bench/bench_conv.py): its committed results are well formed and
meet the goal they record, and the script still runs end to end and agrees with numpy."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_conv", ROOT / "bench" / "bench_conv.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_conv"] = module
    spec.loader.exec_module(module)
    return module


def test_the_committed_results_cover_the_issues_sizes_and_meet_the_goal() -> None:
    record = json.loads((ROOT / "bench" / "results" / "conv.json").read_text())
    names = [c["name"] for c in record["configs"]]
    assert any("digits" in n for n in names) and any("28x28" in n for n in names)
    for c in record["configs"]:
        ratio = c["paired_ratio_vs_numpy"]["backprop"]
        assert c["goal_met"] == (ratio <= c["goal_vs_numpy"] == 1.3), c
    assert record["goals_met"] and record["load_average_before"] is not None


def test_the_benchmark_runs_and_checks_its_contenders_first(tmp_path: Path) -> None:
    bench = _bench()
    small = bench.Config("tiny", 2, 2, 3, 5)
    result = bench.bench(small, rounds=5, use_torch=False)
    assert set(result["paired_ratio_vs_numpy"]) == {"numpy", "backprop"}
    assert result["paired_ratio_vs_numpy"]["numpy"] == 1.0
