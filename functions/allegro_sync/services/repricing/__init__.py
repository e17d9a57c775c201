"""Repricing rounds per seller account: `repricer` runs a round (plan in the domain, apply as Allegro
commands, record every change), `fees` measures and caches Allegro's fees per price band, `ports` is what a
round talks to."""

from allegro_sync.contracts.repricing import FeedUnavailable, OfferState, ProductFacts
from allegro_sync.services.repricing.fees import BANDS, FEE_TTL, FeeBook, band_edges, band_of
from allegro_sync.services.repricing.ports import (
    ChangeLog,
    FeedSource,
    ProductFactsSource,
    RepricingAllegro,
    RepricingStore,
)
from allegro_sync.services.repricing.repricer import (
    MAX_COMMANDS_PER_ROUND,
    PAUSE_MINUTES,
    Repricer,
    RoundReport,
    run_round,
)

__all__ = [
    "BANDS",
    "FEE_TTL",
    "MAX_COMMANDS_PER_ROUND",
    "PAUSE_MINUTES",
    "ChangeLog",
    "FeeBook",
    "FeedSource",
    "FeedUnavailable",
    "OfferState",
    "ProductFacts",
    "ProductFactsSource",
    "Repricer",
    "RepricingAllegro",
    "RepricingStore",
    "RoundReport",
    "band_edges",
    "band_of",
    "run_round",
]
