"""A live, read-only web page of experiment directories (``async-search dashboard``).

``data`` reads an experiment incrementally (results.csv and intermediate.csv
by byte offset, the state from the lock and manager.log); ``server`` is the
HTTP server (standard library; plotly.js from Debian's python3-plotly) and the
command line; ``static/`` holds the page. See docs/dashboard.md.
"""

__all__ = ["main"]


def main(argv=None) -> int:
    """The command line (see async_search.dashboard.server)."""
    from async_search.dashboard.server import main as run

    return run(argv)
