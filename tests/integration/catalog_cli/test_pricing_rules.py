"""`prices rules set/list/remove` (issue 18, item 1): a seller sets the rule no command could set before, and
the products that waited for a price publish at once, without importing or approving anything again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from allegro_sync.cli import accounts_cmd
from allegro_sync.contracts.catalog import LinkStatus
from tests.integration.catalog_cli.conftest import ACCOUNT, Stack, running_stack

pytestmark = pytest.mark.integration

KETTLES = "Dom > Kuchnia > Czajniki"
KETTLE = "BOSCH-TWK3A011"
CATALOG = (
    "sku,ean,name,description_html,image_urls,price,cost_price,stock,category_path,attributes\n"
    f'{KETTLE},4242002711331,"Czajnik elektryczny Bosch TWK3A011 1,7 l",<p>Czajnik 2400 W.</p>,'
    'https://shop.example.pl/img/twk3a011.jpg,"129,99","80,00",12,Dom > Kuchnia > Czajniki,'
    "Stan=Nowy; Marka=Bosch; Moc=2400\n"
)


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> Iterator[Stack]:
    with running_stack(moto_endpoint) as built:
        assert built.cli("mappings", "set", KETTLES, "201", "--param", "Moc=17448").exit_code == 0
        yield built


def test_a_rule_set_from_the_cli_publishes_what_waited_for_a_price(stack: Stack, tmp_path: Path) -> None:
    listed = stack.cli("prices", "rules", "list")
    assert listed.exit_code == 0
    assert "No pricing rules: every product waits for a price." in listed.output
    path = tmp_path / "kettle.csv"
    path.write_text(CATALOG, encoding="utf-8")
    imported = stack.cli("catalog", "import", str(path))
    assert imported.exit_code == 0, imported.output
    assert f"no pricing rule covers account '{ACCOUNT}'" in imported.output
    waiting = stack.catalog.link(KETTLE, ACCOUNT)
    assert waiting is not None
    assert waiting.status is LinkStatus.WAITING

    result = stack.cli(
        "prices", "rules", "set", "--markup-percent", "10", "--ending", "0.99", "--name", "+10%"
    )

    assert result.exit_code == 0, result.output
    assert (
        "Stored pricing rule '+10%' for account * (every account), category * (every category): "
        "+10% +0 PLN, ending .99 (up), min -, max -." in result.output
    )
    assert "1 waiting product(s) published again" in result.output
    link = stack.catalog.link(KETTLE, ACCOUNT)
    assert link is not None
    assert (link.status, link.price) == (LinkStatus.PUBLISHED, "142.99")  # 129.99 +10 % = 142.99, x.99
    assert link.offer_id in result.output
    table = stack.cli("prices", "rules", "list").output
    assert "+10% +0 PLN" in table
    assert ".99 (up)" in table


def test_a_bad_rule_is_refused_with_the_option_named_and_nothing_stored(stack: Stack) -> None:
    before = stack.mappings.pricing_rules()

    bounds = stack.cli("prices", "rules", "set", "--min-price", "50", "--max-price", "10")
    markup = stack.cli("prices", "rules", "set", "--markup-percent", "ten")
    ending = stack.cli("prices", "rules", "set", "--ending", "1.5")

    assert bounds.exit_code == markup.exit_code == ending.exit_code == 1
    assert "the rule is not valid, nothing stored" in bounds.output
    assert "min_price 50 is above max_price 10" in bounds.output
    assert "--markup-percent: Input should be a valid decimal" in markup.output
    assert "ending 1.5 must be cents between 0.00 and 0.99" in ending.output
    assert stack.mappings.pricing_rules() == before


def test_removing_rules_names_the_scope_and_warns_when_an_account_is_left_uncovered(stack: Stack) -> None:
    assert stack.cli("prices", "rules", "set", "--account", ACCOUNT, "--markup-percent", "5").exit_code == 0
    assert stack.cli("prices", "rules", "set", "--category", "201", "--markup-amount", "3").exit_code == 0

    missing = stack.cli("prices", "rules", "remove", "--account", "nobody")
    by_account = stack.cli("prices", "rules", "remove", "--account", ACCOUNT)
    by_category = stack.cli("prices", "rules", "remove", "--category", "201")
    default = stack.cli("prices", "rules", "remove")

    assert missing.exit_code == 1
    assert "no pricing rule for account nobody, category * (every category)" in missing.output
    assert by_account.exit_code == by_category.exit_code == default.exit_code == 0
    assert (
        f"Removed the pricing rule for account {ACCOUNT}, category * (every category)." in by_account.output
    )
    assert "warning" not in by_account.output  # the default rule still covers it
    assert "warning: no default rule covers accounts without their own rule any more" in default.output
    assert stack.mappings.pricing_rules() == []


def test_connecting_an_account_no_rule_covers_creates_a_1_to_1_rule_and_publishes_for_it(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for rule in stack.mappings.pricing_rules():
        stack.mappings.delete_pricing_rule(rule.account_id, rule.category_id)
    path = tmp_path / "kettle.csv"
    path.write_text(CATALOG, encoding="utf-8")
    assert stack.cli("catalog", "import", str(path)).exit_code == 0
    for login in ("seller-two", "seller-three"):
        stack.emulator.create_seller(login)
    codes: list[str] = []
    monkeypatch.setattr(accounts_cmd, "show_prompt", lambda prompt: codes.append(prompt.user_code))

    def connect(name: str, login: str) -> str:
        def approve(_: float) -> None:
            stack.emulator.approve_device(codes[-1], login)

        monkeypatch.setattr(accounts_cmd, "sleep", approve)
        result = stack.cli("accounts", "connect", name)
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    first = connect("shop2", "seller-two")
    second = connect("shop3", "seller-three")

    assert "No pricing rule covered shop2: created the default rule '1:1' for every account" in first
    assert "allegro-sync prices rules set --markup-percent 10 --ending 0.99" in first
    assert "Catalogue on shop2: 1 waiting product(s) published again" in first
    link = stack.catalog.link(KETTLE, "shop2")
    assert link is not None
    assert (link.status, link.price) == (LinkStatus.PUBLISHED, "129.99")  # 1:1
    assert "No pricing rule covered" not in second  # the default rule covers it: nothing created
    assert [r.rule.name for r in stack.mappings.pricing_rules()] == ["1:1"]
