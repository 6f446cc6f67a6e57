"""codestral-ls: inline code completion from fill-in-the-middle models over LSP."""

__version__ = "0.1.0"
