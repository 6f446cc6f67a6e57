"""Picking the FIM family of a GGUF model from its metadata and vocabulary."""

from __future__ import annotations

import pytest

from fim import FAMILIES, detect_family

BAR = "\uff5c"
LOW = "\u2581"

COMMON = {"<s>", "</s>", "def", "return", "Ġthe", "▁the"}

QWEN_VOCAB = COMMON | {
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
}
CODEGEMMA_VOCAB = COMMON | {
    "<bos>",
    "<eos>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|file_separator|>",
}
CODESTRAL_VOCAB = COMMON | {"[INST]", "[/INST]", "[PREFIX]", "[SUFFIX]", "[MIDDLE]"}
STARCODER_VOCAB = COMMON | {"<|endoftext|>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>"}
DEEPSEEK_VOCAB = COMMON | {
    f"<{BAR}fim{LOW}begin{BAR}>",
    f"<{BAR}fim{LOW}hole{BAR}>",
    f"<{BAR}fim{LOW}end{BAR}>",
    "<|EOT|>",
}
CODELLAMA_VOCAB = COMMON | {f"{LOW}<PRE>", f"{LOW}<SUF>", f"{LOW}<MID>", f"{LOW}<EOT>"}
LLAMA3_VOCAB = {"<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "def"}

QWEN_META = {
    "general.architecture": "qwen2",
    "general.name": "Qwen2.5 Coder 0.5B",
    "general.basename": "Qwen2.5-Coder",
    "tokenizer.ggml.pre": "qwen2",
}


@pytest.mark.parametrize(
    ("vocab", "family"),
    [
        (QWEN_VOCAB, "qwen"),
        (CODEGEMMA_VOCAB, "codegemma"),
        (CODESTRAL_VOCAB, "codestral"),
        (STARCODER_VOCAB, "starcoder"),
        (DEEPSEEK_VOCAB, "deepseek"),
        (CODELLAMA_VOCAB, "codellama"),
        (COMMON | {"<PRE>", "<SUF>", "<MID>", "<EOT>"}, "codellama"),
    ],
)
def test_vocabulary_alone_names_the_family(vocab: set[str], family: str) -> None:
    assert detect_family({}, vocab) == family
    assert family in FAMILIES


def test_real_looking_qwen_coder_gguf() -> None:
    assert detect_family(QWEN_META, QWEN_VOCAB) == "qwen"


@pytest.mark.parametrize(
    ("metadata", "vocab", "family"),
    [
        # A renamed fine-tune: the name lies, the tokens do not.
        ({"general.architecture": "llama", "general.name": "CodeLlama 7B"}, QWEN_VOCAB, "qwen"),
        (
            {"general.architecture": "qwen2", "general.name": "my-merge"},
            CODEGEMMA_VOCAB,
            "codegemma",
        ),
        (
            {"general.architecture": "llama", "general.name": "Codestral"},
            DEEPSEEK_VOCAB,
            "deepseek",
        ),
        ({"general.architecture": "starcoder2"}, CODESTRAL_VOCAB, "codestral"),
    ],
)
def test_vocabulary_wins_over_metadata(
    metadata: dict[str, str], vocab: set[str], family: str
) -> None:
    assert detect_family(metadata, vocab) == family


def test_bare_fim_markers_are_settled_by_the_architecture() -> None:
    bare = COMMON | {"<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"}
    assert detect_family({"general.architecture": "gemma"}, bare) == "codegemma"
    assert detect_family({"general.architecture": "qwen2"}, bare) == "qwen"
    assert detect_family({}, bare) == "qwen"


@pytest.mark.parametrize(
    ("metadata", "family"),
    [
        ({"general.architecture": "llama", "general.name": "Codestral-22B-v0.1"}, "codestral"),
        ({"general.architecture": "qwen2", "general.basename": "Qwen2.5-Coder"}, "qwen"),
        ({"general.architecture": "qwen2", "general.name": "coder-instruct"}, "qwen"),
        ({"general.architecture": "starcoder2", "general.name": "model"}, "starcoder"),
        ({"general.architecture": "llama", "tokenizer.ggml.pre": "deepseek-coder"}, "deepseek"),
        ({"general.architecture": "llama", "general.name": "CodeLlama-7b-hf"}, "codellama"),
        ({"general.architecture": "gemma", "general.name": "codegemma-2b"}, "codegemma"),
        ({"general.architecture": "gemma", "general.basename": "code-gemma"}, "codegemma"),
    ],
)
def test_metadata_decides_when_the_vocabulary_is_silent(
    metadata: dict[str, str], family: str
) -> None:
    assert detect_family(metadata, COMMON) == family


@pytest.mark.parametrize(
    ("metadata", "vocab"),
    [
        ({}, set()),
        ({"general.architecture": "llama", "general.name": "Meta Llama 3 8B"}, LLAMA3_VOCAB),
        ({"general.architecture": "qwen2", "general.name": "Qwen2 7B Instruct"}, COMMON),
        ({"general.architecture": "gemma", "general.name": "gemma-2b-it"}, COMMON),
        # SantaCoder's hyphenated tokens are a different format, not StarCoder's.
        ({"general.architecture": "gpt2"}, COMMON | {"<fim-prefix>", "<fim-suffix>"}),
        # Only one of Codestral's markers: not enough to prompt it.
        ({}, COMMON | {"[SUFFIX]"}),
    ],
)
def test_nothing_matches(metadata: dict[str, str], vocab: set[str]) -> None:
    assert detect_family(metadata, vocab) is None


def test_any_collection_of_token_texts_works() -> None:
    assert detect_family({}, list(QWEN_VOCAB)) == "qwen"
    assert detect_family({}, tuple(CODESTRAL_VOCAB)) == "codestral"
    assert detect_family({}, frozenset(CODELLAMA_VOCAB)) == "codellama"
