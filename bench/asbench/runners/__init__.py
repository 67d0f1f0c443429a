"""One module per benchmark, each run as ``python -m asbench.runners.NAME`` (``main(argv)``).

``bin/run-bench`` (``make bench``) runs them; bench/README.md says what each measures.
"""
