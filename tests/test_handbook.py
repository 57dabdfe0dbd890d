"""The handbook names what the code emits and what the UI shows: reconciliation classes, the schedule Variables
bootstrap writes and `prefect.yaml` reads, and the credential Blocks runs load (name, type, fields)."""

from __future__ import annotations

import re

from bridge.blocks import block_names
from connectors.bigcommerce.block import BigCommerceCredentials
from connectors.erp_block import ErpCredentials
from connectors.mirakl.block import MiraklCredentials
from deployments.automations import WEBHOOK_BLOCK_NAME
from deployments.plan import PREFECT_YAML, SCHEDULE_DEFAULTS, load_pool, variable_name
from tasks.reconciliation.reconcile import CLASSES
from tests.handbook import DEPLOYING_PAGE, handbook_classes, handbook_columns, section_table

_CODE = re.compile(r"`([^`]+)`")


def test_the_handbook_explains_exactly_the_reconciliation_classes_the_code_assigns() -> None:
    assert handbook_classes() == set(CLASSES)


def test_the_handbook_lists_columns_for_the_tables_operators_act_on() -> None:
    for key in ("drift-monitor-sellers", "offer-sync-delta-changes", "offer-sync-delta-sellers-failed"):
        assert len(handbook_columns(key)) >= 3, key


def test_changing_a_schedule_names_every_variable_bootstrap_writes_with_its_default() -> None:
    listed = {
        name: _CODE.findall(default)[0]
        for names, default in section_table(DEPLOYING_PAGE, "Changing a schedule")
        for name in _CODE.findall(names)
    }
    assert listed == {variable_name(key): default for key, default in SCHEDULE_DEFAULTS.items()}
    read_by_deploy = set(re.findall(r"prefect\.variables\.(\w+)", PREFECT_YAML.read_text()))
    assert read_by_deploy == set(listed)


def test_changing_a_credential_names_each_block_runs_load_with_its_ui_type_and_real_fields() -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.blocks.system import Secret

    names = block_names(load_pool().credential_blocks)
    expected = {
        names["bigcommerce"]: BigCommerceCredentials,
        names["mirakl"]: MiraklCredentials,
        names["erp"]: ErpCredentials,
        names["database_url"]: Secret,
        WEBHOOK_BLOCK_NAME: CustomWebhookNotificationBlock,
    }
    rows = section_table(DEPLOYING_PAGE, "Changing a credential")
    assert {_CODE.findall(name)[0] for name, _, _ in rows} == set(expected)
    for name, type_name, fields in rows:
        block = expected[_CODE.findall(name)[0]]
        assert type_name == block.get_block_type_name(), name
        # Left out: the operator role's prefix (its fields are "the same four with `operator_`"), and the webhook
        # Block's URL placeholder; `webhook_url` is the key of its `secrets` that bootstrap writes.
        named = {field for field in _CODE.findall(fields) if field not in ("operator_", "{{webhook_url}}")}
        unknown = named - set(block.model_fields) - {"webhook_url"}
        assert not unknown, f"{name}: the handbook names fields the Block does not have: {sorted(unknown)}"
    tokens = {"bigcommerce": "access_token", "erp": "token", "mirakl": "front_api_key", "database_url": "value"}
    for system, field in tokens.items():  # the field a rotation changes is named on its Block's row
        assert any(f"`{names[system]}`" in row[0] and f"`{field}`" in row[2] for row in rows), system
