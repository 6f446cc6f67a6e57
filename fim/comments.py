"""Comment syntax by language, so context from other files can ride inside the prefix.

Families without a repository format (Codestral, DeepSeek-Coder, Code Llama) only see one
file; snippets from other files are shown to them as a commented block at the top of the
prefix, the way a human would paste a reference into a file without breaking it.
"""

from __future__ import annotations

import posixpath

# (opening, closing) per language; closing is "" for line comments.
_LINE_HASH = ("# ", "")
_LINE_SLASH = ("// ", "")
_LINE_DASH = ("-- ", "")
_LINE_SEMI = ("; ", "")
_LINE_PERCENT = ("% ", "")
_LINE_QUOTE = ('" ', "")
_LINE_REM = ("REM ", "")
_LINE_APOSTROPHE = ("' ", "")
_BLOCK_XML = ("<!-- ", " -->")
_BLOCK_C = ("/* ", " */")
_BLOCK_OCAML = ("(* ", " *)")

_BY_LANGUAGE: dict[str, tuple[str, str]] = {
    # "#"
    "python": _LINE_HASH,
    "ruby": _LINE_HASH,
    "perl": _LINE_HASH,
    "shellscript": _LINE_HASH,
    "bash": _LINE_HASH,
    "sh": _LINE_HASH,
    "zsh": _LINE_HASH,
    "fish": _LINE_HASH,
    "powershell": _LINE_HASH,
    "r": _LINE_HASH,
    "julia": _LINE_HASH,
    "yaml": _LINE_HASH,
    "toml": _LINE_HASH,
    "dockerfile": _LINE_HASH,
    "makefile": _LINE_HASH,
    "cmake": _LINE_HASH,
    "elixir": _LINE_HASH,
    "nim": _LINE_HASH,
    "crystal": _LINE_HASH,
    "coffeescript": _LINE_HASH,
    "terraform": _LINE_HASH,
    "nix": _LINE_HASH,
    "gdscript": _LINE_HASH,
    "ini": _LINE_SEMI,
    # "//"
    "c": _LINE_SLASH,
    "cpp": _LINE_SLASH,
    "csharp": _LINE_SLASH,
    "objective-c": _LINE_SLASH,
    "objective-cpp": _LINE_SLASH,
    "java": _LINE_SLASH,
    "javascript": _LINE_SLASH,
    "javascriptreact": _LINE_SLASH,
    "typescript": _LINE_SLASH,
    "typescriptreact": _LINE_SLASH,
    "go": _LINE_SLASH,
    "rust": _LINE_SLASH,
    "swift": _LINE_SLASH,
    "kotlin": _LINE_SLASH,
    "scala": _LINE_SLASH,
    "dart": _LINE_SLASH,
    "php": _LINE_SLASH,
    "groovy": _LINE_SLASH,
    "zig": _LINE_SLASH,
    "jsonc": _LINE_SLASH,
    "json": _LINE_SLASH,
    "proto": _LINE_SLASH,
    "solidity": _LINE_SLASH,
    "glsl": _LINE_SLASH,
    "hlsl": _LINE_SLASH,
    "cuda": _LINE_SLASH,
    "verilog": _LINE_SLASH,
    "systemverilog": _LINE_SLASH,
    "scss": _LINE_SLASH,
    "less": _LINE_SLASH,
    "fsharp": _LINE_SLASH,
    "d": _LINE_SLASH,
    # "--"
    "lua": _LINE_DASH,
    "sql": _LINE_DASH,
    "haskell": _LINE_DASH,
    "elm": _LINE_DASH,
    "ada": _LINE_DASH,
    "vhdl": _LINE_DASH,
    "purescript": _LINE_DASH,
    # ";"
    "lisp": _LINE_SEMI,
    "commonlisp": _LINE_SEMI,
    "clojure": _LINE_SEMI,
    "scheme": _LINE_SEMI,
    "racket": _LINE_SEMI,
    "emacs-lisp": _LINE_SEMI,
    "elisp": _LINE_SEMI,
    "asm": _LINE_SEMI,
    "nasm": _LINE_SEMI,
    # others
    "erlang": _LINE_PERCENT,
    "latex": _LINE_PERCENT,
    "tex": _LINE_PERCENT,
    "matlab": _LINE_PERCENT,
    "prolog": _LINE_PERCENT,
    "vim": _LINE_QUOTE,
    "viml": _LINE_QUOTE,
    "bat": _LINE_REM,
    "vb": _LINE_APOSTROPHE,
    "html": _BLOCK_XML,
    "xml": _BLOCK_XML,
    "svg": _BLOCK_XML,
    "markdown": _BLOCK_XML,
    "vue": _BLOCK_XML,
    "svelte": _BLOCK_XML,
    "css": _BLOCK_C,
    "ocaml": _BLOCK_OCAML,
}

_EXTENSION_LANGUAGE: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".rb": "ruby",
    ".pl": "perl",
    ".pm": "perl",
    ".sh": "sh",
    ".bash": "bash",
    ".zsh": "zsh",
    ".fish": "fish",
    ".ps1": "powershell",
    ".r": "r",
    ".jl": "julia",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".cmake": "cmake",
    ".ex": "elixir",
    ".exs": "elixir",
    ".nim": "nim",
    ".cr": "crystal",
    ".coffee": "coffeescript",
    ".tf": "terraform",
    ".nix": "nix",
    ".gd": "gdscript",
    ".ini": "ini",
    ".cfg": "ini",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".cs": "csharp",
    ".m": "objective-c",
    ".mm": "objective-cpp",
    ".java": "java",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".swift": "swift",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".scala": "scala",
    ".dart": "dart",
    ".php": "php",
    ".groovy": "groovy",
    ".gradle": "groovy",
    ".zig": "zig",
    ".jsonc": "jsonc",
    ".json": "json",
    ".proto": "proto",
    ".sol": "solidity",
    ".glsl": "glsl",
    ".hlsl": "hlsl",
    ".cu": "cuda",
    ".v": "verilog",
    ".sv": "systemverilog",
    ".scss": "scss",
    ".less": "less",
    ".fs": "fsharp",
    ".fsx": "fsharp",
    ".d": "d",
    ".lua": "lua",
    ".sql": "sql",
    ".hs": "haskell",
    ".elm": "elm",
    ".adb": "ada",
    ".ads": "ada",
    ".vhd": "vhdl",
    ".vhdl": "vhdl",
    ".purs": "purescript",
    ".lisp": "lisp",
    ".cl": "commonlisp",
    ".clj": "clojure",
    ".cljs": "clojure",
    ".cljc": "clojure",
    ".edn": "clojure",
    ".scm": "scheme",
    ".ss": "scheme",
    ".rkt": "racket",
    ".el": "emacs-lisp",
    ".asm": "asm",
    ".s": "asm",
    ".nasm": "nasm",
    ".erl": "erlang",
    ".hrl": "erlang",
    ".tex": "latex",
    ".sty": "latex",
    ".pro": "prolog",
    ".vim": "vim",
    ".bat": "bat",
    ".cmd": "bat",
    ".vb": "vb",
    ".vbs": "vb",
    ".html": "html",
    ".htm": "html",
    ".xml": "xml",
    ".svg": "svg",
    ".md": "markdown",
    ".markdown": "markdown",
    ".vue": "vue",
    ".svelte": "svelte",
    ".css": "css",
    ".ml": "ocaml",
    ".mli": "ocaml",
}

_FILENAME_LANGUAGE: dict[str, str] = {
    "makefile": "makefile",
    "gnumakefile": "makefile",
    "dockerfile": "dockerfile",
    "containerfile": "dockerfile",
    "cmakelists.txt": "cmake",
    ".bashrc": "bash",
    ".zshrc": "zsh",
    ".vimrc": "vim",
}

DEFAULT_COMMENT = _LINE_HASH


def language_for_path(path: str | None) -> str | None:
    """The language id (LSP spelling) a file name implies, or None when unknown."""
    if not path:
        return None
    name = posixpath.basename(path.replace("\\", "/")).lower()
    if name in _FILENAME_LANGUAGE:
        return _FILENAME_LANGUAGE[name]
    _, ext = posixpath.splitext(name)
    return _EXTENSION_LANGUAGE.get(ext)


def comment_delimiters(language: str | None = None, path: str | None = None) -> tuple[str, str]:
    """(opening, closing) comment markers for one line, from the language id or the path.

    The language id wins because the editor knows it even for unsaved buffers; the path's
    extension is the fallback; ``#`` is the last resort.
    """
    if language:
        found = _BY_LANGUAGE.get(language.lower())
        if found is not None:
            return found
    from_path = language_for_path(path)
    if from_path is not None:
        return _BY_LANGUAGE.get(from_path, DEFAULT_COMMENT)
    return DEFAULT_COMMENT


def comment_block(text: str, language: str | None = None, path: str | None = None) -> str:
    """Every line of ``text`` commented out, each ending with a newline.

    Line comments keep even empty lines marked, so the block reads as one unit; closing
    markers inside the text are defanged so a block comment cannot end early.
    """
    opening, closing = comment_delimiters(language, path)
    marker = closing.strip()
    out: list[str] = []
    for line in text.splitlines():
        if marker:
            safe = line.replace(marker, marker[:1] + " " + marker[1:])
            out.append(f"{opening}{safe}{closing}\n")
        elif line:
            out.append(f"{opening}{line}\n")
        else:
            out.append(opening.rstrip() + "\n")
    return "".join(out)
