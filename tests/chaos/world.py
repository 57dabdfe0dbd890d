"""One schedule's world: a fresh seeded sandbox, a state store, and the bridge's runtime wired to both in-process.

Every request of the bridge goes through `ChaosTransport`, the HTTP seam where a step's faults are applied:
a kill before or after the Nth external write, a timeout that loses the request or only its answer, a second
worker that runs the same stream while the first one's write is in flight, and duplicated items in list
answers (the same event delivered twice). It also logs every write the sandbox accepted, for the invariants.
HTTP-level faults the platforms themselves produce (5xx, 429 bursts, malformed bodies, partial batch failures)
are set through the sandbox's own public `/_sandbox/faults` endpoints.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from sqlalchemy import event, text

import bridge.sandbox_settings as sandbox_settings_module
from bridge.config import BridgeConfig
from bridge.runtime import Runtime, build_runtime
from bridge.sandbox_settings import SANDBOX_ERP_TOKEN, SANDBOX_MIRAKL_API_KEY, sandbox_settings
from connectors.state import create_state_engine, upgrade
from sandbox.app import Sandbox, create_sandbox
from sandbox.bigcommerce import BigCommerceSandboxSettings
from sandbox.mirakl import MiraklSandboxSettings
from tests.chaos.seams import SimulatedKill, VirtualClock

__all__ = ["ChaosTransport", "ChaosWorld", "StepFaults", "WriteRecord"]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# POSTs that change nothing: starting an offer export (OF52) and asking BigCommerce for a refund quote.
READ_ONLY_WRITES = ("/_sandbox/", "/api/offers/export/async", "/payment_actions/refund_quotes")
MIRAKL_KEY = {"Authorization": SANDBOX_MIRAKL_API_KEY}
# The operator role's key where the sandbox knows two roles; the front key otherwise (same requests either way).
MIRAKL_OPERATOR_KEY = {"Authorization": getattr(sandbox_settings_module, "SANDBOX_MIRAKL_OPERATOR_API_KEY", "")}
BC_TOKEN = {"X-Auth-Token": "sandbox-token", "Accept": "application/json"}
ERP_TOKEN = {"Authorization": f"Bearer {SANDBOX_ERP_TOKEN}"}
LIST_KEYS = ("data", "orders", "refunds", "shipments", "offers")
OFFER_POOL_STRIDE = 7
# Feeds of events the bridge sweeps (orders changed, refunds, debits): where an at-least-once source repeats one.
FEEDS = re.compile(r"(/v2/orders|/api/orders|/api/payment/(refund|debit)|/payment_actions/refunds)$")


@dataclass(frozen=True)
class WriteRecord:
    """A write the sandbox answered 2xx, whether or not the bridge got to read the answer."""

    method: str
    path: str
    body: Any
    status: int
    response: Any


@dataclass
class StepFaults:
    """What the transport does to one stream run; counters are per run, writes counted from 1."""

    kill_before_write: int | None = None
    kill_after_write: int | None = None
    timeout_before_write: int | None = None  # the request never reaches the server
    timeout_after_write: int | None = None  # the server did it, the answer is lost
    race_at_write: int | None = None  # a second worker runs the same stream while this write is in flight
    race: Callable[[], Awaitable[None]] | None = None
    duplicate_list_items: bool = False
    writes: int = 0
    fired: list[str] = field(default_factory=list)


def is_external_write(method: str, path: str) -> bool:
    return method in WRITE_METHODS and not any(marker in path for marker in READ_ONLY_WRITES)


class ChaosTransport(httpx.AsyncBaseTransport):
    """The bridge's only way to the sandbox: applies the armed `StepFaults` and logs accepted writes."""

    def __init__(self, app: Any, log: list[WriteRecord], world: ChaosWorld | None = None) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.log = log
        self.world = world  # whose kills this transport obeys (the racing worker's transport has none)
        self.faults: StepFaults | None = None

    def _kill(self, reason: str) -> SimulatedKill:
        return self.world.kill(reason) if self.world is not None else SimulatedKill(reason)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.world is not None and self.world.dead:
            raise SimulatedKill(self.world.kill_reason)
        faults = self.faults
        write = is_external_write(request.method, request.url.path)
        number = 0
        if faults is not None and write:
            faults.writes += 1
            number = faults.writes
            if faults.race_at_write == number and faults.race is not None:
                faults.fired.append("race")
                race, faults.race = faults.race, None
                await race()
            if faults.kill_before_write == number:
                faults.fired.append("kill_before_write")
                raise self._kill(f"killed before write {number}: {request.method} {request.url.path}")
            if faults.timeout_before_write == number:
                faults.fired.append("timeout_before_write")
                raise httpx.ConnectTimeout("injected: the request never left", request=request)
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        if write and 200 <= response.status_code < 300:
            self.log.append(
                WriteRecord(
                    request.method, request.url.path, _json(request.content), response.status_code, _json(content)
                )
            )
        if faults is not None and write:
            if faults.kill_after_write == number:
                faults.fired.append("kill_after_write")
                raise self._kill(f"killed after write {number}: {request.method} {request.url.path}")
            if faults.timeout_after_write == number:
                faults.fired.append("timeout_after_write")
                raise httpx.ReadTimeout("injected: the answer was lost", request=request)
        if (
            faults is not None
            and faults.duplicate_list_items
            and request.method == "GET"
            and FEEDS.search(request.url.path)
        ):
            content = _duplicate_first_item(content)
        return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None


def _duplicate_first_item(content: bytes) -> bytes:
    """The first item of a JSON list answer delivered twice, as an at-least-once feed may."""
    body = _json(content)
    if isinstance(body, list) and body:
        return json.dumps([body[0], *body]).encode()
    if isinstance(body, dict):
        for key in LIST_KEYS:
            items = body.get(key)
            if isinstance(items, list) and items and isinstance(items[0], dict):
                return json.dumps({**body, key: [items[0], *items]}).encode()
    return content


@dataclass
class ChaosWorld:
    """Sandbox, clocks, traffic log and runtime of one schedule."""

    sandbox: Sandbox
    clock: VirtualClock
    workdir: Path
    config: BridgeConfig
    log: list[WriteRecord] = field(default_factory=list)
    mirakl_skew: timedelta = timedelta(0)
    commits: int = 0
    cursor_sets: int = 0
    kill_at_commit: int | None = None
    kill_at_cursor: int | None = None
    seeded_refund_ids: frozenset[str] = frozenset()
    # Set by a kill: the process is gone, so nothing after it (a `finally`, a context manager's exit) may reach
    # the state store or a platform, as nothing would after a `kill -9`. Cleared when the next run starts.
    dead: bool = False
    kill_reason: str = ""
    transport: ChaosTransport = field(init=False)
    runtime: Runtime = field(init=False)
    control: httpx.AsyncClient = field(init=False)

    @classmethod
    def create(cls, workdir: Path, config: BridgeConfig) -> ChaosWorld:
        clock = VirtualClock()
        holder: dict[str, ChaosWorld] = {}

        def mirakl_now() -> datetime:
            world = holder.get("world")
            return datetime.now(UTC) + (world.mirakl_skew if world else timedelta(0))

        sandbox = create_sandbox(
            bigcommerce=BigCommerceSandboxSettings(clock=clock.monotonic),
            # The call budgets are enforced by the bridge on the virtual clock (the day test in tests/flows proves the
            # sandbox's enforcement); the sandbox's own would count real seconds while the virtual clock runs ahead.
            mirakl=MiraklSandboxSettings(now=mirakl_now, enforce_call_budgets=False),
        )
        world = cls(sandbox=sandbox, clock=clock, workdir=workdir, config=config)
        world.seeded_refund_ids = frozenset(str(r["id"]) for r in sandbox.bigcommerce.state.store.refunds)
        holder["world"] = world
        world.transport = ChaosTransport(sandbox.app, world.log, world)
        world.runtime = world.build_runtime(world.transport)
        event.listen(world.runtime.engine, "before_cursor_execute", world._refuse_when_dead)
        world.control = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url=sandbox.base_url)
        return world

    def build_runtime(self, transport: httpx.AsyncBaseTransport) -> Runtime:
        """A runtime on this world's state store whose waits run on the virtual clock (one per worker)."""
        import connectors.state.db as db

        settings = sandbox_settings(self.sandbox.base_url, self.workdir)
        state_file = self.workdir / "state.db"
        if not state_file.exists():
            shutil.copyfile(_migrated_template(), state_file)
        with mock.patch.object(db, "SQLITE_BUSY_TIMEOUT_S", 2):
            rt = build_runtime(
                settings,
                config=self.config,
                transport=transport,
                budget_clock=lambda: datetime.fromtimestamp(self.clock.now_s, UTC),
                budget_sleep=self.clock.sleep,
                migrate=False,  # a copy of a store the migrations built once per process (below)
            )
        for client in (rt.bigcommerce, rt.mirakl, rt.erp):
            client.transport._retry_kwargs["sleep"] = self.clock.sleep
        rt.mirakl._sleep = self.clock.sleep
        limiter = rt.bigcommerce.transport.limiter
        if limiter is not None:
            limiter._sleep = self.clock.sleep
            limiter._clock = self.clock.monotonic
        event.listen(rt.sessions, "after_commit", self._after_commit)
        return rt

    def kill(self, reason: str) -> SimulatedKill:
        self.dead, self.kill_reason = True, reason
        return SimulatedKill(reason)

    def _refuse_when_dead(self, *_: Any) -> None:
        if self.dead:
            raise SimulatedKill(self.kill_reason)

    def _after_commit(self, _session: Any) -> None:
        self.commits += 1
        if self.kill_at_commit is not None and self.commits >= self.kill_at_commit:
            self.kill_at_commit = None
            raise self.kill(f"killed right after state-store commit {self.commits}")

    def on_set_cursor(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """`set_cursor` that may die just before the cursor moves (every record before it already written)."""

        def set_cursor(*args: Any, **kwargs: Any) -> Any:
            self.cursor_sets += 1
            if self.kill_at_cursor is not None and self.cursor_sets >= self.kill_at_cursor:
                self.kill_at_cursor = None
                raise self.kill(f"killed before cursor advance {self.cursor_sets}")
            return original(*args, **kwargs)

        return set_cursor

    async def aclose(self) -> None:
        await self.control.aclose()
        await self.runtime.aclose()

    # ---- the sandbox's public API, for faults and invariants -------------------------------------------------

    async def set_http_faults(self, system: str, rules: list[dict[str, Any]]) -> None:
        (await self.control.put(f"/{system}/_sandbox/faults", json={"rules": rules})).raise_for_status()

    async def clear_http_faults(self) -> None:
        for system in ("bigcommerce", "mirakl", "erp"):
            (await self.control.delete(f"/{system}/_sandbox/faults")).raise_for_status()

    async def get(self, path: str, headers: dict[str, str], **params: Any) -> Any:
        """A public read; a 429 (the bridge spent the quota window) waits the window out on the virtual clock."""
        answer = await self.control.get(path, headers=headers, params=params)
        for _ in range(3):
            if answer.status_code != 429:
                break
            self.clock.now_s += 31.0
            answer = await self.control.get(path, headers=headers, params=params)
        answer.raise_for_status()
        return answer.json() if answer.status_code != 204 else []

    async def mirakl_raw(self, path: str, **params: Any) -> httpx.Response:
        """A Mirakl read with whichever role's key the operation takes (front first, operator on a 403)."""
        answer = await self.control.get(path, headers=MIRAKL_KEY, params=params)
        if answer.status_code == 403:
            answer = await self.control.get(path, headers=MIRAKL_OPERATOR_KEY, params=params)
        answer.raise_for_status()
        return answer

    async def mirakl(self, path: str, **params: Any) -> Any:
        return (await self.mirakl_raw(path, **params)).json()

    async def mirakl_orders(self) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await self.mirakl("/mirakl/api/orders", max=100, offset=offset, start_date="2000-01-01T00:00:00Z")
            orders += page["orders"]
            offset += len(page["orders"])
            if not page["orders"] or offset >= page.get("total_count", 0):
                return orders

    async def bc(self, path: str, **params: Any) -> Any:
        return await self.get(f"/bigcommerce/stores/sandbox{path}", BC_TOKEN, **params)

    async def bc_all(self, path: str) -> list[dict[str, Any]]:
        """Every item of a v3 collection, page by page."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = await self.bc(path, limit=250, page=page)
            items += body["data"]
            if page >= body.get("meta", {}).get("pagination", {}).get("total_pages", 1):
                return items
            page += 1

    async def erp_orders(self) -> list[dict[str, Any]]:
        return list((await self.get("/erp/orders", ERP_TOKEN))["orders"])

    # ---- what users do between runs (targets chosen from the world, acts through the sandbox's endpoints) --------

    async def act(self, name: str, rng: random.Random) -> str:
        """Play user action `name`; a refusal by the platform is part of the story, not a harness error."""
        try:
            return await ACTIONS[name](self, rng)
        except httpx.HTTPStatusError as exc:
            return f"{name}: refused with {exc.response.status_code} {exc.response.text[:200]}"


_template: list[Path] = []


def _migrated_template() -> Path:
    """An empty state store at the migrations' head, built once per process: each schedule starts from a copy,
    the same schema `build_runtime` would migrate, without running every migration a thousand times."""
    if not _template:
        path = Path(tempfile.mkdtemp(prefix="chaos-template-")) / "state.db"
        engine = create_state_engine(f"sqlite:///{path}")
        upgrade(engine)
        with engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        engine.dispose()
        _template.append(path)
    return _template[0]


async def _offer_change(world: ChaosWorld, rng: random.Random, kind: str) -> str:
    """A seller changes one offer of a small fixed pool (a few per seller: fewer distinct batches to validate)."""
    offers = sorted(world.sandbox.mirakl.state.store.catalog.offers.values(), key=lambda o: o.offer_id)
    offers = [o for o in offers if o.offer_id % OFFER_POOL_STRIDE == 0]
    live = [o for o in offers if not o.deleted]
    if kind == "stockout":
        candidates = [o for o in live if o.active and o.quantity > 0]
        change: dict[str, Any] = {"quantity": 0}
    elif kind == "restock":
        candidates = [o for o in live if o.quantity == 0]
        change = {"quantity": rng.randint(1, 9), "active": True}
    elif kind == "reprice":
        candidates = live
        change = {}
    else:  # delete
        candidates = [o for o in live if o.active]
        change = {"deleted": True}
    if not candidates:
        return f"{kind}: no candidate"
    offer = rng.choice(candidates)
    if kind == "reprice":
        change = {"price": str((offer.price * rng.choice((8, 9, 11, 12)) / 10).quantize(offer.price))}
    body = {"offers": [{"offer_id": offer.offer_id, **change}]}
    (await world.control.post("/mirakl/_sandbox/offers", json=body)).raise_for_status()
    return f"offer {offer.offer_id} {kind}"


async def _bc_status(world: ChaosWorld, rng: random.Random, from_status: int, to_status: int) -> str:
    orders = sorted(world.sandbox.bigcommerce.state.store.orders.values(), key=lambda o: o.id)
    candidates = [o for o in orders if o.status_id == from_status]
    if not candidates:
        return f"no order in status {from_status}"
    order = rng.choice(candidates)
    path = f"/bigcommerce/_sandbox/orders/{order.id}/status"
    (await world.control.post(path, json={"status_id": to_status})).raise_for_status()
    return f"BigCommerce order {order.id} {from_status} -> {to_status}"


def _mirakl_in(world: ChaosWorld, state: str) -> list[Any]:
    store = world.sandbox.mirakl.state.store.orders
    return sorted(store.in_state(state), key=lambda o: o.order_id)


async def _seller_ships(world: ChaosWorld, rng: random.Random) -> str:
    candidates = _mirakl_in(world, "SHIPPING")
    if not candidates:
        return "nothing to ship"
    order = rng.choice(candidates)
    body = {"carrier_code": "UPS", "tracking_number": f"1ZCHAOS{order.seq:06d}"}
    (await world.control.post(f"/mirakl/_sandbox/orders/{order.order_id}/ship", json=body)).raise_for_status()
    return f"seller shipped {order.order_id}"


async def _seller_refunds(world: ChaosWorld, rng: random.Random) -> str:
    candidates = [o for o in _mirakl_in(world, "SHIPPED") if o.open_lines]
    if not candidates:
        return "nothing to refund"
    order = rng.choice(candidates)
    answer = await world.control.post(f"/mirakl/_sandbox/orders/{order.order_id}/refund")
    return f"seller refund on {order.order_id}: {answer.status_code}"


async def _tick(world: ChaosWorld, _rng: random.Random) -> str:
    (await world.control.post("/mirakl/_sandbox/tick")).raise_for_status()
    return "sellers decided"


async def _feed_fails(world: ChaosWorld, rng: random.Random) -> str:
    shop = rng.choice(sorted(world.sandbox.mirakl.state.store.shops))
    body = {"shop_id": shop, "status": "FAILED", "lines_read": 5}
    (await world.control.post("/mirakl/_sandbox/imports", json=body)).raise_for_status()
    return f"feed of shop {shop} failed"


def _routed_bc_orders(world: ChaosWorld) -> list[int]:
    routed = {o.commercial_id for o in world.sandbox.mirakl.state.store.orders.orders.values()}
    return sorted(int(c) for c in routed if c.isdigit())


async def _bc_refund(world: ChaosWorld, rng: random.Random) -> str:
    """Customer service refunds one unit of a marketplace line in BigCommerce (quote, then refund)."""
    candidates = _routed_bc_orders(world)
    if not candidates:
        return "no routed order to refund"
    order_id = rng.choice(candidates)
    products = await world.bc(f"/v2/orders/{order_id}/products")
    marketplace = [p for p in products if str(p.get("sku", "")).startswith("MKP")]
    if not marketplace:
        return f"order {order_id} has no marketplace line"
    answer = await _refund_product(world, order_id, rng.choice(marketplace))
    return f"BigCommerce refund on {order_id}: {answer}"


async def _refund_product(world: ChaosWorld, order_id: int, product: dict[str, Any]) -> int:
    """One unit of an order product refunded through BigCommerce's public API (quote, then refund): the status."""
    base = f"/bigcommerce/stores/sandbox/v3/orders/{order_id}/payment_actions"
    items = [{"item_type": "PRODUCT", "item_id": product["id"], "quantity": 1, "reason": "Damaged"}]
    quote = await world.control.post(f"{base}/refund_quotes", json={"items": items}, headers=BC_TOKEN)
    if quote.status_code >= 300:
        return quote.status_code
    option = quote.json()["data"]["refund_methods"][0][0]
    payment = {
        "provider_id": option["provider_id"],
        "amount": option["amount"],
        "offline": option.get("offline", False),
    }
    answer = await world.control.post(f"{base}/refunds", json={"items": items, "payments": [payment]}, headers=BC_TOKEN)
    return answer.status_code


async def _bc_ships(world: ChaosWorld, rng: random.Random) -> str:
    """The operator ships a marketplace line from BigCommerce (the bridge must send OR23/OR24 once)."""
    candidates = _routed_bc_orders(world)
    if not candidates:
        return "no routed order to ship"
    order_id = rng.choice(candidates)
    products = await world.bc(f"/v2/orders/{order_id}/products")
    marketplace = [p for p in products if str(p.get("sku", "")).startswith("MKP")]
    addresses = await world.bc(f"/v2/orders/{order_id}/shipping_addresses")
    if not marketplace or not addresses:
        return f"order {order_id}: nothing to ship"
    line = rng.choice(marketplace)
    body = {
        "order_address_id": addresses[0]["id"],
        "tracking_number": f"1ZBC{order_id}{line['id']}",
        "shipping_provider": "ups",
        "items": [{"order_product_id": line["id"], "quantity": line["quantity"]}],
    }
    answer = await world.control.post(
        f"/bigcommerce/stores/sandbox/v2/orders/{order_id}/shipments", json=body, headers=BC_TOKEN
    )
    return f"operator shipped line {line['id']} of {order_id}: {answer.status_code}"


async def _refund_both_sides(world: ChaosWorld, rng: random.Random) -> str:
    """Customer service refunds a one-unit marketplace line in BigCommerce while its seller refunds it in Mirakl.

    Two refunds of the same amount on one Mirakl line: OR28 carries no client reference, so recovering an
    interrupted OR28 must not take the seller's refund for the bridge's own.
    """
    store = world.sandbox.mirakl.state.store.orders
    lines = [
        (order, line)
        for order in sorted(store.orders.values(), key=lambda o: o.order_id)
        if order.state in ("SHIPPING", "SHIPPED") and order.commercial_id.isdigit()
        for line in order.open_lines
        if line.quantity == 1 and not line.refunds
    ]
    if not lines:
        return "no one-unit line to refund on both sides"
    order, line = rng.choice(lines)
    products = await world.bc(f"/v2/orders/{order.commercial_id}/products")
    product = next((p for p in products if p.get("sku") == line.product_sku), None)
    if product is None:
        return f"{line.order_line_id}: no BigCommerce line"
    customer = await _refund_product(world, int(order.commercial_id), product)
    body = {"order_line_id": line.order_line_id, "amount": str(line.price)}
    seller = await world.control.post(f"/mirakl/_sandbox/orders/{order.order_id}/refund", json=body)
    return f"{line.order_line_id} refunded by customer service ({customer}) and by its seller ({seller.status_code})"


ACTIONS: dict[str, Callable[[ChaosWorld, random.Random], Awaitable[str]]] = {
    "offer_stockout": lambda w, r: _offer_change(w, r, "stockout"),
    "offer_restock": lambda w, r: _offer_change(w, r, "restock"),
    "offer_reprice": lambda w, r: _offer_change(w, r, "reprice"),
    "offer_delete": lambda w, r: _offer_change(w, r, "delete"),
    "feed_fails": _feed_fails,
    "order_paid": lambda w, r: _bc_status(w, r, 7, 11),
    "order_cancelled": lambda w, r: _bc_status(w, r, 11, 5),
    "sellers_decide": _tick,
    "seller_ships": _seller_ships,
    "seller_refunds": _seller_refunds,
    "bc_refund": _bc_refund,
    "bc_ships": _bc_ships,
    "refund_both_sides": _refund_both_sides,
}
