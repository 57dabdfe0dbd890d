"""Runs read their credentials from typed Blocks, checked whole at start, and never migrate the state store.

Proves that a run under deployments builds working clients from the three Blocks bootstrap saved; that a Block
the UI saved wrong (empty token, a URL that is not one) or that does not exist stops the run before any call
with a message naming the Block and the field, and never the secret; that the ERP's old raw `Secret` is not
mistaken for its Block; that a run against a state store behind the code's schema stops naming
`bcmirakl db upgrade`, which says what it migrated; and that the alert webhook's URL is stored as a secret.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bcmirakl.cli import main
from bridge.blocks import CREDENTIAL_BLOCKS_ENV, credentials_from_settings, save_credential_blocks
from bridge.runtime import runtime_from_environment
from bridge.sandbox_settings import sandbox_settings
from common.errors import ConfigurationError
from connectors.erp_block import ErpCredentials
from connectors.state.db import create_state_engine, schema_revision
from deployments.automations import WEBHOOK_BLOCK_NAME, notification_block_id
from sandbox.app import Sandbox

pytestmark = pytest.mark.flow


@pytest.fixture
def deployed(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A worker's environment: only the Block prefix and the artifacts folder; returns the prefix."""
    for name in ("BCMIRAKL_DATABASE_URL", "BCMIRAKL_BC_STORE_HASH", "BCMIRAKL_ERP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    prefix = f"blocks-{tmp_path.name[-12:].lower().replace('_', '-')}"
    monkeypatch.setenv(CREDENTIAL_BLOCKS_ENV, prefix)
    monkeypatch.setenv("BCMIRAKL_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    return prefix


async def _save_sandbox_blocks(sandbox: Sandbox, tmp_path: Path, prefix: str) -> str:
    settings = sandbox_settings(sandbox.base_url, tmp_path)
    await save_credential_blocks(credentials_from_settings(settings), prefix, settings.database_url)
    assert settings.database_url is not None
    return settings.database_url


async def test_a_deployed_run_builds_its_clients_from_the_blocks_once_the_schema_is_upgraded(
    sandbox: Sandbox, tmp_path: Path, deployed: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url = await _save_sandbox_blocks(sandbox, tmp_path, deployed)
    transport = httpx.ASGITransport(app=sandbox.app)

    with pytest.raises(ConfigurationError, match="run `bcmirakl db upgrade`") as caught:
        await runtime_from_environment(transport=transport)
    assert "empty (no bridge table yet)" in str(caught.value)

    monkeypatch.setenv("BCMIRAKL_DATABASE_URL", database_url)
    assert main(["db", "upgrade"]) == 0
    first = capsys.readouterr().out
    head = schema_revision(create_state_engine(database_url))
    assert f"migrated empty database -> {head}: applied 0001, " in first
    assert first.rstrip().endswith(f", {head}")
    assert main(["db", "upgrade"]) == 0
    assert "nothing to migrate" in capsys.readouterr().out
    monkeypatch.delenv("BCMIRAKL_DATABASE_URL")

    runtime = await runtime_from_environment(transport=transport)
    try:
        assert str(runtime.engine.url) == database_url  # the state store came from its Secret Block
        await runtime.bigcommerce.list_order_statuses()
        await runtime.erp.check_access()
        assert runtime.api_calls()["bigcommerce"] == 1
        assert runtime.mirakl_budget is not None  # Mirakl's client holds the shared call budgets
    finally:
        await runtime.aclose()


async def test_blocks_saved_wrong_in_the_ui_stop_the_run_naming_each_block_and_field(
    sandbox: Sandbox, tmp_path: Path, deployed: str
) -> None:
    await _save_sandbox_blocks(sandbox, tmp_path, deployed)
    # What the UI's form can save: no validation happens client-side, so the document holds the bad values.
    await ErpCredentials.model_construct(base_url="erp.example", token=SecretStr(" ")).asave(
        f"{deployed}-erp", overwrite=True
    )
    transport = httpx.ASGITransport(app=sandbox.app)

    with pytest.raises(ConfigurationError) as caught:
        await runtime_from_environment(transport=transport)

    message = str(caught.value)
    assert f"Block {deployed}-erp (ERP Credentials): field base_url must be an http(s) URL" in message
    assert f"Block {deployed}-erp (ERP Credentials): field token must not be empty" in message
    assert "sandbox-token" not in message and "sandbox-mirakl-key" not in message


async def test_a_missing_block_is_named_and_the_old_raw_erp_secret_is_not_taken_for_it(
    sandbox: Sandbox, tmp_path: Path, deployed: str
) -> None:
    from prefect.blocks.system import Secret

    settings = sandbox_settings(sandbox.base_url, tmp_path)
    credentials = credentials_from_settings(settings)
    await credentials.bigcommerce.asave(f"{deployed}-bigcommerce")
    # Before typed ERP Blocks, the ERP's credentials were a raw Secret under the same name.
    await Secret(value={"base_url": sandbox.erp_url, "token": "old-erp-token"}).asave(f"{deployed}-erp")

    with pytest.raises(ConfigurationError) as caught:
        await runtime_from_environment()

    message = str(caught.value)
    assert f"Block {deployed}-mirakl (Mirakl Credentials) does not exist" in message
    assert f"Block {deployed}-erp (ERP Credentials) does not exist" in message
    assert "run `bcmirakl bootstrap`" in message
    assert f"{deployed}-bigcommerce" not in message  # the good Block is not reported
    assert "old-erp-token" not in message


async def test_the_alert_webhook_url_is_kept_as_a_secret_of_its_notification_block() -> None:
    from prefect import get_client

    url = "https://hooks.chat.example/services/T000/B000/s3cr3t"
    await notification_block_id(url, None)

    async with get_client() as client:
        shown = await client.read_block_document_by_name(
            WEBHOOK_BLOCK_NAME, block_type_slug="custom-webhook", include_secrets=False
        )
        kept = await client.read_block_document_by_name(
            WEBHOOK_BLOCK_NAME, block_type_slug="custom-webhook", include_secrets=True
        )
    assert "s3cr3t" not in json.dumps(shown.data, default=str)
    assert shown.data["url"] == "{{webhook_url}}"
    assert kept.data["secrets"] == {"webhook_url": url}
