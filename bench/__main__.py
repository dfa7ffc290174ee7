"""``python -m bench``: see :mod:`bench.cli`."""

from bench.cli import app

if __name__ == "__main__":
    app()
