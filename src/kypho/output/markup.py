"""Text for Markdown files that no Markdown renderer turns into HTML.

Labels, record ids and messages come from users (a plan, a schema extension,
a data file). CommonMark passes raw HTML through, so ``report.md`` and the
Markdown data dictionary escape what could start a tag, an entity or a link.
"""

from __future__ import annotations

import re

__all__ = ["markdown_escape"]

# what would start raw HTML in CommonMark: "<" before a tag name, "/", "!" or "?"
_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")


def markdown_escape(text: str) -> str:
    """Text for Markdown that no renderer turns into HTML or a link.

    ``<`` starting a tag, ``&`` and ``](`` (a link's target) are escaped; ``P < 0.05``
    stays as it is.

    Examples
    --------
    >>> print(markdown_escape('<img src=x onerror=alert(1)> & [a](javascript:x) P < 0.05'))
    &lt;img src=x onerror=alert(1)> &amp; [a]\\(javascript:x) P < 0.05
    """
    text = text.replace("&", "&amp;")
    return _HTML_START.sub("&lt;", text).replace("](", "]\\(")
