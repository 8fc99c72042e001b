"""Missing-value tokens in text columns: the Arrow path blanks exactly the cells the
Python path (strip, case-fold, compare every distinct value) blanks."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kypho.io.tables import _blank_missing
from kypho.schema import load_schema

# Letters whose case folding changes length (ß → ss, ﬁ → fi, İ → i̇), the Kelvin sign,
# Python-only whitespace (\x1c-\x1f) and Unicode spaces, and the tokens' own characters.
ALPHABET = "aAnN/.lLuUsSfFiI0179-_ " + "ßﬁİ\u212a\t\n\x1c\x1f\xa0\u2003\u3000"
SPACE = st.text(alphabet=" \t\n\x1c\x1f\xa0\u2003\u3000", max_size=3)
TOKENS = ["", "NA", "N/A", "n/a", ".", "NaN", "null", "ss", "ß", "İ"]


@st.composite
def padded(draw: st.DrawFn) -> str:
    """A token (or any text) in any case, with whitespace or text around it."""
    core = draw(st.one_of(st.sampled_from(TOKENS), st.text(alphabet=ALPHABET, max_size=4)))
    core = "".join(c.upper() if draw(st.booleans()) else c for c in core)
    ends = st.one_of(SPACE, st.text(alphabet=ALPHABET, max_size=2))
    return draw(ends) + core + draw(ends)


CELLS = st.one_of(st.none(), st.text(alphabet=ALPHABET, max_size=8), padded())


def _tokens() -> set[str]:
    return {m.strip().casefold() for m in load_schema().missing_values}


@settings(max_examples=150, deadline=None)
@given(
    cells=st.lists(CELLS, max_size=40),
    extra=st.lists(st.sampled_from(TOKENS) | st.text(alphabet=ALPHABET, max_size=4), max_size=3),
)
def test_text_cells_blanked_as_the_python_path_blanks_them(
    cells: list[str | None], extra: list[str]
) -> None:
    tokens = _tokens() | {e.strip().casefold() for e in extra}
    text = pd.Series(cells, dtype="str")
    fast = _blank_missing(text, tokens)
    python = _blank_missing(pd.Series(cells, dtype=object), tokens)
    assert fast.dtype == text.dtype
    assert fast.isna().tolist() == python.isna().tolist()
    kept = fast.notna().to_numpy()
    assert fast[kept].tolist() == text[kept].tolist()


def test_ids_and_names_are_kept_and_tokens_blanked_whatever_their_case() -> None:
    cells = ["P-0000001", "Smith, Jane", " N/A ", "nan", "NULL", ".", "", "\u3000", "NA-1", None]
    out = _blank_missing(pd.Series(cells, dtype="str"), _tokens())
    assert out.isna().tolist() == [False, False, True, True, True, True, True, True, False, True]
    assert out.tolist()[:2] == ["P-0000001", "Smith, Jane"]
    assert out.tolist()[8] == "NA-1"
