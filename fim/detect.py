"""Pick the FIM family of a GGUF model from its metadata and vocabulary.

The vocabulary is the stronger signal: a model can only be prompted with special tokens it
has, whatever its name says (fine-tunes and merges are renamed freely; architectures such as
``llama`` are shared by many families). Token spellings follow llama.cpp's own FIM token
detection in ``llama-vocab.cpp``, which also matches ``\u2581<PRE>`` for Code Llama.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

_QWEN_REPO_TOKENS = ("<|file_sep|>", "<|repo_name|>", "<|fim_pad|>")


def detect_family(metadata: Mapping[str, str], token_texts: Collection[str]) -> str | None:
    """The family name (a key of ``FAMILIES``) or None when nothing matches.

    ``metadata``: GGUF key/values as strings (``general.architecture``, ``general.name``,
    ``general.basename``, ``tokenizer.ggml.pre``). ``token_texts``: the vocabulary's token
    texts; a set is fastest, any collection works.
    """
    from_vocab = _from_vocabulary(metadata, token_texts)
    if from_vocab is not None:
        return from_vocab
    return _from_metadata(metadata)


def _from_vocabulary(metadata: Mapping[str, str], vocab: Collection[str]) -> str | None:
    if "[SUFFIX]" in vocab and "[PREFIX]" in vocab:
        return "codestral"
    if "<|fim_prefix|>" in vocab:
        if "<|file_separator|>" in vocab:
            return "codegemma"
        if any(token in vocab for token in _QWEN_REPO_TOKENS):
            return "qwen"
        # Only the three FIM markers: the two families share them; the metadata decides.
        return "codegemma" if _looks_like_gemma(metadata) else "qwen"
    if "<\uff5cfim\u2581begin\uff5c>" in vocab:
        return "deepseek"
    if "<fim_prefix>" in vocab:
        return "starcoder"
    if "<PRE>" in vocab or "\u2581<PRE>" in vocab:
        return "codellama"
    return None


def _names(metadata: Mapping[str, str]) -> str:
    keys = ("general.name", "general.basename", "general.finetune", "general.base_model.0.name")
    return " ".join(str(metadata.get(k, "")) for k in keys).lower()


def _looks_like_gemma(metadata: Mapping[str, str]) -> bool:
    arch = str(metadata.get("general.architecture", "")).lower()
    return arch.startswith("gemma") or "gemma" in _names(metadata)


def _from_metadata(metadata: Mapping[str, str]) -> str | None:
    arch = str(metadata.get("general.architecture", "")).lower()
    pre = str(metadata.get("tokenizer.ggml.pre", "")).lower()
    names = _names(metadata)
    compact = names.replace("-", "").replace("_", "").replace(" ", "")
    if "codestral" in compact:
        return "codestral"
    if "codegemma" in compact or (arch.startswith("gemma") and "code" in names):
        return "codegemma"
    if "deepseekcoder" in compact or pre == "deepseek-coder":
        return "deepseek"
    if "codellama" in compact:
        return "codellama"
    if arch in ("starcoder", "starcoder2") or "starcoder" in compact or pre == "starcoder":
        return "starcoder"
    if "qwen" in compact and "coder" in compact:
        return "qwen"
    if (arch.startswith("qwen2") or pre == "qwen2") and "coder" in compact:
        return "qwen"
    return None
