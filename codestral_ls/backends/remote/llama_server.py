"""llama.cpp's own server: ``POST /infill`` (the server applies the model's FIM tokens).

Context snippets travel as ``input_extra`` so the server can use its repo-level FIM layout,
and ``cache_prompt`` lets it reuse the KV cache between keystrokes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...config import Settings
from ..base import FimRequest
from .answer import Piece
from .body import stop_and_seed
from .http_backend import HttpBackend


class LlamaServerBackend(HttpBackend):
    name = "llama-server"
    path = "/infill"
    default_api_base = "http://127.0.0.1:8080"

    def model_label(self) -> str:
        return self.model or "(loaded by the server)"

    def body(self, request: FimRequest) -> dict[str, Any]:
        budget_ms = self.budget_ms
        return {
            "input_prefix": request.prefix,
            "input_suffix": request.suffix,
            "input_extra": [
                {"filename": snippet.path, "text": snippet.text} for snippet in request.context
            ],
            "n_predict": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "cache_prompt": True,
            "t_max_prompt_ms": budget_ms,
            "t_max_predict_ms": budget_ms,
            "stream": True,
            **stop_and_seed(request),
        }

    def piece(self, event: Mapping[str, Any]) -> Piece:
        text = event.get("content")
        return Piece.of(text, event.get("stop") is True)

    def whole(self, body: Mapping[str, Any]) -> str:
        text = body.get("content")
        return text if isinstance(text, str) else ""

    def not_found_hint(self) -> str:
        return "is this llama.cpp's llama-server (it serves /infill)? check 'api_base'"


def create(settings: Settings) -> LlamaServerBackend:
    return LlamaServerBackend(settings)
