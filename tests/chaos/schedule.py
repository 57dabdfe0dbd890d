"""Seeded fault schedules: the same seed always gives the same schedule, so every failure replays exactly.

A schedule follows the marketplace's storyline (offers are synced, orders paid and routed, sellers decide, ship
and refund, refunds and shipments are mirrored), with extra user actions and extra stream runs sprinkled in,
and a fault drawn for each run. Each fault has a kind; `KINDS` lists them all, and a run of the suite may enable
only some (the smoke test does, until the holes the other kinds find are fixed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ALL_KINDS", "Episode", "Fault", "Schedule", "generate"]

# Where a run dies (before the Nth write, after it before the ledger record, right after a state-store
# commit, just before a cursor moves), what the platforms answer (5xx, 429 bursts, malformed bodies, timeouts,
# a batch partly refused), and what the world does to the bridge (an event delivered twice, a second worker,
# the marketplace's clock jumping).
ALL_KINDS = (
    "kill_before_call",
    "kill_after_call",
    "kill_after_commit",
    "kill_before_cursor",
    "http_5xx",
    "http_429_burst",
    "malformed_body",
    "timeout_request_lost",
    "timeout_answer_lost",
    "partial_batch_failure",
    "duplicate_delivery",
    "racing_worker",
    "clock_jump",
)

# Streams that run in episodes; the clean pass runs each of them, then reconciliation.
STREAMS = ("offer_sync", "order_routing", "acceptance_guard", "shipment_sync", "refund_mirror")

STORYLINE: tuple[tuple[tuple[str, ...], str, dict[str, Any]], ...] = (
    ((), "offer_sync", {"mode": "full"}),
    (("offer_stockout", "offer_reprice"), "offer_sync", {"mode": "delta"}),
    (("order_paid",), "order_routing", {}),
    (("sellers_decide",), "acceptance_guard", {}),
    (("seller_ships", "bc_ships"), "shipment_sync", {}),
    (("seller_refunds", "bc_refund", "refund_both_sides"), "refund_mirror", {}),
)
EXTRA_ACTIONS = (
    "offer_stockout",
    "offer_restock",
    "offer_reprice",
    "offer_delete",
    "feed_fails",
    "order_paid",
    "order_cancelled",
    "sellers_decide",
    "seller_ships",
    "seller_refunds",
    "bc_refund",
    "bc_ships",
    "refund_both_sides",
)
SYSTEM_OF_STREAM = {
    "offer_sync": ("bigcommerce", "mirakl"),
    "order_routing": ("mirakl", "erp", "bigcommerce"),
    "acceptance_guard": ("mirakl", "bigcommerce"),
    "shipment_sync": ("mirakl", "bigcommerce"),
    "refund_mirror": ("mirakl", "bigcommerce"),
}


@dataclass(frozen=True)
class Fault:
    kind: str
    at: int = 1  # the Nth write / commit / cursor move of the run, or how many faulty answers
    system: str = "mirakl"

    def __str__(self) -> str:
        return f"{self.kind}@{self.at}:{self.system}"


@dataclass(frozen=True)
class Episode:
    actions: tuple[str, ...]
    stream: str
    params: dict[str, Any]
    fault: Fault | None

    def __str__(self) -> str:
        mode = f"({self.params['mode']})" if "mode" in self.params else ""
        acts = "+".join(self.actions)
        return f"[{acts}] {self.stream}{mode}" + (f" !{self.fault}" if self.fault else "")


@dataclass(frozen=True)
class Schedule:
    seed: int
    episodes: list[Episode] = field(default_factory=list)

    def describe(self) -> str:
        return f"seed={self.seed}: " + " ; ".join(map(str, self.episodes))


def generate(seed: int, kinds: tuple[str, ...] = ALL_KINDS, fault_share: float = 0.7) -> Schedule:
    """The schedule for `seed`: the storyline with extra actions and runs, each run faulted with `fault_share`."""
    rng = random.Random(seed)
    steps = [(list(actions), stream, dict(params)) for actions, stream, params in STORYLINE]
    for _ in range(rng.randint(0, 3)):
        stream = rng.choice(STREAMS)
        params = {"mode": rng.choice(("delta", "delta", "full"))} if stream == "offer_sync" else {}
        steps.insert(rng.randint(1, len(steps)), ([rng.choice(EXTRA_ACTIONS)], stream, params))
    for actions, _stream, _params in steps:
        if rng.random() < 0.3:
            actions.append(rng.choice(EXTRA_ACTIONS))
    episodes = []
    for actions, stream, params in steps:
        fault = None
        if kinds and rng.random() < fault_share:
            kind = rng.choice(kinds)
            fault = Fault(kind, at=rng.randint(1, 4), system=rng.choice(SYSTEM_OF_STREAM[stream]))
        episodes.append(Episode(tuple(actions), stream, params, fault))
    return Schedule(seed, episodes)
