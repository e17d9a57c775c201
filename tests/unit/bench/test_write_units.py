"""DynamoDB's write billing as bench.stock_writes applies it to every write it meters."""

from __future__ import annotations

from bench._write_units import item_size, write_units


def _item(text_bytes: int) -> dict[str, dict[str, str]]:
    return {"pk": {"S": "sku#A"}, "body": {"S": "x" * text_bytes}}


def test_an_item_is_its_names_and_values_in_bytes() -> None:
    # "pk" + "sku#A", "n" + 1234 (2 digit pairs + 1), "ok" + a boolean
    assert item_size({"pk": {"S": "sku#A"}, "n": {"N": "1234"}, "ok": {"BOOL": True}}) == 7 + 4 + 3
    assert item_size({"name": {"S": "żółw"}}) == 4 + len("żółw".encode())
    # a map: 3 + ("a" + "b" + 1); a list: 3 + (7 as 2 bytes + 1)
    assert item_size({"m": {"M": {"a": {"S": "b"}}}, "l": {"L": [{"N": "7"}]}}) == 1 + 6 + 1 + 6
    assert item_size(None) == 0


def test_a_write_costs_one_unit_per_started_kilobyte_of_the_larger_image() -> None:
    small, big = _item(100), _item(2500)
    assert write_units(None, small, transactional=False) == 1
    assert write_units(small, big, transactional=False) == 3
    assert write_units(big, small, transactional=False) == 3  # shrinking a big item costs as much
    assert write_units(big, None, transactional=False) == 3  # a delete is billed by what it removes


def test_a_failed_condition_and_a_delete_of_nothing_still_cost_a_unit_and_transactions_double() -> None:
    small = _item(100)
    assert write_units(small, small, transactional=False) == 1  # refused: the stored item is billed
    assert write_units(None, None, transactional=False) == 1
    assert write_units(None, small, transactional=True) == 2
    assert write_units(None, _item(1500), transactional=True) == 4
