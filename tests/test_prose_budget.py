"""The counting script behind the prose budget (`tools/prose_budget.py`, run by `make test`).

What a reader meets is counted: prose on the main path, collapsed blocks only in the whole
page (their titles on both), and never code, math, HTML or link targets.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("prose_budget", ROOT / "tools/prose_budget.py")
assert spec and spec.loader
budget = importlib.util.module_from_spec(spec)
sys.modules["prose_budget"] = budget
spec.loader.exec_module(budget)

PAGE = textwrap.dedent(
    """\
    # Two words

    One two three, see [the page](other.md#anchor) and `code here` or $x^2 + y$.

    ```python
    print("not prose at all")
    ```

    $$
    \\frac{\\partial L}{\\partial a}
    $$

    ??? note "Going deeper: four words"

        Hidden five six seven.

        ```python
        hidden = "code"
        ```

    ???+ tip "Open tip"

        Shown eight nine.

    !!! info "Info"

        Shown ten.

    <span class="x">tagged</span> words 2,000 end.
    *[HTML]: Hyper Text Markup Language
    """
)


def test_main_path_leaves_out_collapsed_bodies_but_not_their_titles(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE, "utf8")
    count = budget.count_page(page)
    # "Two words" / "One two three see the page and or" / "Going deeper four words" /
    # "Open tip Shown eight nine" / "Info Shown ten" / "tagged words 2,000 end": an
    # admonition counts by its title, not by its kind
    main = 2 + 8 + 4 + 5 + 3 + 4
    assert count.main_path == main
    assert count.whole_page == main + 4  # the collapsed body: "Hidden five six seven"


def test_code_math_and_markup_are_not_words() -> None:
    assert budget.count_words("`a b c` $x y z$ <b>bold</b> [text](a/b/c.md) ``") == 2


def test_a_notebook_is_counted_by_its_markdown_cells(tmp_path: Path) -> None:
    nb = tmp_path / "nb.py"
    nb.write_text('# %% [markdown]\n# Some words here\n\n# %%\nx = "no words"\n', "utf8")
    assert budget.count_page(nb).main_path == 3


def test_over_budget_fails_the_script(tmp_path: Path, capsys) -> None:
    page = tmp_path / "long.md"
    page.write_text("word " * (budget.MAIN_PATH_LIMIT + 1), "utf8")
    assert budget.main([str(page)]) == 1
    page.write_text("word " * budget.MAIN_PATH_LIMIT, "utf8")
    assert budget.main([str(page)]) == 0
    assert "long.md" in capsys.readouterr().out
