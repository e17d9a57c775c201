"""WooCommerce's side of the after-sale (issue 15): the invoice a PDF-invoice plugin made for the order, and
the refunds the seller recorded, read from the order WooCommerce sends (`order.updated`) and its REST API.

Invoices. WooCommerce core has no invoices; sellers use a plugin. Two sources, first found wins:
- `_allegro_invoice_url` (+ optional `_allegro_invoice_number`) order meta: any plugin or snippet that knows
  where its PDF is can write them (wc/v3 `PUT /orders/<id>` `meta_data`);
- PDF Invoices & Packing Slips for WooCommerce (WP Overnight): an invoice exists once the order carries its
  `_wcpdf_invoice_number` meta (the plugin's own key: its `remove_order_personal_data_meta` lists
  `_wcpdf_invoice_number`, `_wcpdf_invoice_date`; the Pro REST API adds `documents.invoice.number`). Its PDF
  is `<site>/wp-admin/admin-ajax.php?action=generate_wpo_wcpdf&document_type=invoice&order_ids=<id>&
  access_key=<order_key>`, which the plugin serves without a login only when the seller sets
  "Document link access type" to Full (docs.wpovernight.com, "PDF documents view permissions").

Refunds. A WooCommerce refund is an object of its own: the order's REST body lists them as `refunds`
(`id`, `reason`, `total` as a negative string) and `GET /orders/<id>/refunds` gives each one's `line_items`
with the refunded `quantity` and `total` as negative numbers and the line's `sku` (developer.woocommerce.com,
REST API v3, "Order refunds"). There is no refund webhook topic: a refund saves the order, so it arrives
with the next `order.updated`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from allegro_sync.contracts.messages import ShopRefund, ShopRefundLine

INVOICE_URL_META = "_allegro_invoice_url"
INVOICE_NUMBER_META = "_allegro_invoice_number"
WCPDF_NUMBER_META = "_wcpdf_invoice_number"
REFUND_ID_PREFIX = "woocommerce-"


def _meta(order: Mapping[str, Any], key: str) -> str | None:
    for entry in order.get("meta_data") or []:
        if isinstance(entry, dict) and entry.get("key") == key and entry.get("value") not in (None, ""):
            return str(entry["value"]).strip()
    return None


def _site(order: Mapping[str, Any]) -> str | None:
    """The shop's address from the signed body itself (`_links.self[0].href`, `<site>/wp-json/wc/v3/...`):
    a header could be changed on a replayed delivery, the body cannot."""
    links = order.get("_links") if isinstance(order.get("_links"), dict) else {}
    own = (links or {}).get("self")
    href = own[0].get("href") if isinstance(own, list) and own and isinstance(own[0], dict) else None
    if not isinstance(href, str) or "/wp-json/" not in href or not href.startswith(("https://", "http://")):
        return None
    return href.split("/wp-json/", 1)[0]


def invoice_of(order: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(PDF URL, invoice number) of the order's invoice, or (None, None) when no plugin made one yet."""
    site = _site(order)
    own = _meta(order, INVOICE_URL_META)
    documents = order.get("documents") if isinstance(order.get("documents"), dict) else {}
    wcpdf = (documents or {}).get("invoice")
    number = _meta(order, INVOICE_NUMBER_META) or _meta(order, WCPDF_NUMBER_META)
    if number is None and isinstance(wcpdf, dict) and wcpdf.get("number") not in (None, ""):
        number = str(wcpdf["number"])
    if own is not None and own.startswith(("https://", "http://")):
        return own[:2000], (number or None) and number[:60]
    key, order_id = order.get("order_key"), order.get("id")
    if number is None or not site or not key or not isinstance(order_id, int):
        return None, None
    query = urlencode(
        {
            "action": "generate_wpo_wcpdf",
            "document_type": "invoice",
            "order_ids": order_id,
            "access_key": key,
        }
    )
    return f"{site.rstrip('/')}/wp-admin/admin-ajax.php?{query}"[:2000], number[:60]


def refund_ids(order: Mapping[str, Any]) -> tuple[int, ...]:
    """The ids of the refunds the order lists (`refunds[].id`), oldest first."""
    found = [r.get("id") for r in order.get("refunds") or [] if isinstance(r, dict)]
    return tuple(sorted(i for i in found if isinstance(i, int) and i > 0))[:100]


def _amount(line: Mapping[str, Any]) -> Decimal:
    try:
        return abs(Decimal(str(line.get("total") or "0"))) + abs(Decimal(str(line.get("total_tax") or "0")))
    except InvalidOperation:
        return Decimal(0)


def shop_refund(refund: Mapping[str, Any], lines_by_sku: Mapping[str, str]) -> tuple[ShopRefund | None, str]:
    """One WooCommerce refund as the shop's per-line refund: each refunded line's money (total + tax, the
    price Allegro's buyer paid) on the Allegro line of the same SKU. None, with why, when nothing maps."""
    lines: list[ShopRefundLine] = []
    for item in refund.get("line_items") or []:
        if not isinstance(item, dict):
            continue
        line_id = lines_by_sku.get(str(item.get("sku") or ""))
        if line_id is None:
            return None, f"refund {refund.get('id')}: SKU {item.get('sku')!r} is on no Allegro line"
        amount = _amount(item)
        quantity = abs(int(item.get("quantity") or 0))
        if amount > 0:
            lines.append(ShopRefundLine(line_item_id=line_id, amount=f"{amount:.2f}"))
        elif quantity > 0:
            lines.append(ShopRefundLine(line_item_id=line_id, quantity=quantity))
    if not lines:  # an amount alone: only a full refund (status `refunded`) is passed on, as the rest
        return None, f"refund {refund.get('id')}: no refunded lines"
    return ShopRefund(refund_id=f"{REFUND_ID_PREFIX}{refund.get('id')}", lines=tuple(lines)), ""
