"""Alerts read as words with links: the event's sentence, the run in the Prefect UI, the handbook section.

The automations' templates are rendered here with Prefect's own template environment and filters (as the
server does when it sends a notification), so a template mistake or a payload dump fails here, not in a
channel at night.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from deployments.automations import ALERT_RULES
from tasks.alert_text import EVENT_SENTENCES, alert_sentence

HANDBOOK = "https://git.example/bcmirakl/-/blob/main/docs/handbook"


async def _render(template: str, context: dict[str, object]) -> str:
    from prefect.server.events.jinja_filters import all_filters
    from prefect.server.utilities.user_templates import register_user_template_filters, render_user_template

    register_user_template_filters(all_filters)
    return await render_user_template(template, context)


def test_a_drift_alert_says_what_is_wrong_and_what_to_do_in_one_sentence() -> None:
    sentence = alert_sentence(
        "bcmirakl.drift.oos-buyable", "bcmirakl.stream.offer-sync", {"count": 3, "value_at_risk": "41.50"}
    )
    assert sentence == (
        "3 offers are buyable on the storefront although Mirakl has no stock for them (41.50 at risk): "
        "run the offer sync now."
    )


def test_an_event_without_its_own_sentence_still_reads_as_words_and_a_missing_value_as_a_question_mark() -> None:
    unknown = alert_sentence("bcmirakl.offers.import-stalled", "bcmirakl.shop.2001", {"shop_id": 2001, "ids": [4, 5]})
    assert unknown == "Offers import stalled on bcmirakl.shop.2001: shop id 2001, ids 4, 5."
    partial = alert_sentence("bcmirakl.feed.failed", "bcmirakl.shop.7", {"shop_id": 7})
    assert partial.startswith("The offer feed of shop 7 failed (?)")


def test_every_sentence_names_only_keys_its_event_payload_may_carry() -> None:
    from string import Formatter

    for event, template in EVENT_SENTENCES.items():
        fields = [name for _, name, _, _ in Formatter().parse(template) if name]
        assert fields, f"{event}: a sentence without any value says nothing about this occurrence"
        assert all(name.isidentifier() for name in fields), event


@pytest.mark.parametrize("rule", [r for r in ALERT_RULES if r.name != "bcmirakl-run-failed"], ids=lambda r: r.name)
async def test_an_event_alert_sends_the_sentence_and_the_handbook_section_not_the_payload(rule: object) -> None:
    payload = {"summary": "Stream offer-sync rejected 2 records.", "records": 2, "stream": "offer-sync"}
    event = {"event": "bcmirakl.x.y", "resource": {"id": "bcmirakl.stream.offer-sync"}, "payload": payload}
    context = {"event": event | {"occurred": datetime(2026, 12, 1, tzinfo=UTC)}, "flow_run": None}

    text = await _render(rule.message(HANDBOOK), context)  # type: ignore[attr-defined]

    assert text.startswith("Stream offer-sync rejected 2 records.\n")
    assert f"What to do: {HANDBOOK}/alerts.md#{rule.anchor}" in text  # type: ignore[attr-defined]
    assert "{" not in text and "'records'" not in text
    assert "Run:" not in text  # no run known: no empty link


async def test_a_failed_run_alert_names_the_run_links_to_it_and_says_nothing_is_lost() -> None:
    from prefect.server.schemas.core import Flow, FlowRun
    from prefect.server.schemas.states import Failed
    from prefect.settings import PREFECT_UI_URL, temporary_settings

    rule = next(r for r in ALERT_RULES if r.name == "bcmirakl-run-failed")
    run = FlowRun(id=uuid4(), name="brave-otter", flow_id=uuid4(), state=Failed(message="Mirakl OF52 answered 403"))
    context = {"flow_run": run, "flow": Flow(id=run.flow_id, name="smoke")}
    with temporary_settings(updates={PREFECT_UI_URL: "http://prefect.internal:4200"}):
        subject = await _render(rule.subject, context)
        text = await _render(rule.message(HANDBOOK), context)

    assert subject == "bcmirakl: smoke run brave-otter failed"
    assert text.startswith("The smoke run brave-otter failed: Mirakl OF52 answered 403\nNothing is lost")
    assert f"Run: http://prefect.internal:4200/runs/flow-run/{run.id}" in text
    assert text.endswith(f"What to do: {HANDBOOK}/alerts.md#run-failed")


def test_every_alert_links_to_a_section_the_handbook_has() -> None:
    from pathlib import Path

    handbook = (Path(__file__).resolve().parents[2] / "docs" / "handbook" / "alerts.md").read_text(encoding="utf-8")
    anchors = {line[3:].strip().lower().replace(" ", "-") for line in handbook.splitlines() if line.startswith("## ")}
    assert {rule.anchor for rule in ALERT_RULES} <= anchors
