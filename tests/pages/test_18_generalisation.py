"""Page 18, generalisation: held-out sets, overfitting, weight decay, early stopping.

The page says that `SGD(weight_decay=λ)` adds λθ to every gradient, which is gradient
descent on the loss plus (λ/2)·Σθ², as in PyTorch's `torch.optim.SGD`; that the test set
is used for no choice (only scored at the end); and the exercises it cites by number
exist. These tests check the claims and the links.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop import Tensor
from backprop.optim import SGD

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "tutorial" / "18-generalisation.md"
FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s#]*\.md)?(?:#([\w-]+))?\)")


def _prose(text: str) -> str:
    return FENCE.sub(lambda m: " " * len(m.group(0)), text)


def anchors(page: Path) -> set[str]:
    prose = _prose(page.read_text("utf8"))
    ids = set(re.findall(r"\{\s*#([\w-]+)[^}]*\}", prose))
    for heading in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t]*$", prose, re.M):
        if not re.search(r"\{\s*#[\w-]+[^}]*\}\s*$", heading):
            ids.add(slugify(heading.replace("`", ""), "-"))
    return ids


@pytest.mark.parametrize("lam", [0.01, 0.3])
def test_weight_decay_is_the_gradient_of_half_lambda_times_the_sum_of_squares(lam) -> None:
    rng = np.random.default_rng(1)
    start = rng.normal(size=(3, 4))
    target = rng.normal(size=(3, 4))
    upstream = rng.normal(size=(3, 4))  # a non-uniform upstream gradient

    decayed = Tensor(start.copy(), requires_grad=True)
    optimizer = SGD([decayed], lr=0.2, weight_decay=lam)
    ((decayed - target) * upstream).sum().backward()
    optimizer.step()

    penalised = Tensor(start.copy(), requires_grad=True)
    optimizer = SGD([penalised], lr=0.2)
    (((penalised - target) * upstream).sum() + lam / 2 * (penalised * penalised).sum()).backward()
    optimizer.step()

    assert np.allclose(decayed.data, penalised.data, rtol=0, atol=1e-14)
    assert np.allclose(decayed.data, start - 0.2 * (upstream + lam * start), rtol=1e-14)


def test_our_weight_decay_matches_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    start, upstream = rng.normal(size=5), rng.normal(size=5)
    ours = Tensor(start.copy(), requires_grad=True)
    optimizer = SGD([ours], lr=0.3, weight_decay=0.05)
    theirs = torch.tensor(start.copy(), requires_grad=True)
    torch_optimizer = torch.optim.SGD([theirs], lr=0.3, weight_decay=0.05)
    for _ in range(3):
        optimizer.zero_grad()
        ((ours * ours * ours) * upstream).sum().backward()
        optimizer.step()
        torch_optimizer.zero_grad()
        ((theirs**3) * torch.tensor(upstream)).sum().backward()
        torch_optimizer.step()
    assert np.allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-15)


def test_the_test_set_is_used_for_no_choice() -> None:
    """In the page's code, the test set is only scored, never read while training or choosing."""
    text = PAGE.read_text("utf8")
    first = re.search(r'```python exec="on"[^\n]*\n(.*?)^```', text, re.S | re.M).group(1)
    fit = first[first.index("def fit(") : first.index("plain, plain_train")]
    assert "X_val" in fit and "X_test" not in fit and "y_test" not in fit
    choice = first[first.index("plain, plain_train") : first.index("def on_test(")]
    assert "X_test" not in choice and "y_test" not in choice


def test_the_exercises_the_page_cites_exist() -> None:
    text = PAGE.read_text("utf8")
    main = text[: text.index("## Exercises")]
    cited = {int(n) for n in re.findall(r"Exercise (\d+)", _prose(main))}
    count = len(re.findall(r'^\?\?\? question "Exercise', text, re.M))
    assert cited and max(cited) <= count


def test_anchors_other_pages_link_to_exist_and_the_page_links_resolve() -> None:
    own = anchors(PAGE)
    incoming = {
        anchor
        for page in DOCS.rglob("*.md")
        if "vendor" not in page.parts
        for anchor in re.findall(r"18-generalisation\.md#([\w-]+)", page.read_text("utf8"))
    }
    assert incoming and incoming <= own, incoming - own
    links = LINK.findall(_prose(PAGE.read_text("utf8")))
    for target, anchor in links:
        page = (PAGE.parent / target).resolve() if target else PAGE
        assert page.is_file(), target
        if anchor:
            assert anchor in anchors(page), f"{target}#{anchor}"
    assert "19-loss-landscape.md" in {target for target, _ in links}  # the next page
