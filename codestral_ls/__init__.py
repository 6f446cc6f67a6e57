"""codestral-ls: inline code completion from fill-in-the-middle models over LSP."""

__version__ = "0.1.0"


def _check_fim() -> None:
    """Fail loudly if the top-level ``fim`` we import is not ours.

    The distribution installs two top-level packages, ``codestral_ls`` and ``fim``. Another
    distribution with its own top-level ``fim`` would overwrite or shadow ours without pip
    saying a word, and the server would then fail far from the cause.
    """
    from pathlib import Path

    import fim

    here = Path(__file__).resolve().parent.parent
    where = Path(fim.__file__ or "?").resolve().parent
    if getattr(fim, "__codestral_ls__", False) is True and where.parent == here:
        return
    import importlib.metadata

    owners = importlib.metadata.packages_distributions().get("fim", [])
    others = sorted({name for name in owners if name.lower() != "codestral-ls"})
    raise ImportError(
        f"codestral-ls: the 'fim' package at {where} is not codestral-ls's own"
        + (f" (installed by {', '.join(others)})" if others else "")
        + ": uninstall the other package, or install codestral-ls into an environment of its "
        "own (uv tool install codestral-ls, or pipx install codestral-ls)"
    )


_check_fim()
