"""The bridge's one Mirakl client: a method per Mirakl operation, returning typed models.

It holds no retry, sleep or header logic of its own: every call goes through the shared `ApiTransport`,
which paces, retries transient failures and classifies errors with `map_mirakl_error`. Bodies are read (and
their structure checked) inside each attempt, so a truncated or garbled answer is fetched again. Mirakl has no
idempotency key, so the calls that create something (OR01 orders, OR28 refunds, OR30 cancellations) are sent
`repeatable=False`: after a timeout or a 5xx they may have happened, and repeating them could duplicate an
order or a refund. Paging is delegated to `pagination`, bodies to `serialization`. The only wait decided here
is the OF53 poll interval, and it uses the same injectable sleep as the transport so tests never wait.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from connectors.http import (
    DEFAULT_RETRY_POLICY,
    ApiTransport,
    AuthError,
    ConfigurationError,
    MalformedResponseError,
    Page,
    PermanentApiError,
    QuotaLimiter,
    RecordRejectedError,
    RetryPolicy,
    TransientApiError,
    decode_json,
    parse_page,
)
from connectors.http.client import OperationGate
from connectors.http.records import list_adapter
from connectors.http.retry import Sleep
from connectors.http.transport import api_http_client
from connectors.mirakl import settings as s
from connectors.mirakl.auth import RoleAuth
from connectors.mirakl.errors import map_mirakl_error
from connectors.mirakl.models import (
    BillingCycle,
    Carrier,
    CsvExportedOffer,
    Debit,
    DebitConfirmation,
    ExportedOffer,
    ImportErrorReport,
    Invoice,
    LineCancelation,
    LineCancelationCreated,
    LineRefundConfirmation,
    MiraklRequest,
    OfferExportStatus,
    OfferImport,
    Order,
    OrderCreate,
    OrderCreated,
    PendingRefund,
    Reason,
    RefundConfirmation,
    RefundCreate,
    RefundCreated,
    ShippingRates,
    Shop,
    Tracking,
    Transaction,
)
from connectors.mirakl.pagination import iter_offset_pages, iter_seek_pages
from connectors.mirakl.roles import ROLE_HEADER, Role, role_for
from connectors.mirakl.serialization import encode_json, format_request_date

__all__ = ["MiraklClient"]

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")
Clock = Callable[[], datetime]

_JSON_HEADERS = {"Content-Type": "application/json"}


class MiraklClient:
    """Async client for the Mirakl front and operator APIs over one `httpx.AsyncClient`.

    Each request is sent with the credential of its operation's role (`connectors.mirakl.roles`).
    `transport.calls` counts calls per operation code, for artifacts and benchmarks. `gate` (the call budgets
    of `connectors.mirakl.budgets`, held in the state store) is awaited before every call.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        limiter: QuotaLimiter | None = None,
        gate: OperationGate | None = None,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        sleep: Sleep | None = None,
        rand: Callable[[], float] | None = None,
        clock: Clock | None = None,
        chunk_hosts: Iterable[str] = (),
    ) -> None:
        self._http = http
        # OF54 chunks may come from a tenant-specific host (a CDN or custom domain); our credentials go only to
        # the tenant's own host and to these.
        self._chunk_hosts = frozenset(host.lower() for host in chunk_hosts) | {http.base_url.host}
        self._sleep: Sleep = sleep or asyncio.sleep
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self.transport = ApiTransport(
            http,
            system=s.SYSTEM,
            error_mapper=map_mirakl_error,
            limiter=limiter,
            gate=gate,
            retry_policy=retry_policy,
            sleep=sleep,
            rand=rand,
        )

    @classmethod
    def create(
        cls,
        base_url: str,
        *,
        front: httpx.Auth,
        operator: httpx.Auth,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        **kw: Any,
    ) -> MiraklClient:
        """A client for `https://<tenant>.mirakl.net` (or any base URL, path prefix included).

        Args:
            front: the front role's credential (`ApiKeyAuth`, `AccessTokenAuth` or `OAuthClientCredentials`).
            operator: the operator role's credential, for the operations only the operator spec declares.

        Raises:
            ConfigurationError: no base URL.
        """
        if not base_url:
            raise ConfigurationError("Mirakl base_url is empty")
        http = api_http_client(
            base_url=base_url,
            auth=RoleAuth({Role.FRONT: front, Role.OPERATOR: operator}),
            transport=transport,
            timeout=timeout,
            headers={"Accept": "application/json"},
        )
        return cls(http, **kw)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> MiraklClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- offers ----------------------------------------------------------------------------------------------

    async def start_offer_export(
        self,
        last_request_date: datetime | None,
        *,
        items_per_chunk: int | None = None,
        models: Sequence[str] | None = None,
    ) -> str:
        """OF52: start an asynchronous JSON offer export (a delta when `last_request_date` is given).

        Args:
            last_request_date: export offers changed since then, deleted and inactive ones included; None
                exports every active offer.
            items_per_chunk: cap on offers per chunk file.
            models: only offers of seller accounts of these platform models (`MARKETPLACE`, `DROPSHIP`,
                `ONE_CREDITOR`); all of them when None.

        Returns:
            The tracking id to poll with OF53 (Mirakl returns the running one for a duplicate request).

        Raises:
            ApiError: classified by `map_mirakl_error`; MalformedResponseError without a tracking id.
        """
        body: dict[str, Any] = {"export_type": "application/json"}
        if last_request_date is not None:
            body["last_request_date"] = format_request_date(last_request_date)
        if items_per_chunk is not None:
            body["items_per_chunk"] = items_per_chunk
        if models:
            # mmp-front-openapi.yaml, OF52_Request.models: "List of platform models to filter with".
            body["models"] = list(models)
        # Repeatable: Mirakl answers a duplicate export request with the running export's tracking id.
        raw = await self._send_json("POST", s.PATH_OFFERS_EXPORT_ASYNC, "OF52", body)
        tracking_id = raw.get("tracking_id") if isinstance(raw, dict) else None
        if not tracking_id:
            raise MalformedResponseError("OF52 answer has no tracking_id", system=s.SYSTEM, operation="OF52")
        return str(tracking_id)

    async def get_offer_export_status(self, tracking_id: str) -> OfferExportStatus:
        """OF53: the state of an offer export and, once completed, its chunk URLs.

        Args:
            tracking_id: from OF52.

        Returns:
            The export status (`PENDING`, `FAILED` or `COMPLETED`).

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        path = s.PATH_OFFERS_EXPORT_STATUS.format(tracking_id=tracking_id)
        return await self._get(path, "OF53", lambda raw: self._parse_envelope(OfferExportStatus, raw, "OF53"))

    async def iter_offer_export_chunk(self, url: str) -> AsyncIterator[Page[ExportedOffer]]:
        """OF54: download one export chunk and yield its offers in pages.

        The chunk is parsed once; pages keep each downstream batch a manageable size.

        Args:
            url: a chunk URL from OF53; its host must be the tenant's or one listed in `chunk_hosts`, and it must
                not downgrade an https tenant to http, since our credentials go with it.

        Returns:
            An async iterator of pages of offers.

        Raises:
            PermanentApiError: the URL points at a host not listed, or at plain http; nothing was sent.
            UnreadableResponseError: the chunk is not a JSON array, twice running. An offer that does not fit
                the model is not raised: it is set aside in its page's `rejected` (see `connectors.http.records`).
        """
        base = self._http.base_url
        target = base.join(url)
        if target.host.lower() not in self._chunk_hosts:
            raise PermanentApiError(
                f"OF54 chunk URL is on host {target.host!r}, neither the tenant's nor a listed chunk host; "
                "refusing to send credentials (list it in the Mirakl chunk hosts setting to allow it)",
                system=s.SYSTEM,
                operation="OF54",
            )
        if target.scheme != base.scheme and target.scheme != "https":
            raise PermanentApiError(
                f"OF54 chunk URL uses {target.scheme}, not {base.scheme}; refusing to send credentials",
                system=s.SYSTEM,
                operation="OF54",
            )
        context = {"now": self._clock()}

        def read(response: httpx.Response) -> Page[ExportedOffer] | list[Any]:
            # A sound chunk is validated straight from its bytes: the thirty-odd fields of each row the bridge does
            # not read are skipped in pydantic-core instead of decoded into a dict first (on a million offers the
            # decoding was about as costly as the validation). Any fault (one bad row, a body that is not an array
            # of offers) sends the chunk down the row-by-row path, which sets each bad row aside with its reason.
            try:
                return Page(list_adapter(ExportedOffer).validate_json(response.content, context=context))
            except ValidationError:
                return _chunk_rows(decode_json(response, system=s.SYSTEM, operation="OF54"))

        chunk = await self.transport.request("GET", str(target), operation="OF54", headers=_role("OF54"), read=read)
        if isinstance(chunk, Page):
            for start in range(0, len(chunk), s.OFFER_PAGE_SIZE):
                yield Page(chunk[start : start + s.OFFER_PAGE_SIZE])
            return
        for page in self._offer_pages(chunk, "OF54", context):
            yield page

    async def export_offers(
        self,
        last_request_date: datetime | None,
        *,
        poll_interval: float = s.OFFER_EXPORT_POLL_INTERVAL_S,
        max_polls: int = s.OFFER_EXPORT_MAX_POLLS,
        items_per_chunk: int | None = None,
        models: Sequence[str] | None = None,
    ) -> AsyncIterator[Page[ExportedOffer]]:
        """OF52 → OF53 (polled with a doubling delay) → OF54 for every chunk, as pages of offers.

        Args:
            last_request_date: see `start_offer_export`.
            poll_interval: first wait between OF53 polls; doubles after each pending answer, capped.
            max_polls: OF53 calls before giving up until the next run.
            items_per_chunk: see `start_offer_export`.
            models: see `start_offer_export`.

        Returns:
            An async iterator of pages of offers across all chunks.

        Raises:
            TransientApiError: the export FAILED or is still pending after `max_polls` polls.
        """
        tracking_id = await self.start_offer_export(last_request_date, items_per_chunk=items_per_chunk, models=models)
        delay = poll_interval
        for poll in range(1, max_polls + 1):
            status = await self.get_offer_export_status(tracking_id)
            if status.status == "COMPLETED":
                for url in status.urls:
                    async for page in self.iter_offer_export_chunk(url):
                        yield page
                return
            if status.status == "FAILED":
                detail = (status.error.detail or status.error.code) if status.error else None
                raise TransientApiError(
                    f"offer export {tracking_id} failed: {detail or 'no detail'}", system=s.SYSTEM, operation="OF53"
                )
            if poll < max_polls:
                await self._sleep(delay)
                delay = min(delay * 2, s.OFFER_EXPORT_MAX_POLL_INTERVAL_S)
        raise TransientApiError(
            f"offer export {tracking_id} still pending after {max_polls} polls", system=s.SYSTEM, operation="OF53"
        )

    async def iter_offers_delta_csv(
        self, last_request_date: datetime | None, *, models: Sequence[str] | None = None
    ) -> AsyncIterator[Page[ExportedOffer]]:
        """OF51 (deprecated, kept as fallback): the semicolon CSV of offers changed since a date.

        Args:
            last_request_date: changes since then, deleted and inactive offers included (deleted rows carry
                only ids and flags); None gives every active offer.
            models: only offers of seller accounts of these platform models (OF51 `models`: "A comma separated
                list of platform models to filter with"); all of them when None.

        Returns:
            An async iterator of pages of offers.

        Raises:
            ApiError: classified by `map_mirakl_error`. A row that does not fit the model is set aside in its
                page's `rejected`, never raised.
        """
        params = {"last_request_date": _date_param(last_request_date), "models": _join(models)}
        rows = await self.transport.request(
            "GET", s.PATH_OFFERS_EXPORT_CSV, operation="OF51", params=params, headers=_role("OF51"), read=_csv_rows
        )
        for page in self._offer_pages(rows, "OF51", {"now": self._clock()}, CsvExportedOffer):
            yield page

    async def get_offer_import(self, import_id: int) -> OfferImport:
        """OF02: one seller offer import with its line counts.

        Args:
            import_id: the import's id.

        Returns:
            The import's status and statistics.

        Raises:
            NotFoundError: no such import; other ApiError as classified.
        """
        path = s.PATH_OFFER_IMPORT.format(import_id=import_id)
        return await self._get(path, "OF02", lambda raw: self._parse_envelope(OfferImport, raw, "OF02"))

    async def get_offer_import_error_report(self, import_id: int) -> ImportErrorReport:
        """OF03: the error report of an import (its lines in error, each with `error-line` and `error-message`).

        Args:
            import_id: an import whose OF02/OF04 `has_error_report` is true.

        Returns:
            The report, its lines read when the seller's file was CSV (semicolon-separated, as OF01 takes it).

        Raises:
            NotFoundError: no such import or report; other ApiError as classified.
        """
        path = s.PATH_OFFER_IMPORT_ERROR_REPORT.format(import_id=import_id)

        def read(response: httpx.Response) -> ImportErrorReport:
            media_type = response.headers.get("content-type", "").split(";")[0].strip() or None
            lines = _csv_report_lines(response.content)
            return ImportErrorReport(import_id=import_id, path=path, media_type=media_type, lines=lines)

        return await self.transport.request("GET", path, operation="OF03", headers=_role("OF03"), read=read)

    async def iter_offer_imports(
        self, *, shop_id: int | None = None, start_date: datetime | None = None, status: str | None = None
    ) -> AsyncIterator[list[OfferImport]]:
        """OF04: offer imports of every shop (or one), newest first, by seek paging.

        Args:
            shop_id: only this shop's imports.
            start_date: only imports created since then.
            status: e.g. `FAILED`.

        Returns:
            An async iterator of pages of imports.

        Raises:
            ApiError: classified by `map_mirakl_error`; PaginationLoopError on a repeated token.
        """
        params = {"shop_id": shop_id, "start_date": _date_param(start_date), "status": status}
        async for page in self._seek(s.PATH_OFFER_IMPORTS, "OF04", OfferImport, s.OF04_PAGE_SIZE, params, "import_id"):
            yield page

    # --- shops -----------------------------------------------------------------------------------------------

    async def iter_shops(
        self, *, shop_ids: Sequence[int] | None = None, state: str | None = None
    ) -> AsyncIterator[list[Shop]]:
        """S20: the marketplace's shops, by offset paging.

        Args:
            shop_ids: only these shops.
            state: e.g. `OPEN`, `SUSPENDED`.

        Returns:
            An async iterator of pages of shops.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        params = {"shop_ids": _join(shop_ids), "state": state}
        async for page in self._offset(s.PATH_SHOPS, "S20", "shops", Shop, params, "shop_id"):
            yield page

    # --- orders ----------------------------------------------------------------------------------------------

    async def create_order(self, order: OrderCreate) -> OrderCreated:
        """OR01: create one commercial order; Mirakl splits it into one logistic order per shop.

        There is no idempotency key, so this call is not repeated after a timeout, a reset, a 5xx or an unreadable
        answer (the order may exist): look the commercial id up with OR11 before sending it again. A 429 is
        still waited out and repeated, since Mirakl refused before creating anything.

        Args:
            order: the commercial order.

        Returns:
            The logistic orders created and the offers that were not shippable.

        Raises:
            TransientApiError: the one attempt failed and the order may exist; reconcile with OR11.
            ApiError: otherwise classified by `map_mirakl_error`.
        """
        # Not repeatable: a second POST after a lost answer would create a second commercial order.
        raw = await self._send_json("POST", s.PATH_ORDERS, "OR01", order, repeatable=False)
        return self._parse_envelope(OrderCreated, raw, "OR01")

    async def shipping_rates(self, shipping_zone_code: str, offers: Sequence[tuple[int, int]]) -> ShippingRates:
        """SH02: the shipping types each offer allows in a zone, grouped in the logistic orders Mirakl would make.

        The front spec keeps only the answer's schema (`SH02_Response_200`); the path and the query come from
        Mirakl's SDK (`GetShippingRatesRequest`): `shipping_zone_code`, and `offers` as
        `offerId|quantity[|shipping_type_code]` items separated by commas. No type is asked for, so each offer
        lists every type it allows (`allowed_shipping_types`).

        Args:
            shipping_zone_code: the Mirakl zone the order ships to.
            offers: (offer id, quantity) pairs.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        params = {"shipping_zone_code": shipping_zone_code, "offers": ",".join(f"{o}|{q}" for o, q in offers)}
        return await self._get(
            s.PATH_SHIPPING_RATES, "SH02", lambda raw: self._parse_envelope(ShippingRates, raw, "SH02"), params
        )

    async def probe_order_creation(self) -> None:
        """OR01 with an empty order, to learn whether the credential may create orders without creating one.

        Mirakl refuses an order without `commercial_id`, `customer` and `offers` (`OR01_Request` requires them)
        as invalid input, a 400, once the credential may call OR01; a credential of the wrong role is refused
        before the body is read (401/403). Used by `bcmirakl doctor`, since OR01 has no read to probe.

        Raises:
            AuthError: the credential may not call OR01.
            ApiError: any other answer than the 400, classified.
        """
        try:
            await self._send_json("POST", s.PATH_ORDERS, "OR01", {}, repeatable=False)
        except PermanentApiError as exc:
            if exc.status == 400 and not isinstance(exc, AuthError):
                return
            raise
        raise MalformedResponseError("OR01 accepted an empty order", system=s.SYSTEM, operation="OR01")

    async def iter_orders(
        self,
        *,
        order_ids: Sequence[str] | None = None,
        commercial_ids: Sequence[str] | None = None,
        order_state_codes: Sequence[str] | None = None,
        shop_ids: Sequence[int] | None = None,
        start_update_date: datetime | None = None,
        end_update_date: datetime | None = None,
    ) -> AsyncIterator[list[Order]]:
        """OR11: logistic orders matching the filters, by offset paging.

        Mirakl refuses more than 100 values per list filter, so longer id lists are split into several calls.

        Args:
            order_ids: logistic order ids (`<commercial_id>-A`, ...).
            commercial_ids: commercial order ids; each returns all its logistic orders.
            order_state_codes: e.g. `WAITING_ACCEPTANCE`.
            shop_ids: only these shops' orders.
            start_update_date: orders updated since then (the incremental cursor).
            end_update_date: orders updated before then.

        Returns:
            An async iterator of pages of orders.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        base = {
            "order_state_codes": _join(order_state_codes),
            "start_update_date": _date_param(start_update_date),
            "end_update_date": _date_param(end_update_date),
        }
        id_filters = {"order_ids": order_ids, "commercial_ids": commercial_ids, "shop_ids": shop_ids}
        for chunk in _chunked_filters(id_filters, s.OR11_MAX_IDS_PER_CALL):
            async for page in self._offset(s.PATH_ORDERS, "OR11", "orders", Order, {**base, **chunk}, "order_id"):
                yield page

    async def validate_order(self, commercial_id: str) -> None:
        """OR02: release a STAGING commercial order to its sellers (scoring passed).

        Args:
            commercial_id: the commercial order.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        # Repeatable: a state change; a repeat that arrives after it took effect is refused, never doubled.
        await self._put_empty(s.PATH_ORDER_VALID.format(commercial_id=commercial_id), "OR02")

    async def invalidate_order(self, commercial_id: str) -> None:
        """OR03: refuse a STAGING commercial order (scoring failed).

        Args:
            commercial_id: the commercial order.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        # Repeatable: a state change, like OR02.
        await self._put_empty(s.PATH_ORDER_INVALID.format(commercial_id=commercial_id), "OR03")

    async def accept_order(self, order_id: str, lines: dict[str, bool]) -> None:
        """OR21: accept or refuse every line of a logistic order (all lines must be decided).

        Args:
            order_id: the logistic order.
            lines: order line id → accepted.

        Raises:
            ConflictError: the order is no longer waiting for acceptance; other ApiError as classified.
        """
        body = {"order_lines": [{"id": line_id, "accepted": accepted} for line_id, accepted in lines.items()]}
        # Repeatable: the decision is absolute; a late repeat meets an order no longer waiting (ConflictError).
        await self._send_json("PUT", s.PATH_ORDER_ACCEPT.format(order_id=order_id), "OR21", body)

    async def set_tracking(self, order_id: str, tracking: Tracking) -> None:
        """OR23: set the carrier and tracking number of a logistic order.

        Args:
            order_id: the logistic order.
            tracking: a registered carrier code, or an unregistered carrier's name and URL.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        # Repeatable: it overwrites the tracking with the same values.
        await self._send_json("PUT", s.PATH_ORDER_TRACKING.format(order_id=order_id), "OR23", tracking)

    async def ship_order(self, order_id: str) -> None:
        """OR24: mark a logistic order shipped (bodyless PUT, `Content-Length: 0`).

        Args:
            order_id: the logistic order, in state SHIPPING.

        Raises:
            ConflictError: already shipped ("Current status is ..."); the caller may treat it as done.
        """
        # Repeatable: a state change; a late repeat is the "already shipped" ConflictError.
        await self._put_empty(s.PATH_ORDER_SHIP.format(order_id=order_id), "OR24")

    async def create_refunds(
        self, refunds: Sequence[RefundCreate], order_tax_mode: str | None = None
    ) -> list[RefundCreated]:
        """OR28 (operator role): create refunds on order lines, partial amounts included.

        Args:
            refunds: one entry per order line refund.
            order_tax_mode: `TAX_INCLUDED` or `TAX_EXCLUDED`, how the amounts are expressed.

        Returns:
            The refunds created, with Mirakl's `refund_id` for each.

        Raises:
            TransientApiError: the one attempt failed and the refunds may exist; check the order's lines (OR11)
                before sending them again.
            ApiError: otherwise classified by `map_mirakl_error`.
        """
        body: dict[str, Any] = {"refunds": [refund.to_payload() for refund in refunds]}
        if order_tax_mode is not None:
            body["order_tax_mode"] = order_tax_mode
        # Not repeatable: each accepted entry creates a refund, so a repeat after a lost answer refunds twice.
        raw = await self._send_json("PUT", s.PATH_ORDER_REFUND, "OR28", body, repeatable=False)
        return self._parse_items(RefundCreated, _list_at(raw, "refunds", "OR28"), "OR28", "order_line_id")

    async def cancel_order(self, order_id: str) -> None:
        """OR29: cancel a whole logistic order (bodyless PUT).

        Args:
            order_id: the logistic order.

        Raises:
            ConflictError / PermanentApiError: the order can no longer be cancelled.
        """
        # Repeatable: cancelling the whole order is absolute, unlike OR30's relative quantities.
        await self._put_empty(s.PATH_ORDER_CANCEL.format(order_id=order_id), "OR29")

    async def cancel_lines(
        self, cancelations: Sequence[LineCancelation], order_tax_mode: str | None = None
    ) -> list[LineCancelationCreated]:
        """OR30: cancel quantities on order lines.

        Args:
            cancelations: one entry per order line.
            order_tax_mode: `TAX_INCLUDED` or `TAX_EXCLUDED`.

        Returns:
            The cancellations created.

        Raises:
            TransientApiError: the one attempt failed and the quantities may be cancelled; check the order's
                lines (OR11) before sending them again.
            ApiError: otherwise classified by `map_mirakl_error`.
        """
        body: dict[str, Any] = {"cancelations": [item.to_payload() for item in cancelations]}
        if order_tax_mode is not None:
            body["order_tax_mode"] = order_tax_mode
        # Not repeatable: quantities are relative, so a repeat after a lost answer cancels (and refunds) twice.
        raw = await self._send_json("PUT", s.PATH_ORDER_LINES_CANCEL, "OR30", body, repeatable=False)
        if raw is None:
            return []
        return self._parse_items(LineCancelationCreated, _list_at(raw, "cancelations", "OR30"), "OR30", "order_line_id")

    # --- payments --------------------------------------------------------------------------------------------

    async def iter_pending_debits(self) -> AsyncIterator[list[Debit]]:
        """PA11: logistic orders waiting for the customer debit, by offset paging.

        Confirming debits shrinks this list, which shifts offsets: read every page before calling PA01.

        Returns:
            An async iterator of pages of debits.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        async for page in self._offset_xml(s.PATH_PAYMENT_DEBIT, "PA11", Debit):
            yield page

    async def confirm_debits(self, confirmations: Sequence[DebitConfirmation]) -> None:
        """PA01: report each debit as `OK` (order moves to SHIPPING) or `REFUSED` (order is cancelled).

        Args:
            confirmations: one entry per logistic order.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        body = {"orders": [item.to_payload() for item in confirmations]}
        # Repeatable: it states each order's debit outcome by order id and creates nothing; a repeat restates it.
        await self._send_json("PUT", s.PATH_PAYMENT_DEBIT, "PA01", body)

    async def iter_pending_refunds(self) -> AsyncIterator[list[PendingRefund]]:
        """PA12: orders with refunds waiting for payment, each line listing its refunds.

        Confirming refunds shrinks this list, which shifts offsets: read every page before calling PA02.

        Returns:
            An async iterator of pages of pending refunds.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        async for page in self._offset_xml(s.PATH_PAYMENT_REFUND, "PA12", PendingRefund):
            yield page

    async def confirm_refunds(self, confirmations: Sequence[RefundConfirmation]) -> None:
        """PA02: report each refund as paid (`OK`) or `REFUSED`.

        Args:
            confirmations: one entry per refund id.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        body = {"refunds": [item.to_payload() for item in confirmations]}
        # Repeatable: it reports a refund's outcome by refund id, like PA01.
        await self._send_json("PUT", s.PATH_PAYMENT_REFUND, "PA02", body)

    async def confirm_line_refunds(self, confirmations: Sequence[LineRefundConfirmation]) -> None:
        """PA02 in the per-order-line form, mandatory where partial refunds are deactivated on the platform.

        Args:
            confirmations: one entry per order line, covering every refund waiting on it.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        # PA02_Request lists both arrays as required: the per-refund one is sent empty.
        body = {"order_lines": [item.to_payload() for item in confirmations], "refunds": []}
        # Repeatable: it reports the line's refunds' outcome, like the per-refund form.
        await self._send_json("PUT", s.PATH_PAYMENT_REFUND, "PA02", body)

    # --- reference data --------------------------------------------------------------------------------------

    async def list_carriers(self) -> list[Carrier]:
        """SH21: the carriers registered on the platform (codes OR23 accepts).

        Returns:
            Every carrier.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        items = await self._get(s.PATH_CARRIERS, "SH21", lambda raw: _list_at(raw, "carriers", "SH21"))
        return self._parse_items(Carrier, items, "SH21", "code")

    async def list_reasons(self, reason_type: str | None = None) -> list[Reason]:
        """RE01: refund, cancellation and incident reasons (not paginated).

        Args:
            reason_type: keep only this `type`, e.g. `REFUND`; filtered here since RE01 has no such filter.

        Returns:
            The reasons.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        items = await self._get(s.PATH_REASONS, "RE01", lambda raw: _list_at(raw, "reasons", "RE01"))
        reasons = self._parse_items(Reason, items, "RE01", "code")
        return [reason for reason in reasons if reason_type is None or reason.type == reason_type]

    # --- finance ---------------------------------------------------------------------------------------------

    async def iter_transactions(
        self, *, date_created_from: datetime, date_created_to: datetime, shop_id: int | None = None
    ) -> AsyncIterator[list[Transaction]]:
        """TL02: transaction lines created in a window, by seek paging (2000 per page).

        Args:
            date_created_from: window start.
            date_created_to: window end.
            shop_id: only this shop's lines.

        Returns:
            An async iterator of pages of transaction lines.

        Raises:
            ApiError: classified by `map_mirakl_error`; PaginationLoopError on a repeated token.
        """
        params = {
            "date_created_from": _date_param(date_created_from),
            "date_created_to": _date_param(date_created_to),
            "shop_id": shop_id,
        }
        async for page in self._seek(s.PATH_TRANSACTIONS, "TL02", Transaction, s.TL02_PAGE_SIZE, params, "id"):
            yield page

    async def iter_invoices(
        self, *, start_date: datetime, end_date: datetime, shop: int | None = None
    ) -> AsyncIterator[list[Invoice]]:
        """IV01: accounting documents issued in a window, by offset paging.

        Args:
            start_date: window start.
            end_date: window end.
            shop: only this shop's documents.

        Returns:
            An async iterator of pages of accounting documents.

        Raises:
            ApiError: classified by `map_mirakl_error`.
        """
        params = {"start_date": _date_param(start_date), "end_date": _date_param(end_date), "shop": shop}
        async for page in self._offset(s.PATH_INVOICES, "IV01", "invoices", Invoice, params, "invoice_id"):
            yield page

    async def iter_billing_cycles(
        self, *, start_date: datetime, end_date: datetime, shop_ids: Sequence[int] | None = None
    ) -> AsyncIterator[list[BillingCycle]]:
        """SBC11: seller billing cycles (payouts) in a window, by seek paging (1000 per page).

        Args:
            start_date: window start.
            end_date: window end.
            shop_ids: only these shops (sent as a repeated `shop_id`).

        Returns:
            An async iterator of pages of billing cycles.

        Raises:
            ApiError: classified by `map_mirakl_error`; PaginationLoopError on a repeated token.
        """
        params = {
            "start_date": _date_param(start_date),
            "end_date": _date_param(end_date),
            "shop_id": list(shop_ids) if shop_ids else None,
        }
        async for page in self._seek(s.PATH_BILLING_CYCLES, "SBC11", BillingCycle, s.SBC11_PAGE_SIZE, params, "id"):
            yield page

    # --- private helpers -------------------------------------------------------------------------------------

    async def _get(
        self, path: str, operation: str, shape: Callable[[Any], R], params: dict[str, Any] | None = None
    ) -> R:
        """GET a JSON answer; `shape` checks its structure inside the attempt, so a body that is not what Mirakl
        documents is fetched again like any transient failure."""

        def read(response: httpx.Response) -> R:
            return shape(decode_json(response, system=s.SYSTEM, operation=operation))

        return await self.transport.request(
            "GET", path, operation=operation, params=params, headers=_role(operation), read=read
        )

    async def _send_json(
        self,
        method: str,
        path: str,
        operation: str,
        body: MiraklRequest | dict[str, Any],
        *,
        repeatable: bool = True,
    ) -> Any:
        """Send a JSON body; the answer is read inside the attempt and is None when Mirakl sends none."""
        payload = body.to_payload() if isinstance(body, MiraklRequest) else body

        def read(response: httpx.Response) -> Any:
            if response.status_code == 204 or not response.content:
                return None
            return decode_json(response, system=s.SYSTEM, operation=operation)

        return await self.transport.request(
            method,
            path,
            operation=operation,
            content=encode_json(payload),
            headers={**_JSON_HEADERS, **_role(operation)},
            read=read,
            repeatable=repeatable,
        )

    async def _put_empty(self, path: str, operation: str) -> None:
        # An empty `content` makes httpx send `Content-Length: 0`, which Mirakl requires on bodyless PUTs.
        await self.transport.request("PUT", path, operation=operation, content=b"", headers=_role(operation))

    async def _offset(
        self, path: str, operation: str, key: str, model: type[M], params: dict[str, Any], id_field: str
    ) -> AsyncIterator[list[M]]:
        def shape(raw: Any) -> tuple[list[Any], int]:
            return _list_at(raw, key, operation), _total_count(raw, operation)

        async def fetch(page_params: dict[str, Any]) -> tuple[list[Any], int]:
            return await self._get(path, operation, shape, page_params)

        async for items in iter_offset_pages(fetch, page_size=s.OFFSET_PAGE_SIZE, operation=operation, params=params):
            yield self._page(model, items, operation, id_field)

    async def _offset_xml(self, path: str, operation: str, model: type[M]) -> AsyncIterator[list[M]]:
        def shape(raw: Any) -> tuple[list[Any], int]:
            orders = raw.get("orders") if isinstance(raw, dict) else None
            items = orders.get("order", []) if isinstance(orders, dict) else []
            return ([items] if isinstance(items, dict) else list(items)), _total_count(raw, operation)

        async def fetch(page_params: dict[str, Any]) -> tuple[list[Any], int]:
            return await self._get(path, operation, shape, page_params)

        async for items in iter_offset_pages(fetch, page_size=s.OFFSET_PAGE_SIZE, operation=operation):
            yield self._page(model, items, operation, "order_id")

    async def _seek(
        self, path: str, operation: str, model: type[M], limit: int, params: dict[str, Any], id_field: str
    ) -> AsyncIterator[list[M]]:
        def shape(raw: Any) -> tuple[list[Any], str | None]:
            if not isinstance(raw, dict):
                raise MalformedResponseError("answer is not a JSON object", system=s.SYSTEM, operation=operation)
            return _list_at(raw, "data", operation), raw.get("next_page_token")

        async def fetch(page_params: dict[str, Any]) -> tuple[list[Any], str | None]:
            return await self._get(path, operation, shape, page_params)

        async for items in iter_seek_pages(fetch, limit=limit, operation=operation, params=params):
            yield self._page(model, items, operation, id_field)

    def _offer_pages(
        self, rows: list[Any], operation: str, context: dict[str, Any], model: type[ExportedOffer] = ExportedOffer
    ) -> Iterable[Page[ExportedOffer]]:
        # Offers carry no customer data, so a rejected row keeps a bounded raw copy for the operator.
        for start in range(0, len(rows), s.OFFER_PAGE_SIZE):
            chunk = rows[start : start + s.OFFER_PAGE_SIZE]
            yield self._page(model, chunk, operation, "offer_id", keep_raw=True, context=context)

    def _page(
        self,
        model: type[M],
        items: list[Any],
        operation: str,
        id_field: str,
        *,
        keep_raw: bool = False,
        context: dict[str, Any] | None = None,
    ) -> Page[M]:
        """One page's valid records; the rejected ones ride on the page and in the transport's rejection log."""
        page = parse_page(
            model,
            items,
            operation=operation,
            key_of=lambda item: item.get(id_field),
            keep_raw=keep_raw,
            context=context,
        )
        self.transport.rejections.add(page.rejected)
        return page

    @staticmethod
    def _parse_envelope(model: type[M], raw: Any, operation: str) -> M:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise MalformedResponseError(
                f"answer does not match {model.__name__}: {_first_error(exc)}", system=s.SYSTEM, operation=operation
            ) from exc

    @staticmethod
    def _parse_items(model: type[M], items: list[Any], operation: str, id_field: str) -> list[M]:
        """Every item of a write's answer or a reference list, or `RecordRejectedError`: these are not pages,
        and a created refund or cancellation the bridge cannot read must stop the caller, not vanish."""
        parsed: list[M] = []
        for item in items:
            try:
                parsed.append(model.model_validate(item))
            except ValidationError as exc:
                key = item.get(id_field) if isinstance(item, dict) else None
                raise RecordRejectedError(f"{operation}:{key}", _first_error(exc)) from exc
        return parsed


def _role(operation: str) -> dict[str, str]:
    """The marker `RoleAuth` turns into the credential of the operation's role (and removes before sending)."""
    return {ROLE_HEADER: role_for(operation).value}


def _date_param(value: datetime | None) -> str | None:
    return format_request_date(value) if value is not None else None


def _join(values: Iterable[object] | None) -> str | None:
    return ",".join(str(value) for value in values) if values else None


def _chunked_filters(filters: dict[str, Sequence[Any] | None], size: int) -> Iterable[dict[str, str | None]]:
    """Every combination of ≤ `size`-value chunks of the list filters (filters combine with AND)."""
    names = list(filters)
    chunk_lists = [_chunks(filters[name], size) for name in names]
    for combination in itertools.product(*chunk_lists):
        yield dict(zip(names, combination, strict=True))


def _chunks(values: Sequence[Any] | None, size: int) -> list[str | None]:
    if not values:
        return [None]
    return [_join(values[start : start + size]) for start in range(0, len(values), size)]


def _list_at(raw: Any, key: str, operation: str) -> list[Any]:
    items = raw.get(key) if isinstance(raw, dict) else None
    if items is None:
        return []
    if not isinstance(items, list):
        raise MalformedResponseError(f"'{key}' is not a list", system=s.SYSTEM, operation=operation)
    return items


def _total_count(raw: Any, operation: str) -> int:
    total = raw.get("total_count") if isinstance(raw, dict) else None
    if not isinstance(total, int):
        raise MalformedResponseError("answer has no integer total_count", system=s.SYSTEM, operation=operation)
    return total


def _chunk_rows(raw: Any) -> list[Any]:
    if not isinstance(raw, list):
        raise MalformedResponseError("OF54 chunk is not a JSON array", system=s.SYSTEM, operation="OF54")
    return raw


def _csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    """The rows of an OF51 CSV; a body whose header is not an offer header is unreadable, not an empty export.

    mmp-front-openapi.yaml, OF51 `GET /api/offers/export`, text/csv example: the header starts
    `offer-id;product-sku;...`. A truncated or proxied body would otherwise read as "no offer changed", and a
    stock-out behind it would never reach the storefront. An empty body is taken as no rows (the spec is silent).
    """
    text = response.text
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    if text.strip() and "offer-id" not in (reader.fieldnames or []):
        raise MalformedResponseError("CSV header has no offer-id column", system=s.SYSTEM, operation="OF51")
    return [_csv_row(row) for row in reader]


def _csv_report_lines(content: bytes) -> list[dict[str, str]] | None:
    """The lines of an OF03 report when it is a semicolon CSV with an `error-message` column, else None."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None  # XLSX (a zip) or another encoding: left to the back-office
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    if not reader.fieldnames or "error-message" not in reader.fieldnames:
        return None  # XML, or not a report we can read
    return [{key: value or "" for key, value in row.items() if key} for row in reader]


def _csv_row(row: dict[str | None, str | None]) -> dict[str, str]:
    """A CSV row with kebab-case columns turned into the JSON names; blank cells are absent, not empty."""
    return {key.replace("-", "_"): value for key, value in row.items() if key and value not in (None, "")}


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{location}: {first['msg']}"
