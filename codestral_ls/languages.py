"""Every per-language table of the server, by LSP language id, in one place.

A new language is a line here: which block grammar it follows (modes.py keeps the grammars),
which languages share definitions with it, which characters continue a word in it, how
markdown fences name it. File names map to ids through the ``fim`` package's table (the
prompt builder needs it too), with "plaintext" for the unknown.
"""

from __future__ import annotations

from pathlib import Path

from fim import language_for_path as _fim_language_for_path

#: Block grammar family (a key of ``modes.GRAMMARS``) per language id; others use "default".
BLOCK_FAMILY: dict[str, str] = {
    "python": "python",
    "lua": "lua",
    "ruby": "ruby",
    **dict.fromkeys(("shellscript", "sh", "bash", "zsh"), "shell"),
    **dict.fromkeys(
        (
            "javascript",
            "javascriptreact",
            "typescript",
            "typescriptreact",
            "go",
            "rust",
            "java",
            "c",
            "cpp",
            "csharp",
            "kotlin",
            "swift",
            "php",
            "dart",
            "scala",
            "objective-c",
            "objective-cpp",
            "zig",
        ),
        "c_like",
    ),
}

#: Markup and prose: fences and prose are legitimate content there.
PROSE_LANGUAGES = frozenset({"markdown", "plaintext", "restructuredtext", "latex", "text", ""})

#: Languages whose files freely use each other's definitions (context snippets cross them).
CONTEXT_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"javascript", "javascriptreact", "typescript", "typescriptreact"}),
    frozenset({"c", "cpp", "objective-c", "objective-cpp", "cuda-cpp"}),
    frozenset({"shellscript", "sh", "bash", "zsh"}),
)

#: Characters that continue a word besides \w: the typed word must be the one the editor
#: itself filters completion items on.
EXTRA_WORD_CHARS: dict[str, str] = {
    "clojure": "-!?*<>=/+.",
    "commonlisp": "-!?*<>=/+",
    "css": "-",
    "elisp": "-!?*<>=/+",
    "emacs-lisp": "-!?*<>=/+",
    "html": "-",
    "javascript": "$",
    "javascriptreact": "$",
    "less": "-",
    "lisp": "-!?*<>=/+",
    "php": "$",
    "racket": "-!?*<>=/+",
    "scheme": "-!?*<>=/+",
    "scss": "-",
    "typescript": "$",
    "typescriptreact": "$",
}

#: Markdown fence names where they differ from the id (renderers know the short names).
FENCE_NAMES: dict[str, str] = {
    "javascriptreact": "jsx",
    "typescriptreact": "tsx",
    "shellscript": "sh",
    "plaintext": "text",
    "objective-c": "objc",
    "objective-cpp": "objcpp",
    "emacs-lisp": "elisp",
}


#: Characters that open a string on one line, where they differ from ``"'`` and backticks
#: (Rust's ``'`` is a lifetime or a char, never an open string).
STRING_QUOTES: dict[str, str] = {"rust": '"`'}


def string_quotes(language: str) -> str:
    return STRING_QUOTES.get(language.lower(), "\"'`")


def block_family(language: str) -> str:
    return BLOCK_FAMILY.get(language.lower(), "default")


def context_group(language: str) -> frozenset[str]:
    lowered = language.lower()
    for group in CONTEXT_GROUPS:
        if lowered in group:
            return group
    return frozenset({lowered})


def language_for_path(path: Path) -> str:
    """The LSP language id for a file on the command line (editors send their own)."""
    return _fim_language_for_path(str(path)) or "plaintext"
