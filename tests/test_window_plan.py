"""The ladder of windows a request may be answered from when the full one cannot be read in time."""

from __future__ import annotations

from codestral_ls.window_plan import GAP_SUFFIX, budget_tokens, candidates


def test_the_full_window_comes_first_then_less_suffix_then_smaller_windows() -> None:
    sizes = candidates(1024, 384, 16)
    assert (sizes[0].prefix_tokens, sizes[0].suffix_tokens, sizes[0].with_context) == (
        1024,
        384,
        True,
    )
    full_prefix = [s.suffix_tokens for s in sizes if s.prefix_tokens == 1024]
    assert full_prefix == [384, 256, 128, 64, 0]
    smaller = [(s.prefix_tokens, s.suffix_tokens) for s in sizes if s.prefix_tokens < 1024]
    assert smaller == [(512, 128), (256, 64), (128, 32), (64, 0)]
    assert all(not s.with_context for s in sizes if s.prefix_tokens < 1024)
    # the grid shrinks with the window, so a 10-line window is not mostly cut away
    assert [s.grid for s in sizes if s.prefix_tokens < 1024] == [16, 8, 4, 2]


def test_a_gap_never_loses_the_code_below_it() -> None:
    sizes = candidates(1024, 384, 16, gap=True)
    assert min(s.suffix_tokens for s in sizes) == GAP_SUFFIX
    assert [s.prefix_tokens for s in sizes][-1] == 64  # the prefix shrinks instead
    # a smaller suffix budget than the floor is kept as it is
    assert {s.suffix_tokens for s in candidates(1024, 32, 16, gap=True)} == {32}


def test_budget_tokens_follow_the_measured_speed() -> None:
    assert budget_tokens(200.0, 1500) == 300
    assert budget_tokens(None, 1000) == 100  # before anything was measured
