"""Remote models get the whole FIM prompt: prefix and suffix, at every position.

The local model's layout policy (leave the suffix out where it costs a re-read per keystroke)
must never reach a remote API: there the suffix costs nothing and the model is trained on it.
Each remote backend runs behind the engine against a loopback stand-in that records requests.
"""

from __future__ import annotations

from typing import Any

import pytest

from codestral_ls.backends import create_backend
from codestral_ls.config import Settings
from codestral_ls.engine import CompletionRequest, Engine, TriggerKind
from remote_helpers import (
    LlamaServerStandIn,
    MistralStandIn,
    OllamaStandIn,
    OpenAICompletionsStandIn,
    ScriptedStandIn,
    StandInServer,
)

SOURCE = "def nonblank(line):\n    \n\nprint(nonblank('  x '))\n"
EMPTY_BODY = SOURCE.index("    \n") + 4
LINE_END = len("def nonblank(line):")
BELOW = "print(nonblank('  x '))"

#: backend -> (stand-in, settings, the request body's suffix field)
BACKENDS: dict[str, tuple[type[ScriptedStandIn], dict[str, Any], str]] = {
    "mistral": (MistralStandIn, {"api_key": "test-key"}, "suffix"),
    "openai": (OpenAICompletionsStandIn, {"remote_model": "m"}, "suffix"),
    "llama-server": (LlamaServerStandIn, {}, "input_suffix"),
    "ollama": (OllamaStandIn, {"remote_model": "m"}, "suffix"),
}


def stand_in(name: str) -> ScriptedStandIn:
    cls = BACKENDS[name][0]
    if cls is MistralStandIn:
        return MistralStandIn("test-key", "return line.strip()\n")
    return cls("return line.strip()\n")  # type: ignore[call-arg]


@pytest.mark.parametrize("name", sorted(BACKENDS))
@pytest.mark.parametrize(
    ("where", "offset"), [("empty body line", EMPTY_BODY), ("line end", LINE_END)]
)
async def test_a_remote_backend_receives_the_code_below_the_cursor(
    name: str, where: str, offset: int
) -> None:
    _, extra, suffix_field = BACKENDS[name]
    async with StandInServer(stand_in(name)) as server:
        base = server.url + ("/v1" if name in ("openai", "mistral") else "")
        settings = Settings(backend=name, api_base=base, debounce_ms=0, speculate=False)
        settings = settings.merged(extra, "test")
        engine = Engine(settings, create_backend(settings))
        await engine.start()
        request = CompletionRequest(
            "file:///w/n.py", SOURCE, offset, "python", TriggerKind.INVOKED, "/w/n.py"
        )
        await engine.complete(request)
        await engine.aclose()
    assert server.requests, f"{name} sent nothing"
    body = server.requests[0].json()
    assert BELOW in str(body.get(suffix_field, "")), f"{name} at the {where}: {body}"
    assert "def nonblank(line):" in str(body), body
