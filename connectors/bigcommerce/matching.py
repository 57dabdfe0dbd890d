"""Listings narrowed by filters the catalog spec does not document, with every returned row checked.

`product-variants_catalog.v3.yml` documents for `GET /catalog/variants` only `id` ("Filter items by variant ID",
one integer), `sku` (one string), `upc` and `product_id:in`, and for `GET /catalog/variants/metafields` only
`key`, `key:in`, `namespace`, `namespace:in`, dates and paging: no `id:in`, `sku:in` or `resource_id:in`. Stores
accept those list filters in practice, and one call per chunk is far cheaper than one per value, so the bridge
still sends them, in chunks that keep every URL short, but trusts no row: a row that was not asked for means
the store ignored the filter. That listing is then the whole collection, so it is read to its end once, keeping
only the rows of every value asked for (whatever the chunk), and no further chunk is requested. A store that
ignores the filter thus costs one full sweep, never one per chunk, and never makes an unrelated row a match. A
caller with a second lookup over the same collection passes a `Sweep`, which keeps the other rows that lookup
wants as the sweep passes them, so a store that ignores filters is swept once for both.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["Sweep", "iter_matching"]

R = TypeVar("R")
K = TypeVar("K", bound=Hashable)

_log = logging.getLogger(__name__)


@dataclass
class Sweep(Generic[R]):
    """The rows `keep` wants among those a full sweep passed without yielding; `complete` once the store was seen
    to ignore the filter and its listing was read to the end (then `rows` holds every such row of the collection,
    else nothing can be concluded from it)."""

    keep: Callable[[R], bool]
    rows: list[R] = field(default_factory=list)
    complete: bool = False


async def iter_matching(
    list_chunk: Callable[[list[K]], AsyncIterator[list[R]]],
    wanted: Iterable[K],
    key_of: Callable[[R], K | None],
    chunk_size: int,
    *,
    operation: str,
    sweep: Sweep[R] | None = None,
) -> AsyncIterator[list[R]]:
    """Pages of the rows whose key is one of `wanted`, each row once.

    Args:
        list_chunk: lists the collection narrowed to a chunk of keys (the undocumented list filter).
        wanted: the keys asked for.
        key_of: a row's key, or None for a row that fails the documented filters sent with it.
        chunk_size: keys per call, so no URL carries every key.
        operation: named in the warning when the store ignores the filter.
        sweep: collects, during a full sweep, the rows not yielded that its `keep` wants.
    """
    values = list(dict.fromkeys(wanted))
    everything = set(values)
    seen: set[K] = set()
    for start in range(0, len(values), chunk_size):
        chunk = values[start : start + chunk_size]
        asked = set(chunk)
        ignored = False
        async for page in list_chunk(chunk):
            keys = [key_of(row) for row in page]
            if not ignored and any(key not in asked for key in keys):
                ignored = True
                _log.warning("%s: the store ignores the list filter; reading the listing once to its end", operation)
            accept = everything if ignored else asked
            kept = []
            for row, key in zip(page, keys, strict=True):
                if key is not None and key in accept and key not in seen:
                    seen.add(key)
                    kept.append(row)
                elif ignored and sweep is not None and sweep.keep(row):
                    sweep.rows.append(row)
            if kept:
                yield kept
        if ignored:
            if sweep is not None:
                sweep.complete = True
            return
