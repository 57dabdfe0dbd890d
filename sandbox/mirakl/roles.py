"""Which API role may call each emulated route, written from the `security` of the two Mirakl specs.

Mirakl documents the front (storefront) role and the operator (back-office) role as separate API trees with
separate credentials: every operation of `mmp-front-openapi.yaml` declares
`security: [{Front-Bearer-Token: []}, {OAuth-2: []}]`, every operation of `mmp-operator-openapi.json` declares
`security: [{Operator-Bearer-Token: []}, {OAuth-2: []}]`. An operation listed in both trees accepts either
role; one listed in a single tree accepts only that role. The mirrors lost the path entries of OR01,
PA01/PA02, PA11/PA12, S20 and TL02 but kept their schemas (`OR01_Request`, `PA11_Response_200`, ...) in
`components.schemas`: OR01's only in the front spec, the others' in both; SH02 has only its answer's schema,
in the front spec. OR02/OR03 are in neither spec;
Mirakl's front SDK (`../shared/api/mirakl.md` §3, "S5 only") calls them with the front key.

What the real tenant answers a credential of the wrong role is not in either spec; the emulator answers
`403 {"message": "Forbidden", "status": 403}` (Mirakl's usual error body) and 401 for a credential it does not
know at all.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FRONT", "OPERATOR", "ROUTE_ROLES"]

FRONT: Final = "front"
OPERATOR: Final = "operator"
_BOTH = frozenset({FRONT, OPERATOR})
_FRONT_ONLY = frozenset({FRONT})
_OPERATOR_ONLY = frozenset({OPERATOR})

# (method, route path) -> (operation code, roles the specs allow).
ROUTE_ROLES: Final[dict[tuple[str, str], tuple[str, frozenset[str]]]] = {
    # OF51/OF52/OF53/OF54: in both specs (front and operator paths `/api/offers/export...`).
    ("GET", "/api/offers/export"): ("OF51", _BOTH),
    ("POST", "/api/offers/export/async"): ("OF52", _BOTH),
    ("GET", "/api/offers/export/async/status/{tracking_id}"): ("OF53", _BOTH),
    ("GET", "/api/offers/export/async/file/{tracking_id}/{chunk}"): ("OF54", _BOTH),
    # OF02/OF04: operator spec only (`GET /api/offers/imports/{import}`, `GET /api/offers/imports`).
    ("GET", "/api/offers/imports/{import_id}"): ("OF02", _OPERATOR_ONLY),
    ("GET", "/api/offers/imports"): ("OF04", _OPERATOR_ONLY),
    # OF03: operator spec only (`GET /api/offers/imports/{import}/error_report`).
    ("GET", "/api/offers/imports/{import_id}/error_report"): ("OF03", _OPERATOR_ONLY),
    # S20: schemas `S20_*` in both specs.
    ("GET", "/api/shops"): ("S20", _BOTH),
    # OR01: front spec only (`OR01_Request` in components.schemas; absent from the operator spec).
    ("POST", "/api/orders"): ("OR01", _FRONT_ONLY),
    # OR11, OR21, OR23, OR24, OR29, OR30: in both specs.
    ("GET", "/api/orders"): ("OR11", _BOTH),
    # OR02/OR03: in neither spec; the front SDK calls them (mirakl.md §3).
    ("PUT", "/api/orders/valid/{commercial_id}"): ("OR02", _FRONT_ONLY),
    ("PUT", "/api/orders/invalid/{commercial_id}"): ("OR03", _FRONT_ONLY),
    ("PUT", "/api/orders/{order_id}/accept"): ("OR21", _BOTH),
    ("PUT", "/api/orders/{order_id}/tracking"): ("OR23", _BOTH),
    ("PUT", "/api/orders/{order_id}/ship"): ("OR24", _BOTH),
    # OR28: operator spec only (`PUT /api/orders/refund`); the front spec has no refund creation.
    ("PUT", "/api/orders/refund"): ("OR28", _OPERATOR_ONLY),
    ("PUT", "/api/orders/{order_id}/cancel"): ("OR29", _BOTH),
    ("PUT", "/api/orders/cancel"): ("OR30", _BOTH),
    # PA11/PA01/PA12/PA02: `PA11_Response_200`, `PA01_Request`, ... in the components of both specs.
    ("GET", "/api/payment/debit"): ("PA11", _BOTH),
    ("PUT", "/api/payment/debit"): ("PA01", _BOTH),
    ("GET", "/api/payment/refund"): ("PA12", _BOTH),
    ("PUT", "/api/payment/refund"): ("PA02", _BOTH),
    # SH02: front spec only (`SH02_Response_200` in the front components; absent from the operator spec).
    ("GET", "/api/shipping/rates"): ("SH02", _FRONT_ONLY),
    # SH21, RE01, IV01, SBC11: in both specs; TL02: schemas `TL02_*` in both.
    ("GET", "/api/shipping/carriers"): ("SH21", _BOTH),
    ("GET", "/api/reasons"): ("RE01", _BOTH),
    ("GET", "/api/sellerpayment/transactions_logs"): ("TL02", _BOTH),
    ("GET", "/api/invoices"): ("IV01", _BOTH),
    ("GET", "/api/seller-billing-cycles"): ("SBC11", _BOTH),
}
