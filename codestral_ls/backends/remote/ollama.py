"""Ollama: ``POST /api/generate`` with prompt + suffix; the answer is NDJSON lines.

Ollama applies the model's FIM template itself when ``suffix`` is given (``raw: false``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...config import Settings
from ..base import FimRequest
from .answer import Piece
from .body import prefix_with_context, stop_and_seed
from .http_backend import HttpBackend

DEFAULT_MODEL = "qwen2.5-coder:1.5b-base"


class OllamaBackend(HttpBackend):
    name = "ollama"
    path = "/api/generate"
    framing = "ndjson"
    default_api_base = "http://127.0.0.1:11434"
    default_model = DEFAULT_MODEL

    def body(self, request: FimRequest) -> dict[str, Any]:
        return {
            "model": self.model,
            "prompt": prefix_with_context(request),
            "suffix": request.suffix,
            "raw": False,
            "stream": True,
            "options": {
                "num_predict": request.max_tokens,
                "temperature": request.temperature,
                "top_p": request.top_p,
                **stop_and_seed(request),
            },
        }

    def piece(self, event: Mapping[str, Any]) -> Piece:
        text = event.get("response")
        return Piece.of(text, event.get("done") is True)

    def whole(self, body: Mapping[str, Any]) -> str:
        text = body.get("response")
        return text if isinstance(text, str) else ""

    def not_found_hint(self) -> str:
        return f"run `ollama pull {self.model}` or set 'remote_model' to a model you have"


def create(settings: Settings) -> OllamaBackend:
    return OllamaBackend(settings)
