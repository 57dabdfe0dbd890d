"""The sentence an alert leads with: what happened, in words an operator acts on, from the event's ids and counts.

Alerts reach people in a chat channel, where `{'count': 3, 'value_at_risk': 41.5}` says nothing. Each bridge
event has one sentence here, filled from its payload (ids, counts, amounts: never customer data); an event
without one still gets a readable line. `tasks.reporting.emit_alert` puts the sentence in the event as
`summary`, and the alert automations (`deployments.automations`) send it with links to the run and the handbook.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

__all__ = ["EVENT_SENTENCES", "alert_sentence"]

# Payload keys in braces; a key the payload lacks reads "?" rather than failing the alert.
EVENT_SENTENCES: dict[str, str] = {
    "bcmirakl.drift.oos-buyable": "{count} offers are buyable on the storefront although Mirakl has no stock for "
    "them ({value_at_risk} at risk): run the offer sync now.",
    "bcmirakl.offer-sync.latency-breach": "Prices and stock reach the storefront late: p95 {p95_s} s, target "
    "{bound_s} s.",
    "bcmirakl.drift.stuck-in-flight": "{items} changes are stuck with {workers} workers that stopped answering; "
    "the stream's next run sends them.",
    "bcmirakl.acceptance.at-risk": "Mirakl order {mirakl_order_id} (shop {shop_id}) is close to its {phase} "
    "deadline ({deadline}, {seconds_left} s left).",
    "bcmirakl.acceptance.breached": "Mirakl order {mirakl_order_id} (shop {shop_id}) missed its {phase} deadline "
    "({deadline}): expect Mirakl to refuse it.",
    "bcmirakl.acceptance.debit-mismatch": "Mirakl asks to debit {amount} for order {mirakl_order_id}, the bridge "
    "expected {expected}: not confirmed ({reason}).",
    "bcmirakl.acceptance.refused": "Lines of BigCommerce order {bc_order_id} (Mirakl {mirakl_order_id}) were "
    "refused; action taken: {action}.",
    "bcmirakl.gate.circuit-breaker": "A data-quality gate stopped a push: {failed_rows} of {total_rows} rows "
    "failed the {suite} checks; nothing of that batch was sent.",
    "bcmirakl.gate.records-rejected": "Stream {stream} rejected {records} records that do not fit the API's "
    "documented shape; they are quarantined and the rest went through.",
    "bcmirakl.feed.failed": "The offer feed of shop {shop_id} failed ({reason}); its offers were made unbuyable "
    "until it recovers.",
    "bcmirakl.orders.exception": "BigCommerce order {bc_order_id} could not be routed automatically: {lines} "
    "lines with {kinds}.",
    "bcmirakl.orders.cancel-failed": "Cancelling BigCommerce order {bc_order_id} in Mirakl failed ({kinds}).",
    "bcmirakl.shipments.carrier-list-stale": "Mirakl's carrier list (SH21) is out of date (last read "
    "{fetched_at}; refresh error: {error}; tracking held: {tracking_held}): {action}.",
    "bcmirakl.shipments.carrier-unmapped": "A shipment of Mirakl order {mirakl_order_id} was held: carrier "
    "{carrier_name} has no Mirakl code. {action}.",
    "bcmirakl.refunds.not-paid": "Mirakl refund {mirakl_refund_id} of order {mirakl_order_id} was not paid back in "
    "BigCommerce: {error}.",
    "bcmirakl.refunds.recovery-ambiguous": "BigCommerce refund {bc_refund_id} matches several Mirakl refunds "
    "({candidates}); it is held for a person to decide.",
    "bcmirakl.outage.deferred": "System {system} is down: stream {stream} deferred {deferred} items after {attempted} "
    "attempts; nothing is lost, the next run sends them.",
    "bcmirakl.reconciliation.gaps": "Commission reconciliation {label} found {gaps} gaps between Mirakl and "
    "BigCommerce: the exceptions file lists them.",
}


class _Lenient(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def alert_sentence(event: str, resource_id: str, payload: Mapping[str, Any]) -> str:
    """The plain-language line for `event` about `resource_id`, filled from `payload`."""
    values = _Lenient({key: _words(value) for key, value in payload.items()})
    template = EVENT_SENTENCES.get(event)
    if template is None:
        details = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in values.items())
        what = event.removeprefix("bcmirakl.").replace(".", " ").replace("-", " ")
        return f"{what.capitalize()} on {resource_id}" + (f": {details}." if details else ".")
    return string.Formatter().vformat(template, (), values)


def _words(value: Any) -> str:
    if isinstance(value, list | tuple | set):
        return ", ".join(str(item) for item in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "unknown" if value is None else str(value)  # a value the payload has but that is not known (never read)
