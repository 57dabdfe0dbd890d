"""The alerts operators receive: failed or crashed runs, and the bridge's own alarm events.

Each rule is a Prefect automation that sends a notification through one Block chosen at bootstrap (a generic
webhook by default; any notification Block, such as Slack or e-mail, by name). Rules are replaced by name on
every bootstrap, so changing a rule here and bootstrapping again is how they are updated.

The bridge's events follow one naming scheme, `bcmirakl.<area>.<what>` (emitted by `tasks.reporting.emit_alert`),
so each rule below watches an area with a trailing wildcard and keeps working when a stream adds an event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

__all__ = ["ALERT_RULES", "AlertRule", "apply_automations", "notification_block_id"]

WEBHOOK_BLOCK_NAME = "bcmirakl-alerts"
EVENT_BODY = "{{ event.event }} on {{ event.resource.id }} at {{ event.occurred }}: {{ event.payload }}"


@dataclass(frozen=True)
class AlertRule:
    name: str
    description: str
    expect: frozenset[str]
    subject: str
    body: str
    match: dict[str, Any] = field(default_factory=dict)
    match_related: dict[str, Any] = field(default_factory=dict)


ALERT_RULES: tuple[AlertRule, ...] = (
    AlertRule(
        name="bcmirakl-run-failed",
        description="A bridge flow run failed or crashed: read its logs, fix the cause, retry it from the UI.",
        expect=frozenset({"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}),
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related={"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.bcmirakl"},
        subject="bcmirakl run {{ flow_run.state.name }}: {{ flow.name }}/{{ flow_run.name }}",
        body="state={{ flow_run.state.name }} message={{ flow_run.state.message }}",
    ),
    AlertRule(
        name="bcmirakl-drift",
        description="The two systems disagree (buyable but out of stock, stale sync, mapping errors).",
        expect=frozenset({"bcmirakl.drift.*", "bcmirakl.offer-sync.*"}),
        subject="bcmirakl drift: {{ event.event }}",
        body=EVENT_BODY,
    ),
    AlertRule(
        name="bcmirakl-deadline-at-risk",
        description="A Mirakl order is close to its acceptance or debit deadline, or missed it.",
        expect=frozenset({"bcmirakl.acceptance.*"}),
        subject="bcmirakl deadline at risk: {{ event.event }}",
        body=EVENT_BODY,
    ),
    AlertRule(
        name="bcmirakl-circuit-breaker",
        description="A data-quality gate stopped a push (too many rows of one batch failed their checks), or a "
        "stream started rejecting records that do not fit their model (quarantined, the rest flows).",
        expect=frozenset({"bcmirakl.gate.*"}),
        subject="bcmirakl data quality: {{ event.event }} on {{ event.resource.id }}",
        body=EVENT_BODY,
    ),
    AlertRule(
        name="bcmirakl-feed-failure",
        description="A seller's offer feed failed; its offers were made unbuyable until it recovers.",
        expect=frozenset({"bcmirakl.offers.*", "bcmirakl.feed.*"}),
        subject="bcmirakl seller feed problem: {{ event.event }}",
        body=EVENT_BODY,
    ),
    AlertRule(
        name="bcmirakl-order-exceptions",
        description="An order, shipment or refund needs customer service: it could not be mirrored automatically.",
        expect=frozenset({"bcmirakl.orders.*", "bcmirakl.shipments.*", "bcmirakl.refunds.*"}),
        subject="bcmirakl order needs attention: {{ event.event }}",
        body=EVENT_BODY,
    ),
    AlertRule(
        name="bcmirakl-system-down",
        description="A run deferred its work because BigCommerce, Mirakl or the ERP was down (once per outage).",
        expect=frozenset({"bcmirakl.outage.*"}),
        subject="bcmirakl system down: {{ event.resource.id }}",
        body=EVENT_BODY,
    ),
    AlertRule(
        name="bcmirakl-reconciliation-gaps",
        description="Commission reconciliation found money that does not match between Mirakl and BigCommerce.",
        expect=frozenset({"bcmirakl.reconciliation.*"}),
        subject="bcmirakl reconciliation gaps: {{ event.event }}",
        body=EVENT_BODY,
    ),
)


async def notification_block_id(webhook_url: str | None, block_ref: str | None) -> UUID | None:
    """The Block alerts are sent through: an existing one named `type-slug/name`, else a generic webhook.

    The webhook posts `{"subject", "body"}` as JSON, which chat tools and the sandbox's receiver accept.
    Returns None when neither is configured (automations are then skipped, and bootstrap says so).
    """
    from prefect.blocks.core import Block
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    if block_ref:
        block = await Block.aload(block_ref)
        return block._block_document_id
    if not webhook_url:
        return None
    # The URL is the secret (a chat webhook's URL is its credential): kept in the Block's encrypted `secrets`
    # and substituted at send time, so the UI and the API show `{{webhook_url}}`, never the address.
    webhook = CustomWebhookNotificationBlock(
        name=WEBHOOK_BLOCK_NAME,
        url="{{webhook_url}}",
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
        secrets={"webhook_url": webhook_url},
    )
    return await webhook.asave(WEBHOOK_BLOCK_NAME, overwrite=True)


async def apply_automations(block_id: UUID) -> list[str]:
    """Create every rule, replacing any automation of the same name; returns the names created."""
    from prefect.automations import Automation, EventTrigger, Posture, SendNotification

    created = []
    for rule in ALERT_RULES:
        await _delete_named(Automation, rule.name)
        await Automation(
            name=rule.name,
            description=rule.description,
            trigger=EventTrigger(
                expect=set(rule.expect),
                match=rule.match,
                match_related=rule.match_related,
                posture=Posture.Reactive,
                threshold=1,
                within=0,
            ),
            actions=[SendNotification(block_document_id=block_id, subject=rule.subject, body=rule.body)],
        ).acreate()
        created.append(rule.name)
    return created


async def _delete_named(automation_type: Any, name: str) -> None:
    while True:
        try:
            existing = await automation_type.aread(name=name)
        except ValueError:
            return
        await existing.adelete()
