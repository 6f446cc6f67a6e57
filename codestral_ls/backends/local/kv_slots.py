"""Saved KV caches of recently read prompts, so that coming back to a place costs nothing.

llama.cpp's context holds one live sequence and accepts new tokens only at its end, so reading
a short window at a new place throws away the long window being read in the background (and
the other way round). A sequence's KV cells copy out and back in milliseconds (the 0.5B model:
6 MB for 500 tokens, ~3 ms out, ~0.5 ms in), so the backend keeps a few copies and, before
reading a prompt, continues from whichever state (live or saved) shares the longest beginning
with it. Everything here runs on the model thread; ``published`` is the read-only view other
threads use to estimate what a prompt would cost.
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass
from typing import Any

#: A state shorter than this is cheaper to read again than to keep.
MIN_TOKENS = 32
#: A live state losing at least this many tokens is kept: more than a keystroke's change plus
#: the answer generated after it (``max_tokens`` 96), about a PSM suffix's worth.
LONG_TAIL = 128


@dataclass
class _Saved:
    tokens: tuple[int, ...]
    data: Any  # a ctypes byte array
    used: float


def common_prefix(a: tuple[int, ...] | list[int], b: tuple[int, ...] | list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class KvSlots:
    def __init__(self, llama: Any, capacity: int = 2) -> None:
        self._llama = llama
        self._capacity = capacity
        self._saved: list[_Saved] = []
        #: (live tokens, *saved tokens): replaced whole, never mutated, so safe to read anywhere.
        self.published: tuple[tuple[int, ...], ...] = ((),)

    def live(self) -> tuple[int, ...]:
        return tuple(int(t) for t in self._llama._input_ids)

    def publish(self) -> None:
        self.published = (self.live(), *(s.tokens for s in self._saved))

    def best_start(self, tokens: list[int]) -> int:
        """Tokens of ``tokens`` some state already holds (safe from any thread)."""
        return max((common_prefix(t, tokens) for t in self.published), default=0)

    def switch_for(self, tokens: list[int]) -> None:
        """Make the live state the best one to continue ``tokens`` from, keeping a copy of
        the live one when ``tokens`` is another place or window (they part early)."""
        live = self.live()
        here = common_prefix(live, tokens)
        best = max(self._saved, key=lambda s: common_prefix(s.tokens, tokens), default=None)
        if best is not None and common_prefix(best.tokens, tokens) >= here + MIN_TOKENS:
            self._save(live)
            self._saved.remove(best)
            self._load(best)
            self.publish()
        elif len(live) - here >= max(MIN_TOKENS, min(len(live) // 2, LONG_TAIL)):
            # Reading ``tokens`` overwrites the live state after ``here``: most of it is
            # another window, or its tail is a suffix worth keeping (the same place asked
            # without its suffix, then with it again after Enter); a keystroke only changes a
            # prompt's end and the answer after it, which is shorter.
            self._save(live)
            self.publish()

    def _save(self, live: tuple[int, ...]) -> None:
        if len(live) < MIN_TOKENS:
            return
        # An older copy of the same place (a beginning of this one) is superseded by it.
        self._saved = [s for s in self._saved if common_prefix(s.tokens, live) < len(s.tokens)]
        import llama_cpp

        ctx = self._llama._ctx.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        data = (ctypes.c_uint8 * size)()
        if llama_cpp.llama_state_seq_get_data(ctx, data, size, 0) != size:
            return
        self._saved.append(_Saved(live, data, time.monotonic()))
        self._saved.sort(key=lambda s: s.used, reverse=True)
        del self._saved[self._capacity :]

    def _load(self, saved: _Saved) -> None:
        import llama_cpp

        llama = self._llama
        llama._ctx.kv_cache_seq_rm(-1, 0, -1)
        llama.n_tokens = 0
        ok = llama_cpp.llama_state_seq_set_data(llama._ctx.ctx, saved.data, len(saved.data), 0)
        if ok:
            n = len(saved.tokens)
            llama.input_ids[:n] = saved.tokens
            llama.n_tokens = n
        # The logits are not those of the restored state: the last token is read again.
        llama._requires_eval = True
