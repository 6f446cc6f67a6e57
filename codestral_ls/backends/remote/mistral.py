"""Mistral's Codestral FIM API: ``POST /v1/fim/completions`` with prompt + suffix.

Answers have the chat shape: ``choices[0].message.content`` when whole, and SSE events with
``choices[0].delta.content`` (``finish_reason`` on the last) followed by ``data: [DONE]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...config import Settings
from ..base import FimRequest
from .answer import Piece, chat_piece, chat_whole
from .body import prefix_with_context, stop_and_seed
from .http_backend import HttpBackend

DEFAULT_API_BASE = "https://codestral.mistral.ai"
DEFAULT_MODEL = "codestral-latest"


class MistralBackend(HttpBackend):
    name = "mistral"
    path = "/v1/fim/completions"
    default_api_base = DEFAULT_API_BASE
    default_model = DEFAULT_MODEL
    key_required = True
    key_env_hint = "MISTRAL_API_KEY / CODESTRAL_API_KEY"

    def body(self, request: FimRequest) -> dict[str, Any]:
        return {
            "model": self.model,
            "prompt": prefix_with_context(request),
            "suffix": request.suffix,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "stream": True,
            **stop_and_seed(request, seed_key="random_seed"),
        }

    def piece(self, event: Mapping[str, Any]) -> Piece:
        return chat_piece(event)

    def whole(self, body: Mapping[str, Any]) -> str:
        return chat_whole(body)

    def auth_message(self, status: int, message: str) -> str:
        return (
            super().auth_message(status, message)
            + ". Keys made for Codestral work with api_base https://codestral.mistral.ai; "
            "general La Plateforme keys with https://api.mistral.ai"
        )

    def not_found_hint(self) -> str:
        return f"check 'api_base' (default {DEFAULT_API_BASE}) and 'remote_model'"


def create(settings: Settings) -> MistralBackend:
    return MistralBackend(settings)
