"""Missing or wrong configuration stops a run before any call, naming the variable or field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import load_config
from bridge.settings import load_settings
from common.errors import ConfigurationError

COMPLETE = {
    "BCMIRAKL_BC_STORE_HASH": "abc123",
    "BCMIRAKL_BC_ACCESS_TOKEN": "s3cr3t-bc",
    "BCMIRAKL_MIRAKL_BASE_URL": "https://acme.mirakl.net",
    "BCMIRAKL_MIRAKL_FRONT_API_KEY": "s3cr3t-mirakl",
    "BCMIRAKL_MIRAKL_OPERATOR_API_KEY": "s3cr3t-mirakl-operator",
    "BCMIRAKL_ERP_BASE_URL": "https://erp.example",
    "BCMIRAKL_ERP_TOKEN": "s3cr3t-erp",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in COMPLETE:
        monkeypatch.delenv(name, raising=False)
    for role in ("FRONT", "OPERATOR"):
        for field in ("API_KEY", "ACCESS_TOKEN", "OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET"):
            monkeypatch.delenv(f"BCMIRAKL_MIRAKL_{role}_{field}", raising=False)
    monkeypatch.delenv("BCMIRAKL_MIRAKL_OAUTH_TOKEN_URL", raising=False)
    for name, value in COMPLETE.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_complete_environment_loads_with_secrets_hidden(environment: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.bc_store_hash == "abc123"
    assert "s3cr3t" not in repr(settings)


def test_a_missing_variable_is_named(environment: pytest.MonkeyPatch) -> None:
    environment.delenv("BCMIRAKL_BC_STORE_HASH")
    with pytest.raises(ConfigurationError, match="BCMIRAKL_BC_STORE_HASH"):
        load_settings()


def test_mirakl_needs_a_key_or_the_whole_oauth_client(environment: pytest.MonkeyPatch) -> None:
    environment.delenv("BCMIRAKL_MIRAKL_FRONT_API_KEY")
    environment.setenv("BCMIRAKL_MIRAKL_FRONT_OAUTH_CLIENT_ID", "client")
    environment.setenv("BCMIRAKL_MIRAKL_FRONT_OAUTH_CLIENT_SECRET", "secret")
    with pytest.raises(ConfigurationError, match="BCMIRAKL_MIRAKL_OAUTH_TOKEN_URL"):
        load_settings()


def test_mirakl_without_the_operator_credential_names_the_missing_setting(environment: pytest.MonkeyPatch) -> None:
    environment.delenv("BCMIRAKL_MIRAKL_OPERATOR_API_KEY")
    with pytest.raises(
        ConfigurationError, match="Mirakl operator credential missing: set BCMIRAKL_MIRAKL_OPERATOR_API_KEY"
    ):
        load_settings()


def test_an_access_token_per_role_is_a_complete_mirakl_setup(environment: pytest.MonkeyPatch) -> None:
    environment.delenv("BCMIRAKL_MIRAKL_FRONT_API_KEY")
    environment.delenv("BCMIRAKL_MIRAKL_OPERATOR_API_KEY")
    environment.setenv("BCMIRAKL_MIRAKL_FRONT_ACCESS_TOKEN", "front-token")
    environment.setenv("BCMIRAKL_MIRAKL_OPERATOR_ACCESS_TOKEN", "operator-token")
    settings = load_settings()
    assert settings.mirakl_front_access_token is not None
    assert "front-token" not in repr(settings)


def test_the_packaged_business_config_is_valid() -> None:
    config = load_config()
    assert config.orders.paid_status_ids == (11,)
    assert config.offers.on_feed_failure == "disable"


def test_a_wrong_config_value_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bridge.yaml"
    path.write_text("offers:\n  on_feed_failure: ignore\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"offers\.on_feed_failure"):
        load_config(path)


def test_an_unknown_config_field_is_refused_not_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bridge.yaml"
    path.write_text("orders:\n  payed_status_ids: [11]\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"orders\.payed_status_ids"):
        load_config(path)


def test_broken_yaml_and_a_missing_file_are_configuration_errors(tmp_path: Path) -> None:
    broken = tmp_path / "bridge.yaml"
    broken.write_text("offers: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_config(broken)
    with pytest.raises(ConfigurationError, match="not found"):
        load_config(tmp_path / "absent.yaml")


def test_the_debit_and_refund_confirmation_forms_are_checked_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "bridge.yaml"
    path.write_text("acceptance: {debit_entity: SHIPMENT}\nrefunds: {refund_confirmation: order_lines}\n")
    config = load_config(path)
    assert (config.acceptance.debit_entity, config.refunds.refund_confirmation) == ("SHIPMENT", "order_lines")
    path.write_text("acceptance: {debit_entity: PARCEL}\n")
    with pytest.raises(ConfigurationError, match=r"acceptance\.debit_entity"):
        load_config(path)
    path.write_text("refunds: {refund_confirmation: lines}\n")
    with pytest.raises(ConfigurationError, match=r"refunds\.refund_confirmation"):
        load_config(path)


def test_shipping_methods_match_the_bigcommerce_method_case_blind_and_fall_back_to_the_default_type() -> None:
    orders = load_config().orders
    assert orders.shipping_types_for(" flat RATE ") == ("STD", "EXP")
    assert orders.shipping_types_for("Pigeon post") == (orders.shipping_type_code,)
    assert orders.shipping_types_for(None) == (orders.shipping_type_code,)


def test_a_shipping_method_without_types_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bridge.yaml"
    path.write_text("orders:\n  shipping_methods: {Express: []}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="shipping_methods"):
        load_config(path)


def test_export_chunk_hosts_are_a_json_list_of_hosts(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("BCMIRAKL_MIRAKL_CHUNK_HOSTS", '["exports.acme-cdn.example"]')
    assert load_settings().mirakl_chunk_hosts == ["exports.acme-cdn.example"]
