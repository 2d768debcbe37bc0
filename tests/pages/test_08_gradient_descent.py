"""Claims of tutorial page 8, gradient descent, that its code blocks cannot check.

The page keeps one idea of the momentum preview on the main path (a fair comparison at
each method's best setting) and derives the rest in a collapsed block: the condition
number from the Hessian's eigenvalues, plain gradient descent's best factor
(kappa - 1) / (kappa + 1) and the heavy ball's (sqrt kappa - 1) / (sqrt kappa + 1). These
tests check the derivation's claims beyond the cases the page runs, check that the depth
stays collapsed, that the anchors and exercise numbers other pages cite exist, and that
every assert in the page's code checks something.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import numpy as np
from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGE = DOCS / "tutorial" / "08-gradient-descent.md"

FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*?)$(.*?)^\1\2[ \t]*$", re.M | re.S)
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s#]*\.md)?(?:#([\w-]+))?\)")
COLLAPSED = re.compile(r"^([ \t]*)\?\?\?(?!\+)[^\n]*\n((?:\1[ \t]+[^\n]*\n|[ \t]*\n)*)", re.M)


def _text(page: Path = PAGE) -> str:
    return page.read_text("utf8")


def _prose(text: str) -> str:
    """The page with every fenced block blanked out, keeping every other offset."""
    return FENCE.sub(lambda m: " " * len(m.group(0)), text)


def _main_path(text: str) -> str:
    """The page without the bodies of collapsed (`???`) blocks."""
    return COLLAPSED.sub(lambda m: m.group(0).split("\n", 1)[0] + "\n", text)


def anchors(page: Path) -> set[str]:
    """The ids MkDocs gives a page: its headings' slugs and explicit `{ #id }` ids."""
    prose = _prose(_text(page))
    ids = set(re.findall(r"\{\s*#([\w-]+)[^}]*\}", prose))
    for heading in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t]*$", prose, re.M):
        if not re.search(r"\{\s*#[\w-]+[^}]*\}\s*$", heading):
            ids.add(slugify(heading.replace("`", ""), "-"))
    return ids


def _code_blocks(text: str) -> list[str]:
    blocks = []
    for m in FENCE.finditer(text):
        if "python" in m.group(3):
            indent = m.group(1)
            lines = m.group(4).split("\n")
            blocks.append("\n".join(line[len(indent) :] for line in lines))
    return blocks


def test_sections_come_in_teaching_order() -> None:
    prose = _prose(_text())
    found = [slugify(h, "-") for h in re.findall(r"^## (.+?)\s*$", prose, re.M)]
    assert found == [
        "walking-downhill",
        "minimising-page-2s-function",
        "why-a-small-step-goes-downhill",
        "why-it-converges-one-line-of-algebra",
        "learning-rates-too-small-good-too-large-diverging",
        "two-parameters-a-loss-surface",
        "when-to-stop",
        "a-preview-momentum",
        "exercises",
        "next",
    ]


def test_anchors_and_exercises_other_pages_cite_exist() -> None:
    own = anchors(PAGE)
    cited: set[tuple[str, str]] = set()
    exercises: set[str] = set()
    for page in DOCS.rglob("*"):
        if page.suffix not in {".md", ".py"} or "vendor" in page.parts or page == PAGE:
            continue
        text = _text(page)
        for anchor in re.findall(r"08-gradient-descent(?:\.md|/)#([\w-]+)", text):
            cited.add((page.relative_to(DOCS).as_posix(), anchor))
        exercises.update(re.findall(r"[Pp]age 8's Exercise (\d+)", text))
    assert cited and exercises  # the searches find what they should check
    missing = sorted((page, anchor) for page, anchor in cited if anchor not in own)
    assert not missing, missing
    numbers = set(re.findall(r'^\?\?\? question "Exercise (\d+)', _text(), re.M))
    assert exercises <= numbers, exercises - numbers


def test_links_from_the_page_resolve_and_lead_to_where_things_are_taught() -> None:
    links = LINK.findall(_prose(_text()))
    for _, target, anchor in links:
        page = (PAGE.parent / target).resolve() if target else PAGE
        assert page.is_file(), target
        if anchor:
            assert anchor in anchors(page), f"{target}#{anchor}"
    targets = {(target, anchor) for _, target, anchor in links}
    # why against the gradient: page 4 derives it; momentum as an optimiser: page 20
    assert ("04-gradients.md", "the-first-order-approximation") in targets
    assert ("04-gradients.md", "which-way-is-steepest") in targets
    assert "20-optimisers.md" in {target for target, _ in targets}
    assert "09-summary.md" in {target for target, _ in targets}  # the next page


def test_page_numbers_in_link_texts_match_the_files() -> None:
    for text, target, _ in LINK.findall(_prose(_text())):
        number = re.fullmatch(r"[Pp]age (\d+)", text.strip())
        if number and re.match(r"\d\d-", target):
            assert int(number.group(1)) == int(target[:2]), (text, target)


def test_the_condition_number_and_the_rates_stay_collapsed() -> None:
    """One idea on the main path: the fair race. Kappa and its rates are depth."""
    text = _text()
    main = _main_path(_prose(text))
    assert "\\kappa" not in main and "Polyak" not in main
    section = text[text.index("## A preview: momentum") : text.index("## Exercises")]
    collapsed = "".join(m.group(0) for m in COLLAPSED.finditer(section))
    assert "\\kappa" in collapsed and "\\sqrt\\kappa" in collapsed
    assert "glossary.md#condition-number" in collapsed and "glossary.md#hessian" in collapsed


def test_every_assert_checks_something() -> None:
    """An assert whose test has no name in it (like `assert 1 - 2 * 0.5 == 0`) checks
    only arithmetic typed by hand."""
    blocks = _code_blocks(_text())
    assert len(blocks) > 10
    for block in blocks:
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Assert):
                names = [n for n in ast.walk(node.test) if isinstance(n, ast.Name)]
                assert names, ast.unparse(node)


def _heavy_ball_roots(lam: float, eta: float, beta: float) -> np.ndarray:
    """theta_{k+1} = (1 + beta - eta lam) theta_k - beta theta_{k-1}: z^2 - (...) z + beta."""
    return np.roots([1.0, -(1.0 + beta - eta * lam), beta])


def test_momentum_shrinks_every_curvature_in_the_window_by_sqrt_beta() -> None:
    """The collapsed derivation, for a whole range of second derivatives and valleys."""
    for kappa in (4.0, 10.0, 100.0):
        low, high = 1.0, kappa
        rate = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
        beta = rate**2
        eta = 4 / (math.sqrt(low) + math.sqrt(high)) ** 2
        assert math.isclose(eta * low, (1 - rate) ** 2) and math.isclose(
            eta * high, (1 + rate) ** 2
        )
        for lam in np.linspace(low, high, 41):
            assert np.allclose(np.abs(_heavy_ball_roots(lam, eta, beta)), rate, rtol=1e-6)
        # outside the window one root is larger: the rate is not sqrt(beta) any more
        assert np.abs(_heavy_ball_roots(1.5 * high, eta, beta)).max() > rate * 1.01
        # and the heavy ball beats plain gradient descent's best, more so for long valleys
        assert rate < (kappa - 1) / (kappa + 1)


def test_the_recurrence_is_the_momentum_update() -> None:
    """v <- beta v + g, theta <- theta - eta v is theta_{k+1} = theta_k - eta g_k +
    beta (theta_k - theta_{k-1}), the form the derivation uses."""
    lam, eta, beta = 3.0, 0.1, 0.6
    theta, v, path = 2.0, 0.0, [2.0]
    for _ in range(20):
        v = beta * v + lam * theta
        theta -= eta * v
        path.append(theta)
    for k in range(1, 20):
        expected = (1 + beta - eta * lam) * path[k] - beta * path[k - 1]
        assert math.isclose(path[k + 1], expected, rel_tol=1e-12, abs_tol=1e-15)


def _best_plain_factor(hessian: np.ndarray) -> float:
    """The smallest worst-case factor per step of plain gradient descent, over eta."""
    best = math.inf
    for eta in np.linspace(0.001, 2 / np.linalg.eigvalsh(hessian).max(), 4000):
        step = np.eye(len(hessian)) - eta * hessian
        best = min(best, float(np.abs(np.linalg.eigvals(step)).max()))
    return best


def test_the_condition_number_comes_from_eigenvalues_not_the_diagonal() -> None:
    """A tilted bowl has equal second derivatives along the axes (a diagonal ratio of 1),
    yet plain gradient descent does no better than on the axis-aligned one: the
    eigenvalues decide, as the glossary and the page's collapsed block say."""
    aligned = np.diag([2.0, 20.0])
    turn = np.array([[1.0, -1.0], [1.0, 1.0]]) / math.sqrt(2)  # 45 degrees
    tilted = turn @ aligned @ turn.T
    assert np.allclose(tilted, [[11.0, -9.0], [-9.0, 11.0]])
    assert tilted[0, 0] / tilted[1, 1] == 1.0
    kappa = 10.0
    for hessian in (aligned, tilted):
        assert math.isclose(_best_plain_factor(hessian), (kappa - 1) / (kappa + 1), rel_tol=1e-3)


def test_multiplying_the_rate_by_one_minus_beta_keeps_the_long_run_step() -> None:
    """Exercise 4's advice, on a steady gradient: eta (1 - beta) with momentum steps like
    eta without it, once the velocity has built up."""
    g, eta = 3.0, 0.01
    for beta in (0.5, 0.9, 0.99):
        v = 0.0
        for _ in range(5000):
            v = beta * v + g
        assert math.isclose(eta * (1 - beta) * v, eta * g, rel_tol=1e-9)


def test_exercises_ask_for_a_prediction_before_the_code() -> None:
    parts = re.split(r'^\?\?\? question "Exercise', _text(), flags=re.M)[1:]
    questions = [part.split('??? success "Solution"', 1)[0] for part in parts]
    assert len(questions) >= 2
    asking = [q for q in questions if re.search(r"predict|before\s+you\s+run", q, re.I)]
    assert len(asking) >= 3
