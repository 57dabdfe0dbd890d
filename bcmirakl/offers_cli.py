"""`bcmirakl offers`: the offer pushes BigCommerce refused, and putting them back in the queue.

A variant change BigCommerce rejected (or that failed for good) is held in the outbox with the API's message.
A newer change for the variant brings it back by itself; `requeue` is for when the cause was fixed on the
BigCommerce side (a variant re-created, a permission granted) and nothing changed in Mirakl since. Requeued
items are pushed by the next offer-sync run, with their latest payload; one refused again is held again.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bcmirakl.store_commands import Subcommands, add_command_family
from bridge.streams import Stream

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["add_offer_commands", "run_offer_command"]


def add_offer_commands(commands: Subcommands) -> None:
    actions = add_command_family(commands, "offers", "offer pushes held after BigCommerce refused them")
    actions.add_parser("held", help="list the held offer pushes, with BigCommerce's message")
    requeue = actions.add_parser("requeue", help="queue held offer pushes again for the next offer-sync run")
    which = requeue.add_mutually_exclusive_group(required=True)
    which.add_argument("--sku", action="append", default=[], help="a Mirakl product SKU (repeatable)")
    which.add_argument("--all", action="store_true", help="every held offer push")


def run_offer_command(args: argparse.Namespace, session: Session) -> int:
    from connectors.state import held_items, requeue

    held = held_items(session, Stream.OFFER_SYNC)
    if args.offers_command == "held":
        print(f"{'product_sku':<32}{'kind':<11}{'status':<13}{'variant':<10}message")
        for item in held:
            sku, variant = item.payload.get("product_sku", "?"), item.payload.get("variant_id", "?")
            print(f"{sku:<32}{item.kind:<11}{item.status:<13}{variant!s:<10}{(item.last_error or '')[:120]}")
        print(f"{len(held)} held offer push(es)")
        return 0
    wanted = set(args.sku)
    chosen = [item for item in held if args.all or item.payload.get("product_sku") in wanted]
    requeue(session, [item.id for item in chosen])
    session.commit()
    unknown = sorted(wanted - {str(item.payload.get("product_sku")) for item in chosen})
    print(f"{len(chosen)} held offer push(es) requeued; the next offer-sync run pushes them")
    if unknown:
        print(f"nothing held for: {', '.join(unknown)}")
    return 0 if chosen or not unknown else 1
