"""The openai, llama-server, ollama and chat backends: what they send and what they read."""

from __future__ import annotations

import json

import pytest

from codestral_ls.backends import create_backend
from codestral_ls.backends.base import (
    Backend,
    BackendConfigError,
    BackendTransientError,
    ContextSnippet,
    FimRequest,
)
from codestral_ls.backends.remote.chat import ChatBackend, clean_chat_answer
from codestral_ls.backends.remote.http_backend import HttpBackend
from codestral_ls.backends.remote.llama_server import LlamaServerBackend
from codestral_ls.backends.remote.ollama import OllamaBackend
from codestral_ls.backends.remote.openai_compat import OpenAICompatBackend
from codestral_ls.config import Settings
from fim import get_template
from remote_helpers import (
    ChatStandIn,
    LlamaServerStandIn,
    OllamaStandIn,
    OpenAICompletionsStandIn,
    Reply,
    StandInServer,
)

REQUEST = FimRequest(
    prefix="def add(a, b):\n    return ",
    suffix="\n\nprint(add(1, 2))\n",
    language="python",
    path="src/calc.py",
    max_tokens=24,
    stop=("\ndef ",),
    seed=3,
    context=(ContextSnippet("src/util.py", "PI = 3.14\n"),),
)


async def collect(backend: HttpBackend, request: FimRequest = REQUEST) -> str:
    return "".join([p async for p in backend.stream(request)])


@pytest.mark.parametrize("name", ["openai", "llama-server", "ollama", "chat", "mistral"])
async def test_every_remote_backend_is_a_backend(name: str) -> None:
    backend = create_backend(Settings(backend=name, api_key="k" if name == "mistral" else ""))
    assert isinstance(backend, Backend)
    assert backend.info.backend == name and backend.info.endpoint.startswith("http")
    await backend.aclose()


async def test_openai_sends_prompt_and_suffix_and_reads_text_chunks() -> None:
    async with StandInServer(OpenAICompletionsStandIn("a + b")) as server:
        settings = Settings(backend="openai", api_base=server.url + "/v1", remote_model="m1")
        backend = OpenAICompatBackend(settings)
        assert await collect(backend) == "a + b"
        await backend.aclose()
    sent = server.requests[0]
    assert sent.path == "/v1/completions"
    assert "authorization" not in sent.headers
    body = sent.json()
    assert body == {
        "model": "m1",
        "prompt": "# Path: src/util.py\n# PI = 3.14\n# Path: src/calc.py\n" + REQUEST.prefix,
        "suffix": REQUEST.suffix,
        "max_tokens": 24,
        "temperature": 0.0,
        "top_p": 1.0,
        "stream": True,
        "stop": ["\ndef "],
        "seed": 3,
    }


async def test_openai_raw_prompt_renders_the_template_without_suffix() -> None:
    async with StandInServer(OpenAICompletionsStandIn("a + b")) as server:
        settings = Settings(backend="openai", api_base=server.url, raw_prompt=True, template="qwen")
        backend = OpenAICompatBackend(settings)
        assert backend.info.template == "qwen"
        assert await collect(backend) == "a + b"
        await backend.aclose()
    body = server.requests[0].json()
    qwen = get_template("qwen")
    assert "suffix" not in body and "model" not in body
    assert body["prompt"] == qwen.render(
        REQUEST.prefix,
        REQUEST.suffix,
        context=[("src/util.py", "PI = 3.14\n")],
        path="src/calc.py",
        language="python",
    )
    assert body["prompt"].endswith("<|fim_middle|>")
    assert body["stop"][0] == "\ndef " and set(qwen.stop) <= set(body["stop"])


async def test_openai_raw_prompt_needs_a_named_template() -> None:
    backend = OpenAICompatBackend(Settings(backend="openai", raw_prompt=True))
    with pytest.raises(BackendConfigError, match="'template'"):
        await backend.start(lambda message, percent: None)
    await backend.aclose()
    backend = OpenAICompatBackend(Settings(backend="openai", raw_prompt=True, template="nope"))
    with pytest.raises(BackendConfigError, match="nope"):
        await collect(backend)
    await backend.aclose()


async def test_llama_server_infill_body_and_events() -> None:
    async with StandInServer(LlamaServerStandIn("a + b")) as server:
        settings = Settings(backend="llama-server", api_base=server.url, request_timeout_ms=5000)
        backend = LlamaServerBackend(settings)
        assert await collect(backend) == "a + b"
        await backend.aclose()
    sent = server.requests[0]
    assert sent.path == "/infill"
    assert sent.json() == {
        "input_prefix": REQUEST.prefix,
        "input_suffix": REQUEST.suffix,
        "input_extra": [{"filename": "src/util.py", "text": "PI = 3.14\n"}],
        "n_predict": 24,
        "temperature": 0.0,
        "top_p": 1.0,
        "cache_prompt": True,
        "t_max_prompt_ms": 5000,
        "t_max_predict_ms": 5000,
        "stream": True,
        "stop": ["\ndef "],
        "seed": 3,
    }


async def test_llama_server_error_lines_are_reported() -> None:
    stand_in = LlamaServerStandIn()
    stand_in.queue.append(
        Reply(
            "stream",
            headers={"Content-Type": "text/event-stream"},
            events=[b'error: {"code": 500, "message": "context shift is disabled"}\n\n'],
        )
    )
    async with StandInServer(stand_in) as server:
        backend = LlamaServerBackend(Settings(backend="llama-server", api_base=server.url))
        with pytest.raises(BackendTransientError, match="context shift is disabled"):
            await collect(backend)
        await backend.aclose()


async def test_ollama_generate_body_and_ndjson_answer() -> None:
    async with StandInServer(OllamaStandIn("a + b")) as server:
        backend = OllamaBackend(
            Settings(backend="ollama", api_base=server.url, remote_model="qwen2.5-coder:1.5b")
        )
        assert await collect(backend) == "a + b"
        await backend.aclose()
    sent = server.requests[0]
    assert sent.path == "/api/generate"
    body = sent.json()
    assert body["prompt"].endswith("def add(a, b):\n    return ")
    assert body == {
        "model": "qwen2.5-coder:1.5b",
        "prompt": body["prompt"],
        "suffix": REQUEST.suffix,
        "raw": False,
        "stream": True,
        "options": {
            "num_predict": 24,
            "temperature": 0.0,
            "top_p": 1.0,
            "stop": ["\ndef "],
            "seed": 3,
        },
    }


def test_ollama_defaults_to_the_local_daemon() -> None:
    backend = OllamaBackend(Settings(backend="ollama"))
    assert backend.info.endpoint == "http://127.0.0.1:11434/api/generate"


async def test_ollama_missing_model_and_midstream_errors() -> None:
    stand_in = OllamaStandIn(models=("present:latest",))
    async with StandInServer(stand_in) as server:
        backend = OllamaBackend(
            Settings(backend="ollama", api_base=server.url, remote_model="absent")
        )
        with pytest.raises(BackendConfigError, match="ollama pull absent"):
            await collect(backend)
        await backend.aclose()
        stand_in.queue.append(
            Reply.ndjson([{"response": "a", "done": False}, {"error": "out of memory"}])
        )
        backend = OllamaBackend(
            Settings(backend="ollama", api_base=server.url, remote_model="present:latest")
        )
        with pytest.raises(BackendTransientError, match="out of memory"):
            await collect(backend)
        stand_in.queue.append(Reply.ndjson([{"response": "a", "done": False}]))
        backend.breaker.record_success()
        with pytest.raises(BackendTransientError, match="ended before"):
            await collect(backend)
        await backend.aclose()


async def test_chat_asks_for_the_middle_and_cleans_the_answer() -> None:
    answer = "Here is the code:\n```python\n    return a + b\n```\nThis adds the numbers."
    async with StandInServer(ChatStandIn(answer)) as server:
        backend = ChatBackend(Settings(backend="chat", api_base=server.url, remote_model="gpt"))
        pieces = [p async for p in backend.stream(REQUEST)]
        await backend.aclose()
    assert pieces == ["a + b"]
    body = server.requests[0].json()
    assert body["model"] == "gpt" and body["stream"] is True and body["max_tokens"] == 24
    system, user = body["messages"]
    assert system["role"] == "system" and "only" in system["content"]
    assert user["role"] == "user"
    assert "def add(a, b):\n    return <CURSOR>\n\nprint(add(1, 2))" in user["content"]
    assert "src/calc.py" in user["content"]


@pytest.mark.parametrize(
    ("answer", "prefix", "suffix", "expected"),
    [
        ("a + b", "    return ", "\n", "a + b"),
        ("```python\na + b\n```", "    return ", "\n", "a + b"),
        ("```\na + b", "    return ", "\n", "a + b"),  # cut off before the closing fence
        ("Sure!\n```py\nx = 1\ny = 2\n```\nDone.", "", "", "x = 1\ny = 2"),
        ("    return a + b", "def f(a, b):\n    return ", "\n", "a + b"),
        ("return a + b", "def f(a, b):\n    return ", "\n", "a + b"),
        ("def f(a, b):\n    return a + b", "def f(a, b):\n    return ", "\n", "a + b"),
        (
            "total = a + b\n    return total\n\nprint(f(1, 2))",
            "def f(a, b):\n    ",
            "\n\nprint(f(1, 2))\n",
            "total = a + b\n    return total",
        ),
        ("x):", "def f(", "):\n", "x"),
        ("f(x)", "print(", ")\n", "f(x)"),  # one bracket is too common to be an echo
        ("```\n\n```", "x = ", "\n", ""),
        ("", "x = ", "\n", ""),
        ("}\n", "if (a) {\n  b();\n", "}\n", "}"),  # short suffix lines are not echoes
    ],
)
def test_clean_chat_answer(answer: str, prefix: str, suffix: str, expected: str) -> None:
    assert clean_chat_answer(answer, prefix, suffix) == expected


async def test_chat_answer_that_is_only_noise_yields_nothing() -> None:
    async with StandInServer(ChatStandIn("```\n```")) as server:
        backend = ChatBackend(Settings(backend="chat", api_base=server.url))
        assert [p async for p in backend.stream(REQUEST)] == []
        assert "model" not in server.requests[0].json()
        await backend.aclose()


async def test_server_that_ignores_stream_true_is_read_whole() -> None:
    stand_in = OpenAICompletionsStandIn()
    whole = {"choices": [{"index": 0, "text": "x * 2", "finish_reason": "stop"}]}
    stand_in.queue.append(Reply("whole", 200, json.dumps(whole).encode(), {}))
    stand_in.queue.append(Reply.json(200, whole))
    async with StandInServer(stand_in) as server:
        backend = OpenAICompatBackend(Settings(backend="openai", api_base=server.url))
        # Without a content type the SSE reader finds no events: an error, not a crash.
        with pytest.raises(BackendTransientError):
            await collect(backend)
        backend.breaker.record_success()
        assert await collect(backend) == "x * 2"
        await backend.aclose()
