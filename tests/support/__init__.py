"""What tests share, each defined once: import helpers from here; fixtures stay in the conftest.py files.

- `clock`: the simulated clock pair for call budgets (`budgeted_sandbox`, `budget_clock_kwargs`) and `FakeClock`,
  the monotonic clock that moves only when the code under test sleeps or a test advances it;
- `postgres`: the PostgreSQL state store under test, in a schema of the test process's own;
- `orders` and `order_world`: seeded orders routed as the order stream leaves them, with or without its code;
- `doubles`: the connector doubles (a recording sleep, a scripted HTTP server);
- `logs`: what a failed run's Logs tab shows (the failure sentence once, before the traceback).
"""
