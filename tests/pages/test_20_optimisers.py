"""Page 20, optimisers: what it says about PyTorch's optimisers, schedules and clipping.

The page says that `backprop.optim.Adam` has the defaults of `torch.optim.Adam`; that
`torch.optim.SGD`'s rules are ours plus `dampening` and `nesterov`, which default to off;
that its few lines of step decay, cosine and warm-up are `StepLR`, `CosineAnnealingLR`
and `LinearLR` (and the benchmark's schedule is `1 - 0.9 k / 100`); that its `adamw_step`
is `torch.optim.AdamW` (default weight decay 0.01), which differs from Adam with an L2
penalty, `torch.optim.Adam(weight_decay=...)`, which is ours; and that its
`clip_grad_norm` is `torch.nn.utils.clip_grad_norm_`. The page's own code is taken from
its blocks, so these tests check what a reader runs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import re
from pathlib import Path

import numpy as np
import pytest
from docs_harness import scan_fences
from markdown.extensions.toc import slugify

from backprop import Tensor, Value
from backprop.optim import SGD, Adam

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGE = DOCS / "tutorial" / "20-optimisers.md"


@pytest.fixture
def torch():
    """PyTorch, or a skip where it is not installed (CI has it)."""
    return pytest.importorskip("torch")


def _session(name: str) -> dict:
    """The names defined by the page's code blocks of one markdown-exec session."""
    namespace: dict = {}
    for fence in scan_fences(PAGE.read_text("utf8")):
        if f'session="{name}"' in fence.info and 'html="1"' not in fence.info:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(fence.content, f"{PAGE.name}:{name}", "exec"), namespace)
    assert namespace, f"no block of session {name!r}"
    return namespace


def _defaults(function: object) -> dict[str, object]:
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def test_adam_has_torchs_defaults(torch) -> None:
    ours, theirs = _defaults(Adam.__init__), _defaults(torch.optim.Adam.__init__)
    for name in ("lr", "betas", "eps"):
        assert ours[name] == theirs[name]
    assert (ours["lr"], ours["betas"], ours["eps"]) == (1e-3, (0.9, 0.999), 1e-8)
    assert _defaults(torch.optim.AdamW.__init__)["weight_decay"] == 0.01  # the page's default


def test_torch_sgd_is_ours_plus_dampening_and_nesterov_switched_off(torch) -> None:
    theirs = _defaults(torch.optim.SGD.__init__)
    assert theirs["dampening"] == 0 and theirs["nesterov"] is False
    assert "dampening" not in _defaults(SGD.__init__)

    rng = np.random.default_rng(17)
    start, gradients = rng.normal(size=4), rng.normal(size=(12, 4))
    ours = [Value(float(x)) for x in start]
    ours_opt = SGD(ours, lr=0.05, momentum=0.9)
    t = torch.tensor(start, requires_grad=True)
    torch_opt = torch.optim.SGD([t], lr=0.05, momentum=0.9)
    for g in gradients:
        for p, gi in zip(ours, g, strict=True):
            p.grad = float(gi)
        ours_opt.step()
        t.grad = torch.tensor(g)
        torch_opt.step()
    assert np.allclose([p.data for p in ours], t.detach().numpy(), rtol=1e-13, atol=0)


def _quadratic_run(step_ours, make_ours, make_torch, steps: int = 25):
    """Both optimisers on the same uneven quadratic loss, from the same start, in float64."""
    import torch

    rng = np.random.default_rng(3)
    A, b = rng.normal(size=(5, 5)), rng.normal(size=5)
    H = A @ A.T + np.diag([0.1, 1.0, 3.0, 10.0, 30.0])  # very different curvatures
    start = rng.normal(size=5) * 3
    w = Tensor(start.copy(), requires_grad=True)
    ours = make_ours([w])
    t = torch.tensor(start.copy(), requires_grad=True)
    theirs = make_torch([t])
    Ht, bt = torch.from_numpy(H), torch.from_numpy(b)
    for _ in range(steps):
        ours.zero_grad()
        (0.5 * (w @ Tensor(H) @ w) + w @ Tensor(b)).backward()
        step_ours(ours)
        theirs.zero_grad()
        (0.5 * (t @ Ht @ t) + t @ bt).backward()
        theirs.step()
    return w.data, t.detach().numpy()


def test_the_pages_adamw_is_torchs_adamw(torch) -> None:
    adamw_step = _session("p20-adamw")["adamw_step"]
    for lr, wd in ((0.05, 0.01), (0.2, 0.3)):
        ours, theirs = _quadratic_run(
            lambda opt, wd=wd: adamw_step(opt, wd),
            lambda ps, lr=lr: Adam(ps, lr=lr),
            lambda ps, lr=lr, wd=wd: torch.optim.AdamW(ps, lr=lr, weight_decay=wd),
        )
        assert np.allclose(ours, theirs, rtol=1e-11, atol=1e-13)


def test_adam_with_weight_decay_is_torchs_l2_adam_and_not_adamw(torch) -> None:
    ours, theirs = _quadratic_run(
        lambda opt: opt.step(),
        lambda ps: Adam(ps, lr=0.2, weight_decay=0.3),
        lambda ps: torch.optim.Adam(ps, lr=0.2, weight_decay=0.3),
    )
    assert np.allclose(ours, theirs, rtol=1e-11, atol=1e-13)
    _, decoupled = _quadratic_run(
        lambda opt: opt.step(),
        lambda ps: Adam(ps, lr=0.2),
        lambda ps: torch.optim.AdamW(ps, lr=0.2, weight_decay=0.3),
    )
    assert np.abs(ours - decoupled).max() > 1e-3  # the two decays are different optimisers


@pytest.mark.parametrize("max_norm", [0.05, 1.0, 1e6])  # clipping hard, a little, not at all
def test_the_pages_clipping_is_torchs_clip_grad_norm(torch, max_norm: float) -> None:
    clip_grad_norm = _session("p20-clip")["clip_grad_norm"]
    rng = np.random.default_rng(5)
    grads = [rng.normal(size=s) * scale for s, scale in (((3, 4), 1.0), ((4,), 10.0), ((2,), 0.1))]
    ours = [Tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    for p, g in zip(ours, grads, strict=True):
        p.grad = g.copy()
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(theirs, grads, strict=True):
        p.grad = torch.from_numpy(g.copy())
    our_norm = clip_grad_norm(ours, max_norm)
    their_norm = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    assert np.isclose(our_norm, their_norm.item(), rtol=1e-13)
    for a, b in zip(ours, theirs, strict=True):
        assert np.allclose(a.grad, b.grad.numpy(), rtol=1e-13, atol=0)
    joint = np.sqrt(sum((p.grad**2).sum() for p in ours))
    assert joint <= max_norm * (1 + 1e-12)


def _torch_lrs(make_scheduler, lr0: float, steps: int) -> list[float]:
    import torch

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return lrs


def test_the_pages_schedules_are_torchs(torch) -> None:
    page = _session("p20-schedules")
    steps, lr0 = page["STEPS"], page["LR"]
    sched = torch.optim.lr_scheduler
    pairs = [
        (page["step_decay"], lambda o: sched.StepLR(o, step_size=70, gamma=0.1)),
        (page["cosine"], lambda o: sched.CosineAnnealingLR(o, T_max=steps)),
        (
            page["warmup_cosine"],
            lambda o: sched.SequentialLR(
                o,
                [
                    sched.LinearLR(o, start_factor=1 / 20, end_factor=1.0, total_iters=19),
                    sched.CosineAnnealingLR(o, T_max=steps - 20),
                ],
                milestones=[20],
            ),
        ),
    ]
    for ours, make in pairs:
        theirs = _torch_lrs(make, lr0, steps)
        assert np.allclose([ours(t) for t in range(steps)], theirs, rtol=1e-12, atol=1e-15)


def test_the_benchmarks_schedule_is_the_one_the_page_names() -> None:
    spec = importlib.util.spec_from_file_location("bench", ROOT / "bench" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert [bench.learning_rate(k) for k in range(100)] == [1 - 0.9 * k / 100 for k in range(100)]


def _headings(text: str) -> list[tuple[int, str]]:
    found = []
    for match in re.finditer(r"^#{1,6} (.+?)\s*$", text, re.M):
        title = match.group(1)
        explicit = re.search(r"\{\s*#([\w-]+)\s*\}$", title)
        found.append((match.start(), explicit.group(1) if explicit else slugify(title, "-")))
    return found


def test_the_tools_come_after_the_race_and_before_the_exercises() -> None:
    order = [a for _, a in _headings(PAGE.read_text("utf8"))]
    assert (
        order.index("a-fair-race")
        < order.index("beyond-the-update-rule")
        < order.index("exercises")
        < order.index("next")
    )


def test_next_goes_to_the_digits_notebook_then_the_pytorch_page() -> None:
    text = PAGE.read_text("utf8")
    ending = text[text.index("## Next") :]
    targets = re.findall(r"\]\(([^)]+)\)", ending)
    assert targets[:2] == ["../notebooks/digits.py", "22-digits-in-pytorch.md"]
    assert (DOCS / "notebooks" / "digits.py").exists()


def test_every_anchor_other_pages_link_to_exists() -> None:
    anchors = {a for _, a in _headings(PAGE.read_text("utf8"))}
    linked = set()
    for page in DOCS.rglob("*.md"):
        linked |= set(re.findall(rf"{PAGE.name}#([\w-]+)", page.read_text("utf8")))
    assert linked, "no page links into this one: the test lost its subject"
    assert linked <= anchors
