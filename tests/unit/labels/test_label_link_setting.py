"""Issue 15: how long the shop's label link works (LABEL_LINK_SECONDS, CDK `-c labelLinkSeconds=N`)."""

from __future__ import annotations

import pytest

from allegro_sync.settings import LABEL_LINK_SECONDS_ENV, Settings


def test_the_link_lives_an_hour_unless_the_seller_says_otherwise() -> None:
    assert Settings.from_environ({}).label_link_seconds == 3600
    assert Settings.from_environ({LABEL_LINK_SECONDS_ENV: "86400"}).label_link_seconds == 86400


@pytest.mark.parametrize("bad", ["0", "59", "604801", "1h", "-5"])
def test_a_link_life_sigv4_cannot_sign_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="60 to 604800"):
        Settings.from_environ({LABEL_LINK_SECONDS_ENV: bad})
