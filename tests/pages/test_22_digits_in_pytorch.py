"""Page 22, the digits classifier in PyTorch: what its code blocks cannot check themselves.

The page's own blocks assert its numbers (the same scores, curves and test predictions on
both sides). Here: the PyTorch blocks show exactly the code they run; the page still runs,
block by block, where PyTorch is not installed (the site is built without it); it covers
the PyTorch idioms it promises, side by side with ours; and its sections and links are in
place.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

from docs_harness import scan_fences

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "tutorial" / "22-digits-in-pytorch.md"
HIDE = "markdown-exec: hide"
WRAPPED = re.compile(r"exec\(compile\(r'''  # " + re.escape(HIDE) + r"\n(.*?)\n''', ", re.S)


def _text() -> str:
    return PAGE.read_text("utf8")


def _python_fences() -> list:
    return [f for f in scan_fences(_text()) if f.is_python]


def _shown(content: str) -> str:
    """What markdown-exec displays: the block without its hidden lines."""
    return "\n".join(line for line in content.split("\n") if HIDE not in line).strip()


def test_every_wrapped_block_shows_exactly_the_code_it_runs() -> None:
    wrapped = [f for f in _python_fences() if WRAPPED.search(f.content)]
    assert len(wrapped) >= 8
    for fence in wrapped:
        runs = "\n".join(m.group(1) for m in WRAPPED.finditer(fence.content))
        shown = _shown(fence.content)
        assert runs.strip() in shown, fence.opener_line
        # nothing PyTorch runs outside the wrapper, so the block cannot fail without it
        outside = WRAPPED.sub("", fence.content)
        assert not re.search(r"\b(torch|nn|F|DataLoader|Digits|theirs)\.", outside), (
            fence.opener_line
        )


def test_every_block_runs_without_pytorch() -> None:
    """As the site build and `make test` do where PyTorch is not installed."""
    script = textwrap.dedent(
        f"""
        import importlib.abc, importlib.util, sys
        sys.path.insert(0, {str(ROOT / "tests")!r})

        class NoTorch(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] == "torch":
                    raise ImportError("PyTorch is hidden for this test")

        sys.meta_path.insert(0, NoTorch())
        find_spec = importlib.util.find_spec
        importlib.util.find_spec = lambda n, *a: (
            None if n.split(".")[0] == "torch" else find_spec(n, *a)
        )
        from docs_harness import scan_fences

        sessions = {{}}
        text = open({str(PAGE)!r}, encoding="utf8").read()
        for fence in scan_fences(text):
            if fence.is_python:
                session = fence.options.get("session")
                scope = sessions.setdefault(session, {{}}) if session else {{}}
                exec(compile(fence.content, f"line {{fence.opener_line + 1}}", "exec"), scope)
        assert "torch" not in sys.modules
        print("not installed:", sum(1 for s in sessions.values() if s.get("torch") is None))
        """
    )
    env = {"MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "PATH": ""}
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "not installed: 2" in proc.stdout  # both sessions noticed and went on


def test_it_covers_the_idioms_it_promises() -> None:
    code = "\n".join(_shown(f.content) for f in _python_fences())
    for idiom in (
        r"class \w+\(nn\.Module\):",
        r"def __init__\(self",
        r"def forward\(self, x\)",
        r"class \w+\(Dataset\):",
        r"DataLoader\(",
        r"\.train\(\)",
        r"\.eval\(\)",
        r"torch\.manual_seed\(",
        r"\.state_dict\(\)",
        r"load_state_dict\(",
        r"\.to\(device\)",
        r"lr_scheduler\.\w+\(",
        r"clip_grad_norm_\(",
        r"dtype=torch\.long",
        r"\.view\(",
        r"\.unsqueeze\(0\)",
        r"dim=1",
        r"\.double\(\)",
    ):
        assert re.search(idiom, code), idiom


def test_the_two_sides_sit_in_content_tabs() -> None:
    text = _text()
    ours = [m.start() for m in re.finditer(r'^=== "backprop"$', text, re.M)]
    theirs = [m.start() for m in re.finditer(r'^=== "PyTorch"$', text, re.M)]
    assert len(ours) == len(theirs) >= 3
    assert all(a < b for a, b in zip(ours, theirs, strict=True))


def test_sections_in_order_and_the_test_set_last() -> None:
    headings = re.findall(r"^## (.+)$", _text(), re.M)
    order = ["The data", "The model", "Dataset", "The loop", "The test set", "Exercises", "Next"]
    positions = [next(i for i, h in enumerate(headings) if key in h) for key in order]
    assert positions == sorted(positions), headings
    # the test images reach a model only in the section about the test set and after it
    text = _text()
    test_section = text.index("## The test set")
    looks = list(re.finditer(r"(?<![\w.])(?!len\(|Digits\()\w+\((?:Z_test|test_set\.)", text))
    assert len(looks) == 2  # ours, then theirs
    for m in looks:
        assert test_section < m.start() < text.index("## Saving and loading"), m.group(0)


def test_the_capstone_is_the_last_exercise_and_checks_both_engines() -> None:
    text = _text()
    exercises = re.findall(r'^\?\?\? question "(Exercise [^"]+)"', text, re.M)
    assert len(exercises) >= 3 and "capstone" in exercises[-1]
    capstone = text[text.index(exercises[-1]) :]
    assert "tanh" in capstone and "log_softmax" in capstone and "retain_grad" in capstone
    code = "\n".join(f.content for f in scan_fences(capstone) if f.is_python)
    assert "def cmp(name, ours, reference)" in code
    calls = re.findall(r"cmp\(name, g\[name\], (\w+)\[name\]\.grad", code)
    assert calls == ["t", "T"]  # the engine's tensors, then PyTorch's
    for name in ("A", "S", "W2", "b2", "H", "U", "W1", "b1"):
        assert f'"{name}"' in code


def test_links_to_the_notebook_and_the_next_page() -> None:
    text = _text()
    head = text[:1500]
    assert "**Prerequisites:**" in head and "(../notebooks/digits.py)" in head
    next_section = text[text.index("## Next") :]
    assert "(23-the-whole-path.md)" in next_section
    for target in re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", text):
        assert (PAGE.parent / target).resolve().exists(), target
