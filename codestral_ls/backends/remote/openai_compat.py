"""OpenAI-compatible ``POST /v1/completions`` (vLLM, llama-cpp-python, LM Studio, ...).

By default the server applies FIM itself from ``prompt`` + ``suffix``. Servers that ignore
``suffix`` get ``raw_prompt = true``: we render the model family's FIM prompt (``template``)
and send it as a plain prompt, with the family's stop strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...config import Settings
from ..base import FimRequest
from .answer import Piece, choice_field
from .body import optional_model, prefix_with_context, stop_and_seed
from .http_backend import HttpBackend


class OpenAICompatBackend(HttpBackend):
    name = "openai"
    path = "/v1/completions"
    default_api_base = "http://127.0.0.1:8000"

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        self._template: Any = None
        self._template_error: str | None = None
        if settings.raw_prompt:
            self._load_template(settings.template)
        super().__init__(settings, **kwargs)

    def _load_template(self, name: str) -> None:
        if name == "auto":
            self._template_error = (
                "setting 'raw_prompt' needs 'template' set to the model's family "
                "(codestral, qwen, starcoder, deepseek, codellama, codegemma), not 'auto'"
            )
            return
        try:
            from fim import get_template
        except ImportError:
            self._template_error = "setting 'raw_prompt' needs the fim package, not installed"
            return
        try:
            self._template = get_template(name)
        except (KeyError, ValueError) as exc:
            self._template_error = f"setting 'template': {exc}"

    def config_problem(self) -> str | None:
        return self._template_error or super().config_problem()

    def template_name(self) -> str:
        return self.settings.template if self._template is not None else ""

    def special_tokens(self) -> tuple[str, ...]:
        return tuple(self._template.special_tokens) if self._template is not None else ()

    def model_label(self) -> str:
        return self.model or "(server default)"

    def body(self, request: FimRequest) -> dict[str, Any]:
        body = optional_model(self.model)
        more_stop: tuple[str, ...] = ()
        if self._template is not None:
            context = [(snippet.path, snippet.text) for snippet in request.context]
            body["prompt"] = self._template.render(
                request.prefix,
                request.suffix,
                context=context,
                path=request.path or None,
                language=request.language or None,
            )
            more_stop = tuple(self._template.stop)
        else:
            body["prompt"] = prefix_with_context(request)
            body["suffix"] = request.suffix
        body.update(
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            stream=True,
            **stop_and_seed(request, more_stop=more_stop),
        )
        return body

    def piece(self, event: Mapping[str, Any]) -> Piece:
        text = choice_field(event, "text")
        return Piece.of(text, bool(choice_field(event, "finish_reason")))

    def whole(self, body: Mapping[str, Any]) -> str:
        text = choice_field(body, "text")
        return text if isinstance(text, str) else ""


def create(settings: Settings) -> OpenAICompatBackend:
    return OpenAICompatBackend(settings)
