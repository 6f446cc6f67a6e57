"""Pure fill-in-the-middle prompt building: templates, family detection, token budgets.

No I/O and no dependency outside the standard library, so every backend, the engine and the
benchmarks share one definition of what a FIM prompt looks like.
"""

#: Says this ``fim`` is codestral-ls's (checked when codestral_ls is imported): another
#: distribution's top-level ``fim`` must not replace it silently.
__codestral_ls__ = True

from fim.budget import (
    DEFAULT_GRID,
    MAX_CHARS_PER_TOKEN,
    CountTokens,
    cut_prefix,
    cut_suffix,
    snap_window_start,
    split_budget,
)
from fim.comments import comment_block, comment_delimiters, language_for_path
from fim.detect import detect_family
from fim.scope import scope_header
from fim.templates import FAMILIES, FimTemplate, UnknownTemplateError, get_template

__all__ = [
    "DEFAULT_GRID",
    "FAMILIES",
    "MAX_CHARS_PER_TOKEN",
    "CountTokens",
    "FimTemplate",
    "UnknownTemplateError",
    "comment_block",
    "comment_delimiters",
    "cut_prefix",
    "cut_suffix",
    "detect_family",
    "get_template",
    "language_for_path",
    "scope_header",
    "snap_window_start",
    "split_budget",
]
