"""The offer push's typed payloads read what the decision writes (so rows queued before them still read), give
the same JSON back, build bodies the spec's request models accept, and set apart a row that does not fit."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pandas as pd

from connectors.bigcommerce.models import MetafieldCreate, MetafieldUpdate, VariantUpdate
from connectors.state import OutboxItem
from tasks.offers.calls import CHANGES_SHOWN, PushStats
from tasks.offers.diff import diff_targets, outbox_items, target_states
from tasks.offers.metafields import metafield_changes, metafield_items
from tasks.offers.payloads import MetafieldChange, VariantChange, read_claim
from tasks.offers.push_metafields import _WRITES
from tasks.offers.select import select_best
from tests.tasks.offers.test_offer_rules import NOW, book, mapping


def _targets() -> pd.DataFrame:
    """Two owned variants: A buyable at 27.79 from shop 10, B sold out (unbuyable)."""
    offers = book((1, "A", 10, "27.7900", None, 4, True), (2, "B", 10, "20.00", None, 0, True))
    owned = mapping(("A", 100, "mirakl", None), ("B", 101, "mirakl", None))
    return target_states(owned, select_best(offers, {10}), pd.Series(dtype=object), NOW)


def test_variant_payloads_the_decision_writes_read_back_to_the_same_json() -> None:
    items = outbox_items(diff_targets(_targets()), "Currently unavailable")
    assert len(items) == 2
    for _, payload in items:
        assert VariantChange.from_payload(payload).to_payload() == payload
    buyable, sold_out = (VariantChange.from_payload(payload) for _, payload in items)
    assert buyable.price == Decimal("27.79") and buyable.offer_id == 1 and not buyable.purchasing_disabled
    assert sold_out.price is None and sold_out.offer_id is None and sold_out.purchasing_disabled


def test_variant_bodies_are_what_the_update_model_would_send() -> None:
    for _, payload in outbox_items(diff_targets(_targets()), "Currently unavailable"):
        body = VariantChange.from_payload(payload).api_update()
        assert VariantUpdate.model_validate(body).to_api() == body


def test_metafield_payloads_read_back_and_their_bodies_fit_the_spec_models() -> None:
    changes = metafield_changes(_targets(), {})
    items = metafield_items(changes, {})
    assert [key for key, _ in items] == ["offer-sync:metafield:100:never"]  # B never had a winner: no metafield
    ((_, payload),) = items
    change = MetafieldChange.from_payload(payload)
    assert change.to_payload() == payload and change.offer_id == 1 and change.shop_id == 10
    create, update = _WRITES
    created = create.body(change, {}, "bcmirakl")
    assert MetafieldCreate.model_validate(created).to_api() == created
    assert created["permission_set"] == "read_and_sf_access" and created["resource_id"] == 100
    updated = update.body(change, {100: 9001}, "bcmirakl")
    assert MetafieldUpdate.model_validate(updated).to_api() == updated == {"id": 9001, "value": change.value}


def test_a_row_whose_payload_does_not_fit_is_set_apart_with_why() -> None:
    ((_, good),) = metafield_items(metafield_changes(_targets(), {}), {})
    rows = [
        OutboxItem(id=1, payload=good),
        OutboxItem(id=2, payload={**good, "variant_id": "not-a-number"}),
        OutboxItem(id=3, payload={"product_sku": "C"}),
    ]
    claimed, malformed = read_claim(rows, MetafieldChange)
    assert [c.item.id for c in claimed] == [1] and claimed[0].change.variant_id == 100
    assert [(item.id, why.split(":")[0]) for item, why in malformed] == [(2, "ValueError"), (3, "KeyError")]


def test_drains_of_one_run_add_up_and_the_last_says_what_is_left() -> None:
    first = PushStats(pushed=3, batches=1, quarantined=Counter({"refused": 1}), latencies_s=[1.0], left=5)
    first.changes = [{"product_sku": str(n)} for n in range(CHANGES_SHOWN - 1)]
    second = PushStats(pushed=5, batches=1, metafield_calls=2, quarantined=Counter({"refused": 2}), left=0)
    second.changes, second.latencies_s, second.worker = [{"product_sku": "x"}, {"product_sku": "y"}], [2.0], "w2"
    first.add(second)
    assert (first.pushed, first.calls, first.left, first.worker) == (8, 4, 0, "w2")
    assert first.quarantined == Counter({"refused": 3}) and first.latencies_s == [1.0, 2.0]
    assert len(first.changes) == CHANGES_SHOWN and first.changes[-1] == {"product_sku": "x"}
