"""Several answers from one read prompt, decoded side by side in one llama.cpp batch.

Generating on a CPU is bound by reading the weights, which a step does once whatever the batch
holds, so three sequences decoded together cost little more than one. Each branch starts from a
different first token (the most likely, then the next most likely with visible text) and
continues greedily; the prompt's KV cells are shared by the sequences (a unified cache copies
them by reference). Model thread only.
"""

from __future__ import annotations

import codecs
import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .token_healing import Vocabulary

#: Sequences the context is created for: the answer and up to three alternatives.
MAX_BRANCHES = 4


def enable_branches(llama: Any) -> bool:
    """Recreate ``llama``'s context with room for ``MAX_BRANCHES`` sequences in one unified
    KV cache (llama-cpp-python's constructor offers no such option). False if that fails: the
    backend then makes alternatives one after the other."""
    try:
        from llama_cpp import _internals

        params = llama.context_params
        params.n_seq_max = MAX_BRANCHES
        params.kv_unified = True
        context = _internals.LlamaContext(model=llama._model, params=params, verbose=False)
    except Exception:
        return False
    old = llama._ctx
    llama._ctx = llama._stack.enter_context(contextlib.closing(context))
    old.close()
    llama.n_tokens = 0
    return True


def first_tokens(
    logits: np.ndarray[Any, Any], vocabulary: Vocabulary, count: int, healed: bytes
) -> list[int]:
    """The best first token, then the next most likely ones with visible text (another amount
    of indentation is no alternative), all agreeing with the healed bytes."""
    agreeing = vocabulary.agreeing(healed) if healed else None
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


def decode_branches(
    llama: Any,
    prompt_tokens: int,
    firsts: Sequence[int],
    vocabulary: Vocabulary,
    *,
    max_tokens: int,
    done: Callable[[int, str], bool],
    cancel: threading.Event,
    healed: bytes = b"",
) -> Iterator[tuple[int, str]]:
    """Yield (branch, text piece) for every branch until each is ``done``, ends or runs out of
    ``max_tokens``. The prompt must be read into sequence 0 with its logits live; afterwards
    the cache holds exactly the prompt again."""
    import llama_cpp

    ctx = llama._ctx
    n_vocab = llama.n_vocab()
    vocab = llama._model.vocab
    count = len(firsts)
    for branch in range(1, count):
        ctx.kv_cache_seq_cp(0, branch, 0, prompt_tokens)
    batch = llama_cpp.llama_batch_init(count, 0, 1)
    decoders = [codecs.getincrementaldecoder("utf-8")("replace") for _ in firsts]
    texts = [""] * count
    made = [b""] * count
    steps = [0] * count
    current = list(firsts)
    active = list(range(count))
    position = prompt_tokens
    # An alternative may run a little longer than the answer, not to max_tokens: a branch that
    # never comes to an end is not worth the wait.
    limit = max_tokens
    try:
        while active and not cancel.is_set():
            going = []
            for branch in active:
                token = current[branch]
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    continue
                piece = vocabulary.pieces[token]
                made[branch] += piece
                steps[branch] += 1
                text = decoders[branch].decode(piece)
                if text:
                    texts[branch] += text
                    yield branch, text
                if steps[branch] < limit and not done(branch, texts[branch]):
                    going.append(branch)
            if 0 in active and 0 not in going:
                limit = min(max_tokens, 2 * steps[0] + 8)
            active = going
            if not active:
                break
            batch.n_tokens = len(active)
            for row, branch in enumerate(active):
                batch.token[row] = current[branch]
                batch.pos[row] = position
                batch.n_seq_id[row] = 1
                batch.seq_id[row][0] = branch
                batch.logits[row] = 1
            if llama_cpp.llama_decode(ctx.ctx, batch) != 0:
                break
            for row, branch in enumerate(active):
                logits = np.ctypeslib.as_array(
                    llama_cpp.llama_get_logits_ith(ctx.ctx, row), shape=(n_vocab,)
                )
                if len(made[branch]) < len(healed):  # still retyping a healed token
                    rest = healed[len(made[branch]) :]
                    logits = np.where(vocabulary.agreeing(rest), logits, -np.inf)
                current[branch] = int(np.argmax(logits))
            position += 1
    finally:
        llama_cpp.llama_batch_free(batch)
        for branch in range(1, count):
            ctx.kv_cache_seq_rm(branch, -1, -1)
        ctx.kv_cache_seq_rm(0, prompt_tokens, -1)
        llama.n_tokens = prompt_tokens
        llama._requires_eval = True  # the live logits are not the prompt's any more


def shared_indentation(llama: Any, vocabulary: Vocabulary, limit: int = 4) -> list[int]:
    """Read the answer's leading whitespace tokens, which every branch shares (the
    alternatives differ in what comes after the indentation, not in its amount). Returns them;
    the prompt's logits must be live, and afterwards those after the whitespace are."""
    import numpy as np

    shared: list[int] = []
    for _ in range(limit):
        logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
        token = int(np.argmax(logits))
        text = vocabulary.pieces[token].decode("utf-8", "replace")
        if not text or text.strip():
            break
        llama.eval([token])
        shared.append(token)
    return shared
