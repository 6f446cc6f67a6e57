"""Alternative answers from one read prompt: where they start.

An alternative is the answer that starts from the next most likely first token and continues
greedily. Decoding them side by side in one llama.cpp batch (several sequences sharing the
prompt's KV cells) was measured slower on this 2-core CPU than one after another (3 answers
at a warm place: 2.9 s vs 0.8 s, at a new place 2.85 s vs 1.87 s), so they are generated one
after another from the same read prompt.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .token_healing import Vocabulary


def first_tokens(
    logits: np.ndarray[Any, Any],
    vocabulary: Vocabulary,
    count: int,
    healed: bytes,
    word_after: bool = False,
) -> list[int]:
    """The best first token, then the next most likely ones with visible text (another amount
    of indentation is no alternative), all agreeing with the healed bytes (and going on with
    the word, with ``word_after``)."""
    agreeing = vocabulary.agreeing(healed, word_after) if healed or word_after else None
    chosen: list[int] = []
    for token in np.argsort(-logits)[:256]:
        token = int(token)
        if agreeing is not None and not agreeing[token]:
            continue
        text = vocabulary.pieces[token].decode("utf-8", "replace")
        if not text or (chosen and not text.strip()):
            continue  # no text (special tokens); alternatives need visible text
        chosen.append(token)
        if len(chosen) == count:
            break
    return chosen
