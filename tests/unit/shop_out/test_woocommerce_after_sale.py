"""Issue 15: reading WooCommerce's order for the invoice a PDF-invoice plugin made and for its refunds."""

from __future__ import annotations

from typing import Any

from allegro_sync.adapters.shop.woocommerce_after_sale import invoice_of, refund_ids, shop_refund

SITE = "https://sklep.example"


def order(*meta: tuple[str, str], **fields: Any) -> dict[str, Any]:
    return {
        "id": 727,
        "order_key": "wc_order_AOwpcAp9erC48",
        "meta_data": [{"id": n, "key": k, "value": v} for n, (k, v) in enumerate(meta)],
        "_links": {"self": [{"href": f"{SITE}/wp-json/wc/v3/orders/727"}]},
        **fields,
    }


def test_the_pdf_invoices_plugins_number_makes_its_documented_link() -> None:
    url, number = invoice_of(order(("_wcpdf_invoice_number", "17")))

    assert number == "17"
    assert url == (
        f"{SITE}/wp-admin/admin-ajax.php?action=generate_wpo_wcpdf&document_type=invoice"
        "&order_ids=727&access_key=wc_order_AOwpcAp9erC48"
    )


def test_an_own_invoice_url_meta_wins_and_no_invoice_means_none() -> None:
    own = order(("_allegro_invoice_url", "https://erp.example/fv/9.pdf"), ("_allegro_invoice_number", "FV 9"))

    assert invoice_of(own) == ("https://erp.example/fv/9.pdf", "FV 9")
    assert invoice_of(order()) == (None, None)  # no plugin made one yet
    assert invoice_of(order(("_wcpdf_invoice_number", "17"), _links={})) == (None, None)  # no site known


def test_refunds_map_by_sku_to_allegro_lines_as_amounts_with_tax() -> None:
    refund = {
        "id": 731,
        "line_items": [{"sku": "SKU-1", "quantity": -1, "total": "-81.30", "total_tax": "-18.70"}],
    }

    mapped, _ = shop_refund(refund, {"SKU-1": "li-1"})
    unknown, why = shop_refund(refund, {"SKU-2": "li-2"})
    amount_only, why_not = shop_refund({"id": 732, "line_items": []}, {"SKU-1": "li-1"})

    assert mapped is not None
    assert mapped.refund_id == "woocommerce-731"
    assert [(x.line_item_id, x.amount, x.quantity) for x in mapped.lines] == [("li-1", "100.00", None)]
    assert (unknown, amount_only) == (None, None)
    assert "SKU-1" in why
    assert "no refunded lines" in why_not
    assert refund_ids(order(refunds=[{"id": 9, "total": "-1.00"}, {"id": 3, "total": "-2.00"}])) == (3, 9)
