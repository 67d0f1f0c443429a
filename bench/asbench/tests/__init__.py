"""The benchmarks' own tests (run by make test-bench)."""
