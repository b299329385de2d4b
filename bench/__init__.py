"""Benchmarks, run as scripts (python bench/bench_http.py); a package only so that the import
contracts in pyproject.toml can say no runtime code imports them."""
