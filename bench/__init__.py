"""Benchmarks (run by `make bench`, not by `make test`); results in bench/results/."""
