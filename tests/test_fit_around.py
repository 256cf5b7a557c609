"""`fit_around`: an excerpt cut to its column keeps the words found in view."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from tui.formatting import ELLIPSIS
from tui.widgets.cells import fit, fit_around

# ASCII, CJK (two cells wide) and emoji, so widths are counted in cells, not characters
ALPHABET = st.sampled_from(list("abc xyz.") + ["漢", "字", "🙂"])
NEEDLE = "needle"


def test_a_match_past_the_column_is_brought_into_view() -> None:
    text = "Block 59 line one.␊Block 59 line two.␊Block 59 line three."
    assert fit(text, 30) == "Block 59 line one.␊Block 59 l…"  # the words found are cut off
    assert fit_around(text, "LINE TWO", 30) == "…␊Block 59 line two.␊Block 59…"


def test_a_match_that_shows_is_cut_at_the_end_only() -> None:
    assert fit_around("line two and more words", "line", 10) == fit("line two and more words", 10)


def test_no_match_or_no_needle_cuts_like_fit() -> None:
    assert fit_around("a" * 40, "zzz", 10) == fit("a" * 40, 10)
    assert fit_around("a" * 40, "", 10) == fit("a" * 40, 10)


@given(st.text(ALPHABET, max_size=60), st.text(ALPHABET, max_size=60), st.integers(0, 80))
def test_width_is_kept_and_the_needle_shows_when_it_can(
    before: str, after: str, width: int
) -> None:
    text = before + NEEDLE + after
    out = fit_around(text, NEEDLE, width)
    assert cell_len(out) <= max(width, 0)
    if cell_len(text) <= width:
        assert out == text
    elif width >= len(NEEDLE) + 2:  # room for the needle between two ellipses
        assert NEEDLE in out
        body = out.removeprefix(ELLIPSIS).removesuffix(ELLIPSIS)
        assert body in text  # a cut of the text itself, nothing added in the middle
        assert out.startswith(ELLIPSIS) == (not text.startswith(body))
