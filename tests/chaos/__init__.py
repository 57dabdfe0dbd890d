"""The chaos suite: seeded fault schedules over every stream, clean runs after, invariants checked from outside.

`python -m tests.chaos` (or `make chaos`) runs many schedules; `test_chaos_smoke.py` runs a small number in
`make test`. See `runner.py` for the unit of work and docs/architecture.md for what the suite proves.
"""
