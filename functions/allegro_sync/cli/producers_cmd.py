"""`allegro-sync producers map|list|unmap`: the seller's brand -> responsible producer mappings (GPSR).

`producers map BRAND --name NAME --trade-name ... --country PL --street ... --postal-code ... --city ...
--email ...` stores which responsible producer (and, for a producer outside the EU, which responsible person;
and a default safety text) the offers of BRAND carry. The publishing functions create the producer on each
seller account once (looked up by name first) and put its id on the offer. Products waiting for a producer of
that brand are published right away, without a new shop event (as `mappings approve` does for a category).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from allegro_sync.cli import catalog_cmd, deployment, output
from allegro_sync.cli.deployment import StackOption
from allegro_sync.cli.republish import NeedsRetry, publish_waiting, waiting
from allegro_sync.contracts.catalog import ANY_ACCOUNT, OfferLink
from allegro_sync.contracts.gpsr import (
    Address,
    Contact,
    NewResponsiblePerson,
    NewResponsibleProducer,
    PersonData,
    ProducerData,
    ProducerMapping,
)
from allegro_sync.contracts.messages import ProductUpsert

producers_app = typer.Typer(
    help="EU product safety (GPSR): brand -> responsible producer.", no_args_is_help=True
)
console = Console(width=160)

AccountOption = Annotated[str | None, typer.Option(help="Only this seller account (default: every account).")]


def register(app: typer.Typer) -> None:
    app.add_typer(producers_app, name="producers")


@producers_app.command("map")
def map_brand(
    *,
    brand: Annotated[str, typer.Argument(help="The shop's brand (or producer) attribute value.")],
    name: Annotated[str, typer.Option(help="The producer's name on Allegro (yours, <= 50 characters).")],
    trade_name: Annotated[str, typer.Option(help="Legal or trade name of the producer.")],
    country: Annotated[str, typer.Option(help="Country code, e.g. PL or CN.")],
    street: Annotated[str, typer.Option(help="Street and number.")],
    postal_code: Annotated[str, typer.Option(help="Postal code.")],
    city: Annotated[str, typer.Option(help="City.")],
    email: Annotated[str | None, typer.Option(help="Contact e-mail (this or --form-url).")] = None,
    form_url: Annotated[str | None, typer.Option(help="Contact form URL.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    safety_text: Annotated[
        str | None, typer.Option(help="Safety information for the brand's products that have none.")
    ] = None,
    person_name: Annotated[
        str | None, typer.Option(help="Responsible person in the EU (needed for a producer outside it).")
    ] = None,
    person_trade_name: Annotated[str | None, typer.Option(help="The person's legal name.")] = None,
    person_country: Annotated[str | None, typer.Option(help="The person's EU country code.")] = None,
    person_street: Annotated[str | None, typer.Option(help="The person's street and number.")] = None,
    person_postal_code: Annotated[str | None, typer.Option(help="The person's postal code.")] = None,
    person_city: Annotated[str | None, typer.Option(help="The person's city.")] = None,
    person_email: Annotated[str | None, typer.Option(help="The person's contact e-mail.")] = None,
    account: AccountOption = None,
    publish: Annotated[bool, typer.Option(help="Publish the brand's waiting products now.")] = True,
    stack: StackOption = None,
) -> None:
    """Set the responsible producer of BRAND's products; its waiting products are published right away."""
    try:
        person = None
        if person_name is not None:
            person = NewResponsiblePerson(
                name=person_name,
                personal_data=PersonData(
                    name=person_trade_name or person_name,
                    address=Address(
                        country_code=person_country or "",
                        street=person_street or "",
                        postal_code=person_postal_code or "",
                        city=person_city or "",
                    ),
                    contact=Contact(email=person_email),
                ),
            )
        mapping = ProducerMapping(
            brand=brand.strip(),
            account=account or ANY_ACCOUNT,
            producer=NewResponsibleProducer(
                name=name,
                producer_data=ProducerData(
                    trade_name=trade_name,
                    address=Address(country_code=country, street=street, postal_code=postal_code, city=city),
                    contact=Contact(email=email, phone_number=phone, form_url=form_url),
                ),
            ),
            person=person,
            safety_text=safety_text,
            updated_at=datetime.now(UTC).isoformat(),
        )
    except ValidationError as error:
        output.fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()))
    if not (email or form_url):
        output.fail("give the producer's --email or --form-url (Allegro needs one of them)")
    if person is not None and person.personal_data.contact.email is None:
        output.fail("give the responsible person's --person-email")
    if " ".join(name.split()) != name:
        output.fail("--name can't start or end with spaces nor contain double spaces (Allegro refuses it)")
    app = deployment.application(stack)
    app.producer_mappings().put_producer_mapping(mapping)
    _print([mapping], title="Mapped")
    if publish:
        worker = deployment.application(
            stack, function="catalog_worker", rpm_budget=None, now=catalog_cmd.now, sleep=catalog_cmd.sleep
        )
        accounts = [p.name for p in worker.connected_accounts()]
        scope = accounts if mapping.account == ANY_ACCOUNT else [mapping.account]
        publish_waiting(
            worker, scope, catalog_cmd.console, title=f"brand {brand}", needs_retry=_waits_for(brand)
        )


def _waits_for(brand: str) -> NeedsRetry:
    key = brand.strip().casefold()

    def needs_retry(product: ProductUpsert, link: OfferLink | None) -> bool:
        values = {v.strip().casefold() for v in product.attributes.values()}
        return key in values and waiting(product, link)

    return needs_retry


@producers_app.command("list")
def list_producers(
    account: AccountOption = None, stack: StackOption = None, as_json: output.JsonOption = False
) -> None:
    """Every brand -> responsible producer mapping."""
    found = deployment.application(stack).producer_mappings().producer_mappings(account or ANY_ACCOUNT)
    if as_json:
        output.print_json([m.model_dump(mode="json") for m in found])
        return
    _print(found, title="Responsible producers by brand")


@producers_app.command("unmap")
def unmap(
    brand: Annotated[str, typer.Argument(help="The brand whose producer mapping to remove.")],
    account: AccountOption = None,
    stack: StackOption = None,
) -> None:
    """Forget BRAND's producer (offers already on Allegro keep theirs)."""
    if not deployment.application(stack).producer_mappings().delete_producer_mapping(brand, account or "*"):
        output.fail(f"no producer is mapped for brand {brand!r}; see `allegro-sync producers list`")
    console.print(f"Brand {brand!r}: producer mapping removed.")


def _print(mappings: list[ProducerMapping], *, title: str) -> None:
    output.print_table(
        title,
        ("brand", "account", "producer", "address", "person", "safety text"),
        [
            (
                m.brand,
                m.account,
                f"{m.producer.name} ({m.producer.producer_data.trade_name})",
                f"{m.producer.producer_data.address.city}, {m.producer.producer_data.address.country_code}",
                m.person.name if m.person else "-",
                (m.safety_text or "-")[:40],
            )
            for m in mappings
        ],
    )
