"""The remote backends: one module per API on one HTTP base (``http_backend``).

A new API is one module here with a ``create(settings)`` function, and one line in the
registry of ``codestral_ls.backends``.
"""
