"""People: a site's profiles as typed objects (store/people.py), and the
``people`` connection."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from store import lists
from store import people as sp
from store.people import Person as PersonRecord

from .connection import PageInfo, page_info
from .context import Info
from .inputs import PersonOrder, PersonWhere, order_pairs, plain
from .types import Image, Node, Provider, Site, Topic

if TYPE_CHECKING:
    from .types import Article


@strawberry.type(description="An account on a social network.")
class SocialLink:
    network: str = strawberry.field(description="The front-matter key: twitter, linkedin, youtube, twitch, ...")
    url: str | None
    username: str | None
    followers: int | None = strawberry.field(description="Followers (subscribers, members) as the file gives them.")

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, sp.SocialLink)


@strawberry.type(description="A profile (_people, type: profile). It is an article too: `article` is that article.")
class Person(Node):
    id: strawberry.ID
    name: str
    bio: str | None
    location: str | None
    affiliation: Provider | None = strawberry.field(description="The organisation the profile names.")
    website: str | None
    links: list[SocialLink] = strawberry.field(description="Every social network the profile links to.")
    followers: int | None = strawberry.field(description="Followers across the profile's links, when any gives a count.")
    heat: int | None
    url: str | None = strawberry.field(description="The profile's page.")
    topics: list[Topic]
    images: list[Image]
    image: Image | None
    site: Site | None

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, PersonRecord)

    @strawberry.field
    def twitter(self) -> SocialLink | None:
        return self.link("twitter")

    @strawberry.field
    def linkedin(self) -> SocialLink | None:
        return self.link("linkedin")

    @strawberry.field(description="The profile as an article.")
    def article(self, info: Info) -> Annotated["Article", strawberry.lazy("graph.types")] | None:
        return info.context.view.visible(self.article)


@strawberry.type
class PersonEdge:
    cursor: str
    node: Person


@strawberry.type
class PersonConnection:
    edges: list[PersonEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Person]:
        return [edge.node for edge in self.edges]


def select_people(info: Info, where: PersonWhere | None, order_by: list[PersonOrder] | None,
                  first: int | None, after: str | None, last: int | None,
                  before: str | None) -> PersonConnection:
    ctx = info.context
    ctx.check_deadline()
    ctx.model.lookups += 1
    test = lists.person_predicate(plain(where) if where else None, ctx.view, ctx.now)
    items = [p for p in ctx.view.people if test(p)]
    page = lists.sorted_page(items, sp.FIELDS, order_pairs(order_by) or sp.DEFAULT_ORDER, lambda p: p.id,
                             "people", first=first, after=after, last=last, before=before,
                             limit=ctx.settings.limits.max_page)
    return PersonConnection(edges=[PersonEdge(cursor=c, node=p) for p, c in zip(page.items, page.cursors)],
                            page_info=page_info(page), total_count=page.total)

