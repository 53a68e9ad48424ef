"""What one request sees: one read model (one data version) and one view."""
from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field

import strawberry

from store.readmodel import ReadModel
from store.view import View

from .errors import TooComplexError
from .settings import Settings


@dataclass
class Context:
    model: ReadModel
    preview: bool
    settings: Settings
    now: dt.datetime
    request_id: str = "-"
    deadline: float = math.inf  # time.monotonic() by which execution must end
    timed_out: bool = False     # such an answer depends on load: never cache it
    batches: dict = field(default_factory=dict)  # per-request batched lookups (types.batched)
    # The answer goes straight to orjson (HTTP), so the compiled executor may
    # give remembered parts as pre-serialized orjson.Fragment (graph/parts.py).
    fragments: bool = False
    view: View = field(init=False)

    def __post_init__(self) -> None:
        # Everything a resolver reaches goes through this view: the public
        # one cannot see unpublished articles at all.
        self.view = self.model.view(self.preview)

    def check_deadline(self) -> None:
        """Called by the resolvers that do real work, so a runaway request
        stops between fields instead of holding the server."""
        if time.monotonic() > self.deadline:
            self.timed_out = True
            raise TooComplexError(
                f"execution took longer than the {self.settings.limits.timeout_seconds:g} s limit")


Info = strawberry.Info[Context, None]
