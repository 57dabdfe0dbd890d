"""The alerts operators receive: failed or crashed runs, and the bridge's own alarm events.

Each rule is a Prefect automation that sends a notification through one Block chosen at bootstrap (a generic
webhook by default; any notification Block, such as Slack or e-mail, by name). Rules are replaced by name on
every bootstrap, so changing a rule here and bootstrapping again is how they are updated.

The bridge's events follow one naming scheme, `bcmirakl.<area>.<what>` (emitted by `tasks.reporting.emit_alert`),
so each rule below watches an area with a trailing wildcard and keeps working when a stream adds an event.
Every alert reads as words, not a payload dump: the event's `summary` sentence (`tasks.alert_text`), the link to
the run in the Prefect UI when the server knows its UI URL, and the handbook section that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

__all__ = ["ALERT_RULES", "DEFAULT_HANDBOOK", "AlertRule", "apply_automations", "notification_block_id"]

WEBHOOK_BLOCK_NAME = "bcmirakl-alerts"
# Where the handbook is read when `bcmirakl bootstrap` is given no `--handbook-url`: its path in the repository.
DEFAULT_HANDBOOK = "docs/handbook"
# Links are rendered by the Prefect server: `ui_url` uses its PREFECT_UI_URL and gives nothing when that is not
# known, so the line is left out rather than sent empty. Bridge events are emitted inside a run, which Prefect
# attaches to the event, so `flow_run` is the run that raised it.
_RUN_LINK = "{% set url = flow_run|ui_url if flow_run else None %}{% if url %}\nRun: {{ url }}{% endif %}"
EVENT_BODY = "{{ event.payload.summary or event.event }}\nAbout: {{ event.resource.id }}, at {{ event.occurred }}"
RUN_FAILED_BODY = (
    "The {{ flow.name }} run {{ flow_run.name }} {{ flow_run.state.name|lower }}"
    "{% if flow_run.state.message %}: {{ flow_run.state.message }}{% endif %}\n"
    "Nothing is lost: what it wrote stays recorded and a retry repeats no write. Fix the cause, then retry it."
)


@dataclass(frozen=True)
class AlertRule:
    name: str
    description: str
    expect: frozenset[str]
    subject: str
    anchor: str  # the handbook section (docs/handbook/alerts.md) that says what to do
    body: str = EVENT_BODY
    match: dict[str, Any] = field(default_factory=dict)
    match_related: dict[str, Any] = field(default_factory=dict)

    def message(self, handbook: str = DEFAULT_HANDBOOK) -> str:
        """The notification text: the plain sentence, the run's link when known, and what to do."""
        return f"{self.body}{_RUN_LINK}\nWhat to do: {handbook.rstrip('/')}/alerts.md#{self.anchor}"


ALERT_RULES: tuple[AlertRule, ...] = (
    AlertRule(
        name="bcmirakl-run-failed",
        description="A bridge flow run failed or crashed: read its logs, fix the cause, retry it from the UI.",
        expect=frozenset({"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}),
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related={"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.bcmirakl"},
        subject="bcmirakl: {{ flow.name }} run {{ flow_run.name }} {{ flow_run.state.name|lower }}",
        body=RUN_FAILED_BODY,
        anchor="run-failed",
    ),
    AlertRule(
        name="bcmirakl-drift",
        description="The two systems disagree (buyable but out of stock, stale sync, mapping errors).",
        expect=frozenset({"bcmirakl.drift.*", "bcmirakl.offer-sync.*"}),
        subject="bcmirakl: the storefront and Mirakl disagree",
        anchor="drift",
    ),
    AlertRule(
        name="bcmirakl-deadline-at-risk",
        description="A Mirakl order is close to its acceptance or debit deadline, or missed it.",
        expect=frozenset({"bcmirakl.acceptance.*"}),
        subject="bcmirakl: a Mirakl order deadline needs attention",
        anchor="deadline-at-risk",
    ),
    AlertRule(
        name="bcmirakl-circuit-breaker",
        description="A data-quality gate stopped a push (too many rows of one batch failed their checks), or a "
        "stream started rejecting records that do not fit their model (quarantined, the rest flows).",
        expect=frozenset({"bcmirakl.gate.*"}),
        subject="bcmirakl: data quality stopped or quarantined records",
        anchor="circuit-breaker",
    ),
    AlertRule(
        name="bcmirakl-feed-failure",
        description="A seller's offer feed failed; its offers were made unbuyable until it recovers.",
        expect=frozenset({"bcmirakl.offers.*", "bcmirakl.feed.*"}),
        subject="bcmirakl: a seller's offer feed failed",
        anchor="feed-failure",
    ),
    AlertRule(
        name="bcmirakl-order-exceptions",
        description="An order, shipment or refund needs customer service: it could not be mirrored automatically.",
        expect=frozenset({"bcmirakl.orders.*", "bcmirakl.shipments.*", "bcmirakl.refunds.*"}),
        subject="bcmirakl: an order needs customer service",
        anchor="order-needs-attention",
    ),
    AlertRule(
        name="bcmirakl-system-down",
        description="A run deferred its work because BigCommerce, Mirakl or the ERP was down (once per outage).",
        expect=frozenset({"bcmirakl.outage.*"}),
        subject="bcmirakl: {{ event.payload.system or event.resource.id }} is down",
        anchor="system-down",
    ),
    AlertRule(
        name="bcmirakl-reconciliation-gaps",
        description="Commission reconciliation found money that does not match between Mirakl and BigCommerce.",
        expect=frozenset({"bcmirakl.reconciliation.*"}),
        subject="bcmirakl: commission reconciliation found gaps",
        anchor="reconciliation-gaps",
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


async def apply_automations(block_id: UUID, handbook: str = DEFAULT_HANDBOOK) -> list[str]:
    """Create every rule, replacing any automation of the same name; returns the names created.

    `handbook` is where operators read the handbook (a URL of the repository's docs/handbook, or the path).
    """
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
            actions=[SendNotification(block_document_id=block_id, subject=rule.subject, body=rule.message(handbook))],
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
