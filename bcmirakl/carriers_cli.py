"""`bcmirakl carriers`: the carrier overrides operations edit without a release.

The versioned table (`bridge/defaults/carriers.yaml`) is reviewed with the code; an override row in the state
store adds or replaces one Mirakl code's mapping at once. Setting one also requeues the shipments held back for
an unmapped carrier, so the next shipment sync sends them (or holds them again, with the reason, if the mapping
still does not fit). Like every state-store command it runs on a store already at the code's schema and never
migrates it (`bcmirakl.store_commands.state_store`): a store behind stops it with one sentence naming
`bcmirakl db upgrade`, before any override is written.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bcmirakl.store_commands import Subcommands, add_command_family
from bridge.streams import Stream

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["add_carrier_commands", "run_carrier_command"]


def add_carrier_commands(commands: Subcommands) -> None:
    actions = add_command_family(commands, "carriers", "carrier mappings: the versioned table and operator overrides")
    actions.add_parser("list", help="every mapping in force, file and overrides")
    put = actions.add_parser("set", help="add or replace the mapping of one Mirakl carrier code")
    put.add_argument("mirakl_code", help="the carrier's code in Mirakl (SH21)")
    put.add_argument("--shipping-provider", default="", help="BigCommerce shipping_provider, e.g. ups")
    put.add_argument("--tracking-carrier", default="", help="BigCommerce tracking_carrier (AfterShip slug)")
    put.add_argument("--alias", action="append", default=[], help="another name BigCommerce uses (repeatable)")
    put.add_argument("--note", default=None, help="why, for the next person")
    remove = actions.add_parser("remove", help="drop an override so the file's mapping applies again")
    remove.add_argument("mirakl_code")


def run_carrier_command(args: argparse.Namespace, session: Session) -> int:
    from connectors.state import (
        delete_carrier_override,
        list_carrier_overrides,
        quarantined_ids,
        requeue,
        upsert_carrier_overrides,
    )
    from tasks.shipments.carriers import load_carrier_file
    from tasks.shipments.outbound import KIND

    if args.carriers_command == "list":
        overrides = {o.mirakl_code: o for o in list_carrier_overrides(session)}
        table = load_carrier_file()
        print(f"{'mirakl_code':<16}{'shipping_provider':<20}{'tracking_carrier':<24}{'source':<10}aliases")
        for code in sorted(set(table.entries) | set(overrides)):
            entry = overrides.get(code) or table.entries[code]
            source = "override" if code in overrides else "file"
            aliases = ", ".join(entry.aliases or ())
            print(f"{code:<16}{entry.shipping_provider:<20}{entry.tracking_carrier:<24}{source:<10}{aliases}")
        return 0
    if args.carriers_command == "set":
        if not (args.shipping_provider or args.tracking_carrier or args.alias):
            print("give at least one BigCommerce name: --shipping-provider, --tracking-carrier or --alias")
            return 2
        row = {
            "mirakl_code": args.mirakl_code,
            "shipping_provider": args.shipping_provider,
            "tracking_carrier": args.tracking_carrier,
            "aliases": list(args.alias),
            "note": args.note,
        }
        upsert_carrier_overrides(session, [row])
        held = quarantined_ids(session, Stream.SHIPMENT_SYNC, KIND)
        requeue(session, held)
        session.commit()
        print(f"override for {args.mirakl_code} saved; {len(held)} held shipment update(s) requeued")
        return 0
    removed = delete_carrier_override(session, args.mirakl_code)
    session.commit()
    print(f"override for {args.mirakl_code} {'removed' if removed else 'not found'}")
    return 0 if removed else 1
