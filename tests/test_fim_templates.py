"""The exact prompt text each model family receives, its stop strings and template lookup."""

from __future__ import annotations

import dataclasses

import pytest

from fim import FAMILIES, FimTemplate, UnknownTemplateError, get_template

BAR = "\uff5c"  # FULLWIDTH VERTICAL LINE, as in DeepSeek-Coder's token names
LOW = "\u2581"  # LOWER ONE EIGHTH BLOCK (SentencePiece space)
DS_BEGIN = f"<{BAR}fim{LOW}begin{BAR}>"
DS_HOLE = f"<{BAR}fim{LOW}hole{BAR}>"
DS_END = f"<{BAR}fim{LOW}end{BAR}>"

PREFIX = "def add(a, b):\n    "
SUFFIX = "\n\nprint(add(1, 2))\n"
CONTEXT = [("pkg/util.py", "def helper():\n    return 1\n"), ("README.md", "Adds numbers")]

PLAIN = {
    "codestral": f"[SUFFIX]{SUFFIX}[PREFIX]{PREFIX}",
    "qwen": f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>",
    "starcoder": f"<fim_prefix>{PREFIX}<fim_suffix>{SUFFIX}<fim_middle>",
    "deepseek": f"{DS_BEGIN}{PREFIX}{DS_HOLE}{SUFFIX}{DS_END}",
    "codellama": f"<PRE> {PREFIX} <SUF>{SUFFIX} <MID>",
    "codegemma": f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>",
}

NO_SUFFIX = {
    "codestral": "[SUFFIX][PREFIX]P",
    "qwen": "<|fim_prefix|>P<|fim_suffix|><|fim_middle|>",
    "starcoder": "<fim_prefix>P<fim_suffix><fim_middle>",
    "deepseek": f"{DS_BEGIN}P{DS_HOLE}{DS_END}",
    "codellama": "<PRE> P <SUF> <MID>",
    "codegemma": "<|fim_prefix|>P<|fim_suffix|><|fim_middle|>",
}

COMMENT_HEADER = (
    "# Path: pkg/util.py\n"
    "# def helper():\n"
    "#     return 1\n"
    "# Path: README.md\n"
    "# Adds numbers\n"
    "# Path: src/calc.py\n"
)

WITH_CONTEXT = {
    "qwen": (
        "<|repo_name|>project\n"
        "<|file_sep|>pkg/util.py\ndef helper():\n    return 1\n"
        "<|file_sep|>README.md\nAdds numbers\n"
        "<|file_sep|>src/calc.py\n"
        f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>"
    ),
    "starcoder": (
        "<repo_name>project"
        "<file_sep>pkg/util.py\ndef helper():\n    return 1\n"
        "<file_sep>README.md\nAdds numbers"
        f"<file_sep><fim_prefix>src/calc.py\n{PREFIX}<fim_suffix>{SUFFIX}<fim_middle>"
    ),
    "codegemma": (
        "<|file_separator|>pkg/util.py\ndef helper():\n    return 1\n"
        "<|file_separator|>README.md\nAdds numbers\n"
        "<|file_separator|>src/calc.py\n"
        f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>"
    ),
    "codestral": f"[SUFFIX]{SUFFIX}[PREFIX]{COMMENT_HEADER}{PREFIX}",
    "deepseek": f"{DS_BEGIN}{COMMENT_HEADER}{PREFIX}{DS_HOLE}{SUFFIX}{DS_END}",
    "codellama": f"<PRE> {COMMENT_HEADER}{PREFIX} <SUF>{SUFFIX} <MID>",
}


def test_the_six_families_are_known() -> None:
    assert set(FAMILIES) == {"codestral", "qwen", "starcoder", "deepseek", "codellama", "codegemma"}
    for name, template in FAMILIES.items():
        assert template.family == name


@pytest.mark.parametrize("family", sorted(PLAIN))
def test_plain_prompt_is_pinned(family: str) -> None:
    assert get_template(family).render(PREFIX, SUFFIX) == PLAIN[family]


@pytest.mark.parametrize("family", sorted(NO_SUFFIX))
def test_empty_suffix_keeps_every_marker(family: str) -> None:
    assert get_template(family).render("P", "") == NO_SUFFIX[family]


@pytest.mark.parametrize("family", sorted(WITH_CONTEXT))
def test_prompt_with_context_is_pinned(family: str) -> None:
    rendered = get_template(family).render(PREFIX, SUFFIX, context=CONTEXT, path="src/calc.py")
    assert rendered == WITH_CONTEXT[family]


@pytest.mark.parametrize("family", sorted(PLAIN))
def test_without_context_the_path_changes_nothing(family: str) -> None:
    template = get_template(family)
    assert template.render(PREFIX, SUFFIX, context=(), path="src/calc.py") == PLAIN[family]
    assert template.render(PREFIX, SUFFIX, context=[], path="src/calc.py") == PLAIN[family]


@pytest.mark.parametrize("family", ["qwen", "starcoder", "codegemma", "deepseek", "codellama"])
def test_context_sits_before_the_cursor_text_so_it_stays_cached(family: str) -> None:
    template = get_template(family)
    one = template.render("x = 1\n", "", context=CONTEXT, path="a.py")
    two = template.render("x = 1\ny", "", context=CONTEXT, path="a.py")
    common = len(one) - len(template.fim_suffix + template.fim_middle)
    assert two[:common] == one[:common]
    assert "def helper():" in one[: one.index("x = 1")]


def test_codestral_puts_the_suffix_first_and_keystrokes_only_change_the_tail() -> None:
    template = get_template("codestral")
    one = template.render("x = ", ")\n", context=CONTEXT, path="a.py")
    two = template.render("x = f(", ")\n", context=CONTEXT, path="a.py")
    assert one.startswith("[SUFFIX])\n[PREFIX]")
    assert two.startswith(one[: one.index("x = ")])


def test_bos_is_added_only_on_request() -> None:
    assert get_template("codestral").render("P", "S", with_bos=True) == "<s>[SUFFIX]S[PREFIX]P"
    assert get_template("codellama").render("P", "S", with_bos=True) == "<s><PRE> P <SUF>S <MID>"
    deepseek = get_template("deepseek").render("P", "S", with_bos=True)
    assert deepseek == f"<{BAR}begin{LOW}of{LOW}sentence{BAR}>{DS_BEGIN}P{DS_HOLE}S{DS_END}"
    assert get_template("codegemma").render("P", "S", with_bos=True).startswith("<bos><|fim_")
    assert get_template("qwen").render("P", "S", with_bos=True) == NO_SUFFIX["qwen"].replace(
        "<|fim_suffix|>", "<|fim_suffix|>S"
    )


def test_repo_name_and_missing_path_in_repository_formats() -> None:
    qwen = get_template("qwen").render("P", "S", context=[("a.py", "A")], repo_name="calc")
    assert qwen == (
        "<|repo_name|>calc\n<|file_sep|>a.py\nA\n<|file_sep|>untitled\n"
        "<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>"
    )


def test_comment_header_follows_the_language_of_the_current_file() -> None:
    deepseek = get_template("deepseek")
    lua = deepseek.render("local x", "", context=[("util.lua", "return 1")], path="main.lua")
    assert (
        lua
        == f"{DS_BEGIN}-- Path: util.lua\n-- return 1\n-- Path: main.lua\nlocal x{DS_HOLE}{DS_END}"
    )
    rust = deepseek.render("fn", "", context=[("a.rs", "fn a() {}")], language="rust")
    assert rust.startswith(f"{DS_BEGIN}// Path: a.rs\n// fn a() {{}}\nfn")
    html = deepseek.render("<p>", "", context=[("a.html", "<b>-->")], path="index.html")
    assert html.startswith(f"{DS_BEGIN}<!-- Path: a.html -->\n<!-- <b>- -> -->\n")


@pytest.mark.parametrize("template", list(FAMILIES.values()), ids=list(FAMILIES))
def test_stop_strings_are_special_tokens_of_the_family(template: FimTemplate) -> None:
    assert template.stop
    assert set(template.stop) <= set(template.special_tokens)
    for marker in (template.fim_prefix, template.fim_suffix, template.fim_middle):
        if marker.strip():
            assert marker.strip() in template.special_tokens


def test_stop_strings_per_family() -> None:
    assert set(get_template("qwen").stop) >= {
        "<|endoftext|>",
        "<|fim_pad|>",
        "<|file_sep|>",
        "<|repo_name|>",
        "<|im_end|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
    }
    assert set(get_template("starcoder").stop) >= {
        "<|endoftext|>",
        "<file_sep>",
        "<fim_prefix>",
        "<fim_suffix>",
        "<fim_middle>",
    }
    assert set(get_template("deepseek").stop) >= {f"<{BAR}end{LOW}of{LOW}sentence{BAR}>", "<|EOT|>"}
    assert "<EOT>" in get_template("codellama").stop
    assert set(get_template("codegemma").stop) >= {
        "<|file_separator|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<eos>",
    }
    assert "</s>" in get_template("codestral").stop


def test_get_template_ignores_case_and_spaces() -> None:
    assert get_template(" Qwen ") is FAMILIES["qwen"]


@pytest.mark.parametrize("name", ["", "qwen2", "mistral", "llama"])
def test_unknown_template_lists_valid_names(name: str) -> None:
    with pytest.raises(UnknownTemplateError) as info:
        get_template(name)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert repr(name) in message
    for valid in FAMILIES:
        assert valid in message


def test_templates_and_registry_are_immutable() -> None:
    template = get_template("qwen")
    with pytest.raises(dataclasses.FrozenInstanceError):
        template.family = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        FAMILIES["new"] = template  # type: ignore[index]
