"""Performance benchmarks: runnable modules (`python -m benchmarks.<name>`), not tests."""
