"""KV-cache reuse must not change answers: each answer equals a fresh evaluation (greedy)."""

from __future__ import annotations

import pytest

from codestral_ls.backends.base import FimRequest
from codestral_ls.backends.local import LocalBackend
from codestral_ls.config import Settings

pytestmark = pytest.mark.usefixtures("embedded_model")

BODY = '''import json


def load_config(path):
    """Read a JSON config file and return it as a dict."""
    with open(path) as f:
        data = json.load(f)
    '''
SUFFIX = (
    "\n\ndef save_config(path, data):\n    with open(path, 'w') as f:\n        json.dump(data, f)\n"
)


async def answer(backend: LocalBackend, request: FimRequest) -> str:
    return "".join([piece async for piece in backend.stream(request)])


def keystrokes() -> list[FimRequest]:
    """A user typing 'return data' (prefix-only layout), then a gap fill (full PSM layout)."""
    typed = "return data"
    out = [FimRequest(prefix=BODY + typed[:n], suffix="", max_tokens=6) for n in (1, 2, 7)]
    out += [FimRequest(prefix=BODY + typed[:n], suffix=SUFFIX, max_tokens=6) for n in (3, 4)]
    return out


async def test_answers_with_reuse_equal_fresh_evaluations() -> None:
    settings = Settings(n_ctx=1024)
    reused = LocalBackend(settings)
    await reused.start(lambda m, p: None)
    with_reuse = []
    prefilled = 0
    for i, request in enumerate(keystrokes()):
        if i % 2 == 0:  # the engine prefills during the debounce wait: same answers required
            prefilled += await reused.prefill(request)
        with_reuse.append(await answer(reused, request))
    await reused.aclose()
    fresh_answers = []
    for request in keystrokes():
        fresh = LocalBackend(settings)  # a new context: nothing cached
        await fresh.start(lambda m, p: None)
        fresh_answers.append(await answer(fresh, request))
        await fresh.aclose()
    assert with_reuse == fresh_answers
    assert prefilled >= 1  # the prefill path was exercised (a keystroke changes few tokens)
    assert all(a.strip() for a in with_reuse)
