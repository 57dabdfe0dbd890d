"""The bridge's business configuration: one versioned YAML file, validated by pydantic before any call.

Mappings and thresholds that operations own (carrier names, shipping zones, refund reasons, tax mode,
acceptance delays, commission contracts, alert thresholds) live here rather than in code, so changing one is
a reviewed edit of a file, and a bad value fails the run at start-up naming the field.
"""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from common.errors import ConfigurationError
from connectors.money import check_currency

__all__ = [
    "AcceptanceConfig",
    "BridgeConfig",
    "BudgetLimit",
    "DriftConfig",
    "MiraklBudgetsConfig",
    "OfferSyncConfig",
    "OrderRoutingConfig",
    "OutageConfig",
    "ReconciliationConfig",
    "RefundConfig",
    "ShipmentConfig",
    "load_config",
    "read_yaml",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfferSyncConfig(_Section):
    export: Literal["OF52", "OF51"] = Field(default="OF52", description="offer export API; OF51 is the fallback")
    models: tuple[Literal["MARKETPLACE", "DROPSHIP", "ONE_CREDITOR"], ...] = Field(
        default=("MARKETPLACE",),
        min_length=1,
        description="platform models of the seller accounts whose offers are exported (OF51/OF52 `models`); a "
        "DROPSHIP offer is sold at its retail price, never its purchase price",
    )
    overlap_seconds: int = Field(default=60, ge=0, description="delta reads start this long before the cursor")
    price_ceiling: Decimal = Field(default=Decimal("100000"), gt=0, description="prices above are quarantined")
    max_price_drop: float = Field(default=0.9, gt=0, lt=1, description="a larger drop vs last push is a feed error")
    max_price_rise: float = Field(default=10.0, gt=0, description="a rise beyond this factor is a feed error")
    on_feed_failure: Literal["disable", "hold"] = Field(default="disable", description="a failed seller feed's offers")
    create_listings: bool = Field(default=False, description="create hidden drafts for unlisted Mirakl products")
    unbuyable_message: str = Field(default="Currently unavailable", max_length=255)
    metafield_namespace: str = Field(default="bcmirakl", description="namespace of the bridge's metafields")
    push_batch_size: int = Field(default=50, ge=1, le=50, description="variants per batch update")
    export_poll_seconds: float = Field(default=10.0, ge=0, description="first wait between OF53 polls (doubles)")
    feed_lookback_hours: float = Field(default=24, gt=0, description="OF04 imports read to judge seller feeds")
    feed_failure_error_share: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="an import whose lines in error reach this share of its lines read fails the seller's feed; "
        "below it the import is partial: Mirakl kept the good lines, so only the lines in error are reported",
    )
    max_push_failures: int = Field(default=5, ge=1, description="transient batch failures before a drain stops")


class OrderRoutingConfig(_Section):
    paid_status_ids: tuple[int, ...] = Field(default=(11,), description="BigCommerce statuses that mean paid")
    cancelled_status_ids: tuple[int, ...] = Field(default=(5, 6), description="statuses that cancel an order")
    manual_verification_status_ids: tuple[int, ...] = Field(default=(12,), description="held for review")
    scored: bool = Field(default=True, description="false: orders wait in STAGING until validated (OR02)")
    payment_workflow: str = Field(default="PAY_ON_ACCEPTANCE")
    tax_mode: Literal["bigcommerce", "mirakl"] = Field(default="bigcommerce")
    shipping_type_code: str = Field(
        default="STD", min_length=1, description="Mirakl shipping type for BigCommerce methods not in shipping_methods"
    )
    shipping_methods: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="BigCommerce shipping method -> Mirakl shipping types the customer accepts, most wanted first",
    )
    shipping_zones: dict[str, str] = Field(default_factory=dict, description="country ISO-2 -> Mirakl zone code")
    default_shipping_zone: str | None = Field(default=None, description="zone when the country is not mapped")
    tax_code: str = Field(default="TAX", description="Mirakl tax code for BigCommerce's line taxes")
    refunded_status_ids: tuple[int, ...] = Field(default=(4,), description="statuses that mean fully refunded")
    overlap_seconds: int = Field(default=120, ge=0, description="order sweeps start this long before the cursor")
    page_concurrency: int = Field(default=8, ge=1, le=32, description="orders of a page routed at once")
    cx_metafield_key: str = Field(default="fulfilment", description="order metafield (namespace bcmirakl) for CX")
    # orders.v3.yml `permission_set`: `app_only` is "Private to the app that owns the field", `read` is "Visible
    # to other API consumers": the helpdesk apps that show it to agents are other API consumers.
    cx_metafield_permission_set: Literal["app_only", "read", "write", "read_and_sf_access", "write_and_sf_access"] = (
        Field(default="read", description="who may read the CX metafield: read = other apps of the store")
    )
    embed_lines: bool = Field(
        default=True,
        description="ask the order list for every order's lines and addresses (include=consignments.line_items); "
        "false: read them one order at a time",
    )

    @field_validator("shipping_methods")
    @classmethod
    def _methods_name_types(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        empty = sorted(method for method, types in value.items() if not types or not all(types))
        if empty:
            raise ValueError(f"give each shipping method at least one Mirakl shipping type: {', '.join(empty)}")
        return {method.strip().casefold(): types for method, types in value.items()}

    def shipping_types_for(self, method: str | None) -> tuple[str, ...]:
        """The Mirakl shipping types a line may use, most wanted first, for the customer's BigCommerce method."""
        return self.shipping_methods.get((method or "").strip().casefold(), (self.shipping_type_code,))


class AcceptanceConfig(_Section):
    default_delay_hours: float = Field(default=72, gt=0, description="tenant auto-refusal delay")
    seller_delay_hours: dict[int, float] = Field(default_factory=dict, description="per-shop override")
    debit_delay_hours: float = Field(default=72, gt=0, description="time to confirm a debit before cancellation")
    warn_share: float = Field(default=0.75, gt=0, lt=1, description="warn at this share of the window")
    refused_lines: Literal["refund", "queue"] = Field(default="refund", description="money for refused lines")
    refund_reason: str = Field(default="Refused by the marketplace seller", max_length=1000)
    debit_entity: Literal["ORDER", "SHIPMENT"] = Field(
        default="ORDER", description="the tenant debits customers per logistic order or per shipment (PA11/PA01)"
    )
    cancel_reason_code: str | None = Field(
        default=None, description="RE01 CANCELATION code for OR30 on lines BigCommerce refunded before the debit"
    )


class ShipmentConfig(_Section):
    carriers_file: Path | None = Field(default=None, description="carrier table; packaged default when unset")
    allow_unregistered_carriers: bool = Field(default=False, description="send carrier name + URL when unmapped")
    carrier_cache_hours: float = Field(default=24, gt=0)
    carrier_stale_reminder_hours: float = Field(
        default=24, gt=0, description="a carrier list still stale is alerted again after this many hours"
    )
    overlap_seconds: int = Field(default=300, ge=0, description="incremental reads start this long before the cursor")
    bc_shipped_status_ids: tuple[int, ...] = Field(default=(2, 3), description="BigCommerce statuses after shipping")
    mirakl_shipped_states: tuple[str, ...] = Field(
        default=("SHIPPED", "TO_COLLECT", "RECEIVED", "CLOSED"), description="Mirakl states that mean shipped"
    )
    not_shipping_retry_minutes: float = Field(default=10, gt=0, description="retry OR23/OR24 before SHIPPING")


class RefundConfig(_Section):
    reason_codes: dict[str, str] = Field(default_factory=dict, description="BigCommerce reason -> RE01 code")
    default_reason_code: str | None = Field(default=None, description="RE01 code when no mapping matches")
    overlap_seconds: int = Field(default=300, ge=0, description="refund reads start this long before the cursor")
    refund_confirmation: Literal["refunds", "order_lines"] = Field(
        default="refunds", description="PA02 form: order_lines where partial refunds are disabled on the platform"
    )
    fallback_refund_providers: tuple[str, ...] = Field(
        default=(), description="refund providers allowed when no method pays back the way the customer paid"
    )


class ReconciliationConfig(_Section):
    commission_rates: dict[int, Decimal] = Field(default_factory=dict, description="shop id -> contract rate")
    default_commission_rate: Decimal | None = Field(default=None, ge=0, le=1)
    export_dir: str = Field(
        default=".bcmirakl/exports",
        min_length=1,
        description="where finance's CSV files go: a local folder (a relative one is taken from the worker's "
        "working directory) or an fsspec URL such as s3://bucket/finance (its filesystem package installed)",
    )
    commission_tax_rate: Decimal | None = Field(
        default=None, ge=0, le=1, description="tax on commission (0.20); unset: Mirakl's COMMISSION_VAT is not checked"
    )


class DriftConfig(_Section):
    stale_after_minutes: float = Field(default=60, gt=0, description="variant not refreshed for longer is stale")
    latency_p95_seconds: float = Field(default=600, gt=0, description="stock-out to unbuyable p95 alert bound")
    oos_buyable_alert_count: int = Field(default=1, ge=1, description="alert at this many buyable-but-OOS")


class OutageConfig(_Section):
    alert_share: float = Field(
        default=1.0, gt=0, le=1, description="a run that deferred this share of its work on one system alerts"
    )


class BudgetLimit(_Section):
    calls: int = Field(ge=1, description="calls allowed in any window of `seconds`")
    seconds: float = Field(gt=0, description="window length")


class MiraklBudgetsConfig(_Section):
    """Mirakl call budgets, one per operation, shared by every stream and worker through the state store."""

    enabled: bool = Field(default=True, description="false: no budget is held (the tenant still answers 429)")
    max_wait_seconds: float = Field(default=900, ge=0, description="longest wait for a slot before the run stops")
    operations: dict[str, tuple[BudgetLimit, ...]] = Field(
        default_factory=dict,
        description="operation code -> its limits, replacing the documented maximum; [] removes the budget",
    )


class BridgeConfig(_Section):
    currency: str = Field(
        default="USD",
        min_length=3,
        max_length=3,
        description="the store's transactional currency (ISO 4217); orders in another one are exceptions",
    )
    offers: OfferSyncConfig = OfferSyncConfig()
    orders: OrderRoutingConfig = OrderRoutingConfig()
    acceptance: AcceptanceConfig = AcceptanceConfig()
    shipments: ShipmentConfig = ShipmentConfig()
    refunds: RefundConfig = RefundConfig()
    reconciliation: ReconciliationConfig = ReconciliationConfig()
    drift: DriftConfig = DriftConfig()
    outages: OutageConfig = OutageConfig()
    mirakl_budgets: MiraklBudgetsConfig = MiraklBudgetsConfig()

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        """Every stream rounds money in this currency's minor unit: an unknown code fails start-up, not a push."""
        return check_currency(value)


def read_yaml(path: Path | None, packaged: str) -> tuple[Any, str]:
    """A YAML file's content and a name for it in error messages; the packaged default when `path` is None."""
    if path is None:
        text = resources.files("bridge.defaults").joinpath(packaged).read_text(encoding="utf-8")
        source = f"packaged {packaged}"
    else:
        if not path.exists():
            raise ConfigurationError(f"{packaged} not found: {path}")
        text, source = path.read_text(encoding="utf-8"), str(path)
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{source} is not valid YAML: {exc}") from None
    if content is None and path is not None:
        # An operator who points at a file means its settings: an empty one (a failed copy, a wrong path
        # template) would otherwise run on every default without a word.
        raise ConfigurationError(f"{source} is empty: give at least one setting, or unset the file to use defaults")
    if content is not None and not isinstance(content, dict):
        raise ConfigurationError(
            f"{source} must be a mapping of settings (name: value) at the top, not a {_yaml_kind(content)}"
        )
    return content or {}, source


def _yaml_kind(content: Any) -> str:
    return "list" if isinstance(content, list) else "single value"


def load_config(path: Path | None = None) -> BridgeConfig:
    """Load and validate the config file (the packaged default when `path` is None)."""
    raw, source = read_yaml(path, "bridge.yaml")
    try:
        return BridgeConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"{source} is invalid: {problems}") from None
