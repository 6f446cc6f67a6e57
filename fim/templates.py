"""Fill-in-the-middle prompt formats, one per model family, with their exact special tokens.

Sources checked (read through the search tool, nothing copied):

- codestral: mistral-common ``InstructTokenizerV2.encode_fim`` (``tokens/tokenizers/instruct.py``)
  encodes ``BOS, [SUFFIX], suffix, [PREFIX], prefix`` - suffix first, no ``[MIDDLE]`` token;
  ``[MIDDLE]`` exists in the ``SpecialTokens`` enum. Mistral's cookbook tokenization notes
  show the same ``<s>[SUFFIX]suffix[PREFIX]prefix`` string for tokenizers v2/v3.
- qwen: Qwen2.5-Coder README (file-level FIM and repository-level completion with
  ``<|repo_name|>`` / ``<|file_sep|>``) and the Qwen2.5-Coder technical report, "Repo-Level
  FIM format" figure (``<|file_sep|>{path}\\n<|fim_prefix|>...``).
- starcoder: StarCoder2 paper section 5 (``<repo_name>name<file_sep>path\\ncode...`` and, for
  FIM, ``<file_sep><fim_prefix>path\\ncode_pre<fim_suffix>...``); bigcode model cards for the
  plain ``<fim_prefix>...<fim_suffix>...<fim_middle>`` form.
- deepseek: DeepSeek-Coder README "code insertion" example
  (``fim begin``/``fim hole``/``fim end`` tokens spelled with FULLWIDTH VERTICAL LINE U+FF5C
  and LOWER ONE EIGHTH BLOCK U+2581 instead of ``|`` and ``_``).
- codellama: meta-llama/codellama ``llama/generation.py`` ``infilling_prompt_tokens``,
  documented as ``<PRE> {pre} <SUF>{suf} <MID>`` (the spaces come from the SentencePiece
  pieces ``▁<SUF>``/``▁<MID>`` and the prefix's dummy space); ``<EOT>`` ends the middle.
- codegemma: Google's "CodeGemma formatting and system instructions" page and the CodeGemma
  report (``<|fim_prefix|>``, ``<|fim_suffix|>``, ``<|fim_middle|>``, ``<|file_separator|>``
  for multi-file contexts). The exact multi-file layout is not published; we use the
  Qwen-like ``<|file_separator|>{path}\\n{content}`` packing.
- Stop/end-of-generation spellings cross-checked with llama.cpp ``llama-vocab.cpp`` (the
  FIM_PRE/SUF/MID/PAD/REP/SEP and EOG token text lists).

BOS: ``render`` leaves the beginning-of-sequence token out by default because llama.cpp,
llama-cpp-python and llama-server add it themselves when tokenizing (a ``<s>`` in the text
would become a second BOS). Pass ``with_bos=True`` for raw endpoints that do not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from fim.comments import comment_block

ContextLayout = Literal["qwen", "starcoder", "codegemma", "comment"]


class UnknownTemplateError(ValueError):
    """A template name that is not one of the known families."""


@dataclass(frozen=True)
class FimTemplate:
    """How one model family wants a fill-in-the-middle prompt written.

    ``fim_prefix``/``fim_suffix``/``fim_middle`` are the literal marker strings, including
    any spaces the family's reference puts around them (Code Llama). ``suffix_first`` is the
    SPM order (Codestral). ``context_layout`` says how snippets from other files are placed:
    in the family's repository format, or as a commented block at the top of the prefix.
    """

    family: str
    fim_prefix: str
    fim_suffix: str
    fim_middle: str
    stop: tuple[str, ...]
    special_tokens: tuple[str, ...]
    bos: str = ""
    suffix_first: bool = False
    context_layout: ContextLayout = "comment"
    repo_name_token: str = ""
    file_sep_token: str = ""
    description: str = field(default="", compare=False)

    def render(
        self,
        prefix: str,
        suffix: str,
        *,
        context: Sequence[tuple[str, str]] = (),
        path: str | None = None,
        language: str | None = None,
        repo_name: str = "project",
        with_bos: bool = False,
    ) -> str:
        """The prompt text for the model; it generates the middle after it.

        ``context`` is (path, text) pairs from other files, placed before the FIM block so it
        stays in the KV cache while the user types. ``path`` is the current file; it is only
        written when there is context (the repository formats need it to tell files apart),
        so a prompt without context is byte-identical to the plain format. ``language`` (an
        LSP language id) picks the comment syntax for families without a repository format;
        otherwise the path's extension does. An empty ``suffix`` still renders the markers.
        """
        head = self.bos if with_bos else ""
        if not context:
            return head + self._fim_block(prefix, suffix)
        if self.context_layout == "comment":
            header = self._comment_header(context, path, language)
            return head + self._fim_block(header + prefix, suffix)
        current = path if path else "untitled"
        if self.context_layout == "qwen":
            parts = [f"{self.repo_name_token}{repo_name}\n"]
            parts += [f"{self.file_sep_token}{p}\n{_with_newline(t)}" for p, t in context]
            parts.append(f"{self.file_sep_token}{current}\n")
            return head + "".join(parts) + self._fim_block(prefix, suffix)
        if self.context_layout == "starcoder":
            parts = [f"{self.repo_name_token}{repo_name}"]
            parts += [f"{self.file_sep_token}{p}\n{t}" for p, t in context]
            parts.append(self.file_sep_token)
            return head + "".join(parts) + self._fim_block(f"{current}\n{prefix}", suffix)
        # codegemma: no repository-name token, files split by <|file_separator|>.
        parts = [f"{self.file_sep_token}{p}\n{_with_newline(t)}" for p, t in context]
        parts.append(f"{self.file_sep_token}{current}\n")
        return head + "".join(parts) + self._fim_block(prefix, suffix)

    def _fim_block(self, prefix: str, suffix: str) -> str:
        if self.suffix_first:
            return f"{self.fim_suffix}{suffix}{self.fim_prefix}{prefix}{self.fim_middle}"
        return f"{self.fim_prefix}{prefix}{self.fim_suffix}{suffix}{self.fim_middle}"

    def _comment_header(
        self, context: Sequence[tuple[str, str]], path: str | None, language: str | None
    ) -> str:
        # The current file's syntax, because the block lives inside the current file.
        lines: list[str] = []
        for snippet_path, text in context:
            lines.append(comment_block(f"Path: {snippet_path}", language, path))
            lines.append(comment_block(text, language, path))
        if path:
            lines.append(comment_block(f"Path: {path}", language, path))
        return "".join(lines)


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


CODESTRAL = FimTemplate(
    family="codestral",
    fim_prefix="[PREFIX]",
    fim_suffix="[SUFFIX]",
    fim_middle="",
    bos="<s>",
    suffix_first=True,
    stop=("</s>", "[PREFIX]", "[SUFFIX]", "[MIDDLE]"),
    special_tokens=("<s>", "</s>", "[PREFIX]", "[SUFFIX]", "[MIDDLE]", "[INST]", "[/INST]"),
    context_layout="comment",
    description="Mistral Codestral (tokenizer v3 / tekken), suffix-prefix order",
)

QWEN = FimTemplate(
    family="qwen",
    fim_prefix="<|fim_prefix|>",
    fim_suffix="<|fim_suffix|>",
    fim_middle="<|fim_middle|>",
    stop=(
        "<|endoftext|>",
        "<|fim_pad|>",
        "<|file_sep|>",
        "<|repo_name|>",
        "<|im_end|>",
        "<|im_start|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
    ),
    special_tokens=(
        "<|endoftext|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|fim_pad|>",
        "<|file_sep|>",
        "<|repo_name|>",
        "<|im_start|>",
        "<|im_end|>",
    ),
    context_layout="qwen",
    repo_name_token="<|repo_name|>",
    file_sep_token="<|file_sep|>",
    description="Qwen2.5-Coder (and CodeQwen-style <|fim_*|> vocabularies)",
)

STARCODER = FimTemplate(
    family="starcoder",
    fim_prefix="<fim_prefix>",
    fim_suffix="<fim_suffix>",
    fim_middle="<fim_middle>",
    stop=(
        "<|endoftext|>",
        "<file_sep>",
        "<repo_name>",
        "<fim_prefix>",
        "<fim_suffix>",
        "<fim_middle>",
        "<fim_pad>",
    ),
    special_tokens=(
        "<|endoftext|>",
        "<fim_prefix>",
        "<fim_suffix>",
        "<fim_middle>",
        "<fim_pad>",
        "<file_sep>",
        "<repo_name>",
        "<reponame>",
        "<filename>",
        "<gh_stars>",
    ),
    context_layout="starcoder",
    repo_name_token="<repo_name>",
    file_sep_token="<file_sep>",
    description="StarCoder / StarCoder2 (also Granite-Code, which shares the tokens)",
)

DEEPSEEK = FimTemplate(
    family="deepseek",
    fim_prefix="<\uff5cfim\u2581begin\uff5c>",
    fim_suffix="<\uff5cfim\u2581hole\uff5c>",
    fim_middle="<\uff5cfim\u2581end\uff5c>",
    bos="<\uff5cbegin\u2581of\u2581sentence\uff5c>",
    stop=(
        "<\uff5cend\u2581of\u2581sentence\uff5c>",
        "<|EOT|>",
        "<\uff5cfim\u2581begin\uff5c>",
        "<\uff5cfim\u2581hole\uff5c>",
        "<\uff5cfim\u2581end\uff5c>",
    ),
    special_tokens=(
        "<\uff5cbegin\u2581of\u2581sentence\uff5c>",
        "<\uff5cend\u2581of\u2581sentence\uff5c>",
        "<|EOT|>",
        "<\uff5cfim\u2581begin\uff5c>",
        "<\uff5cfim\u2581hole\uff5c>",
        "<\uff5cfim\u2581end\uff5c>",
    ),
    context_layout="comment",
    description="DeepSeek-Coder (fullwidth bars, U+2581 in the token names)",
)

CODELLAMA = FimTemplate(
    family="codellama",
    fim_prefix="<PRE> ",
    fim_suffix=" <SUF>",
    fim_middle=" <MID>",
    bos="<s>",
    stop=("<EOT>", "\u2581<EOT>", "<PRE>", "<SUF>", "<MID>"),
    special_tokens=(
        "<s>",
        "</s>",
        "<PRE>",
        "<SUF>",
        "<MID>",
        "<EOT>",
        "\u2581<PRE>",
        "\u2581<SUF>",
        "\u2581<MID>",
        "\u2581<EOT>",
    ),
    context_layout="comment",
    description="Meta Code Llama infilling (7B/13B/70B base and Python variants)",
)

CODEGEMMA = FimTemplate(
    family="codegemma",
    fim_prefix="<|fim_prefix|>",
    fim_suffix="<|fim_suffix|>",
    fim_middle="<|fim_middle|>",
    bos="<bos>",
    stop=(
        "<|file_separator|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<eos>",
        "<end_of_turn>",
    ),
    special_tokens=(
        "<bos>",
        "<eos>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|file_separator|>",
        "<start_of_turn>",
        "<end_of_turn>",
    ),
    context_layout="codegemma",
    file_sep_token="<|file_separator|>",
    description="Google CodeGemma 2B/7B",
)

FAMILIES: Mapping[str, FimTemplate] = MappingProxyType(
    {t.family: t for t in (CODESTRAL, QWEN, STARCODER, DEEPSEEK, CODELLAMA, CODEGEMMA)}
)


def get_template(name: str) -> FimTemplate:
    """The template for a family name (case and surrounding spaces ignored)."""
    key = name.strip().lower()
    found = FAMILIES.get(key)
    if found is None:
        valid = ", ".join(sorted(FAMILIES))
        raise UnknownTemplateError(f"unknown FIM template {name!r}; valid names: {valid}")
    return found
