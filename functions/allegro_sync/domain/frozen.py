"""The base of the domain's result values (problems, warnings, decisions): immutable once made, and their
pydantic schema built on first use rather than at import (a handler's cold start)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)
