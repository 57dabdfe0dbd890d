"""The carrier table: BigCommerce carrier names ↔ Mirakl carrier codes, and the check before any OR23.

Mirakl refuses (or worse, mislabels) a tracking update whose carrier code it does not know, and a customer
then gets no tracking link. So every update bound for Mirakl is resolved here from the versioned file plus
the operations overrides, and the code is checked against Mirakl's own list (SH21) before anything is sent;
what cannot be resolved comes back with the name that failed, for the quarantine and the alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.config import read_yaml
from common.errors import ConfigurationError
from connectors.mirakl import Tracking

__all__ = [
    "CarrierDecision",
    "CarrierEntry",
    "CarrierTable",
    "decide_mirakl_tracking",
    "load_carrier_file",
]


class CarrierEntry(BaseModel):
    """One carrier as both systems name it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mirakl_code: str = Field(min_length=1, max_length=64)
    shipping_provider: str = ""
    tracking_carrier: str = ""
    aliases: tuple[str, ...] = ()

    def bigcommerce_names(self) -> list[str]:
        names = [self.tracking_carrier, self.shipping_provider, *self.aliases]
        return [name.strip().lower() for name in names if name and name.strip()]


class _CarrierFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int | str
    carriers: list[CarrierEntry]


@dataclass(frozen=True)
class CarrierTable:
    """The merged table; overrides replace the file's entry with the same Mirakl code."""

    version: str
    entries: dict[str, CarrierEntry]
    _by_name: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, version: int | str, entries: Iterable[CarrierEntry]) -> CarrierTable:
        by_code = {entry.mirakl_code: entry for entry in entries}
        by_name: dict[str, str] = {}
        for entry in by_code.values():
            for name in entry.bigcommerce_names():
                other = by_name.setdefault(name, entry.mirakl_code)
                if other != entry.mirakl_code:
                    raise ConfigurationError(
                        f"carrier table: BigCommerce name {name!r} maps to both {other} and {entry.mirakl_code}"
                    )
        return cls(str(version), by_code, by_name)

    def with_overrides(self, overrides: Iterable[CarrierEntry]) -> CarrierTable:
        extra = list(overrides)
        if not extra:
            return self
        merged = {**self.entries, **{entry.mirakl_code: entry for entry in extra}}
        return CarrierTable.build(f"{self.version}+{len(extra)} overrides", merged.values())

    def mirakl_code_for(self, name: str) -> str | None:
        """The Mirakl code of a BigCommerce carrier name (case-insensitive), or None when unmapped."""
        return self._by_name.get(name.strip().lower())

    def bigcommerce_for(self, mirakl_code: str | None) -> CarrierEntry | None:
        return self.entries.get(mirakl_code) if mirakl_code else None


@dataclass(frozen=True)
class CarrierDecision:
    """What to send to OR23, or why nothing may be sent (`reason`, naming the carrier that failed)."""

    carrier_name: str
    tracking: Tracking | None = None
    reason: str | None = None
    mirakl_code: str | None = None


def load_carrier_file(path: Path | None = None) -> CarrierTable:
    """The versioned table (the packaged `carriers.yaml` when `path` is None), validated."""
    raw, source = read_yaml(path, "carriers.yaml")
    try:
        parsed = _CarrierFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"{source} is invalid: {exc}") from None
    codes = [entry.mirakl_code for entry in parsed.carriers]
    if len(codes) != len(set(codes)):
        raise ConfigurationError(f"{source}: a Mirakl carrier code is listed twice")
    return CarrierTable.build(parsed.version, parsed.carriers)


def decide_mirakl_tracking(
    table: CarrierTable,
    known_codes: set[str],
    *,
    shipping_provider: str | None,
    tracking_carrier: str | None,
    tracking_number: str | None,
    tracking_link: str | None,
    allow_unregistered: bool,
) -> CarrierDecision:
    """Resolve a BigCommerce shipment's carrier into an OR23 body that Mirakl will accept, or a refusal.

    The tracking carrier (an AfterShip slug) is more specific than the provider, so it is tried first. A code
    the table gives but SH21 does not list is refused too: the table is wrong, or the tenant dropped it.
    The unregistered form (name + URL) is used only when configuration allows it.
    """
    names = [name.strip() for name in (tracking_carrier, shipping_provider) if name and name.strip()]
    if not names:
        return CarrierDecision("", reason="no carrier on the BigCommerce shipment")
    for name in names:
        code = table.mirakl_code_for(name)
        if code is not None and code in known_codes:
            return CarrierDecision(name, Tracking.registered(code, tracking_number or None), mirakl_code=code)
        if code is not None:
            return CarrierDecision(
                name, reason=f"carrier code {code} (for {name}) not in Mirakl SH21", mirakl_code=code
            )
    name = names[0]
    if allow_unregistered:
        return CarrierDecision(name, Tracking.unregistered(name, tracking_number or None, tracking_link or None))
    return CarrierDecision(name, reason=f"unmapped carrier: {name}")
