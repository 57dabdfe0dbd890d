"""Hidden draft listings for Mirakl products that BigCommerce does not list yet (`create_listings: true`).

A product offered on Mirakl but missing from the storefront is a mapping error; with the option on, the bridge
creates it as a hidden, unbuyable draft marked Mirakl-owned, for merchandisers to enrich. Each creation goes
through the ledger (`write_once`), so a rerun never creates a product twice.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from connectors.bigcommerce.models import MetafieldCreate, Product, ProductCreate
from connectors.state import upsert_offer_map
from tasks.exactly_once import write_once
from tasks.offers.ownership import OWNER_KEY, OWNER_VALUE

__all__ = ["create_draft_listings"]


@task(cache_policy=NO_CACHE)
async def create_draft_listings(rt: Runtime, skus: list[str]) -> list[str]:
    """Create a hidden draft product per SKU, mark its variant Mirakl-owned and map it; returns the SKUs created."""
    created: list[str] = []
    for sku in skus:

        async def send(sku: str = sku) -> Product:
            return await rt.bigcommerce.create_product(ProductCreate(name=f"Marketplace {sku}", sku=sku))

        outcome = await write_once(
            rt.sessions,
            system="bigcommerce",
            operation="create_product",
            key=f"offer-sync:listing:{sku}",
            send=send,
            external_id=lambda product: str(product.id),
        )
        if outcome.status != "sent" or outcome.result is None or outcome.result.base_variant_id is None:
            continue
        product = outcome.result
        mark = MetafieldCreate(
            namespace=rt.config.offers.metafield_namespace,
            key=OWNER_KEY,
            value=OWNER_VALUE,
            resource_id=product.base_variant_id,
        )
        await rt.bigcommerce.create_variant_metafields([mark])
        row = {
            "product_sku": sku,
            "bc_product_id": product.id,
            "bc_variant_id": product.base_variant_id,
            "bc_sku": sku,
            "owner": "mirakl",
        }
        with rt.sessions() as session:
            upsert_offer_map(session, [row])
            session.commit()
        created.append(sku)
    return created
