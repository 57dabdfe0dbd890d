"""Offer sync tasks: read Mirakl offers, choose the best per product, gate, diff, queue and push to BigCommerce."""

from __future__ import annotations

from tasks.offers.calls import PushStats
from tasks.offers.cycle import CycleResult, decide_and_enqueue, start_read
from tasks.offers.gating import GatedOffers, gate_offers
from tasks.offers.listings import create_draft_listings
from tasks.offers.ownership import Ownership, refresh_ownership
from tasks.offers.push import drain_outbox
from tasks.offers.sources import OfferRead, SellerHealth, read_offer_export, read_seller_health

__all__ = [
    "CycleResult",
    "GatedOffers",
    "OfferRead",
    "Ownership",
    "PushStats",
    "SellerHealth",
    "create_draft_listings",
    "decide_and_enqueue",
    "drain_outbox",
    "gate_offers",
    "read_offer_export",
    "read_seller_health",
    "refresh_ownership",
    "start_read",
]
