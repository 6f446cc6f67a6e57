# The two commands of the README. Everything installs into ./.venv.
.PHONY: demo test install install-dev lint dist

demo: install
	.venv/bin/codestral-ls complete examples/stats.py:10:5

test: install-dev
	.venv/bin/python -m pytest -ra

install:
	scripts/install.sh

install-dev:
	scripts/install.sh --dev

lint: install-dev
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

# The sdist and the wheel, into dist/ (tests/test_packaging.py installs the wheel in a fresh venv).
dist: install-dev
	.venv/bin/python -m build
