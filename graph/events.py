"""Events as typed objects (store/events.py), and the ``events`` connection."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from store import events as se
from store import lists

from .connection import PageInfo, page_info
from .context import Info
from .inputs import EventOrder, EventWhere, order_pairs, plain
from .types import Image, Node, Provider, Site, Topic

if TYPE_CHECKING:
    from .types import Article


@strawberry.type(description="An event (_events, or a file with a startDateTime). It is an article too: `article` is that article.")
class Event(Node):
    id: strawberry.ID
    title: str
    excerpt: str | None
    type: str = strawberry.field(description="webinar, conference, ... as the file says.")
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    location: str | None
    online: bool | None = strawberry.field(description="Whether it happens online, where the file says so (a flag, an attendance mode, or a location or type such as \"online\" or \"webinar\"); null otherwise.")
    url: str | None
    provider: Provider | None
    topics: list[Topic]
    images: list[Image]
    image: Image | None
    site: Site | None

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, se.Event)

    @strawberry.field(description="The event as an article.")
    def article(self, info: Info) -> Annotated["Article", strawberry.lazy("graph.types")] | None:
        return info.context.view.visible(self.article)


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Event]:
        return [edge.node for edge in self.edges]


def select_events(info: Info, where: EventWhere | None, upcoming: bool | None,
                  order_by: list[EventOrder] | None, first: int | None, after: str | None,
                  last: int | None, before: str | None) -> EventConnection:
    """``upcoming: true``: events that have not ended, soonest first;
    ``false``: those that have, latest first; unset: every event by start."""
    ctx = info.context
    ctx.check_deadline()
    ctx.model.lookups += 1
    test = lists.event_predicate(plain(where) if where else None, ctx.view, ctx.now)
    now = ctx.now.timestamp()
    items = [e for e in ctx.view.events if test(e) and (upcoming is None or e.upcoming(now) is upcoming)]
    order = order_pairs(order_by) or (("START", "DESC" if upcoming is False else "ASC"),)
    page = lists.sorted_page(items, se.FIELDS, order, lambda e: e.id, "events", first=first,
                             after=after, last=last, before=before, limit=ctx.settings.limits.max_page)
    return EventConnection(edges=[EventEdge(cursor=c, node=e) for e, c in zip(page.items, page.cursors)],
                           page_info=page_info(page), total_count=page.total)
