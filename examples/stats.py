"""Small statistics helpers: try `codestral-ls complete examples/stats.py:10:5`."""

from collections.abc import Sequence


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean of a non-empty sequence."""
    if not values:
        raise ValueError("mean() of an empty sequence")
    

def variance(values: Sequence[float]) -> float:
    """Population variance."""
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / len(values)
