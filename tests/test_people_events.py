"""Typed models of what is not news: people (profiles), events and
playlists. People and events stay articles too; `people` and `events` are
connections with the filters, cursors and limits of `articles`. The real
corpus's profiles and playlists are compared with an independent reading;
events (the corpus has none) on a site written here."""
from __future__ import annotations

import pytest

from tests.conftest import POWER_APPS
from tests.independent import front_matter, visible
from tests.sitebuilder import front, served, write_site

PERSON = """query($id: ID!) { node(id: $id) { ... on Person {
  id name bio location website followers heat url
  affiliation { domain name } twitter { url username followers } linkedin { url }
  links { network url username followers } topics { name } images { url width height }
  article { id collection person { id } } } } }"""


def _people_files():
    return sorted((POWER_APPS / "_people").glob("*.md"))


@pytest.mark.parametrize("path", _people_files(), ids=lambda p: p.stem)
def test_every_profile_is_a_person(gql, path):
    data, _ = front_matter(path)
    ident = f"people/{path.stem}"
    got = gql(PERSON, {"id": f"person:{ident}"}, preview=True)["node"]
    twitter, linkedin = data.get("twitter"), data.get("linkedin")
    affiliation = data.get("affiliation")
    links = [{"network": n, "url": data[n].get("url"), "username": data[n].get("username"),
              "followers": data[n].get("followers")} for n in ("twitter", "linkedin") if n in data]
    assert got == {
        "id": f"person:{ident}", "name": data["name"], "bio": data.get("bio"),
        "location": data.get("location"), "website": data.get("website"),
        "followers": (twitter or {}).get("followers"), "heat": data.get("heat"), "url": None,
        "affiliation": affiliation and {"domain": affiliation["domain"], "name": "Microsoft"},
        "twitter": twitter and {"url": twitter["url"], "username": twitter["username"],
                                "followers": twitter["followers"]},
        "linkedin": linkedin and {"url": linkedin["url"]},
        "links": links,
        "topics": [{"name": t} for t in data["topics"]],
        "images": [{"url": i["url"], "width": i["width"], "height": i["height"]} for i in data["images"]],
        "article": {"id": ident, "collection": "people", "person": {"id": f"person:{ident}"}},
    }


def test_people_connection_orders_and_pages(gql):
    files = [(front_matter(p)[0], p.stem) for p in _people_files()]
    public = [(d, stem) for d, stem in files if visible(d)]
    got = _walk(gql, "people", "orderBy: [{field: FOLLOWERS}]", "id name followers")
    want = sorted(public, key=lambda ds: (-ds[0]["twitter"]["followers"], f"person:people/{ds[1]}"))
    assert [n["id"] for n in got] == [f"person:people/{stem}" for _, stem in want]
    by_name = _walk(gql, "people", "", "id name")
    assert [(n["name"].casefold(), n["id"]) for n in by_name] == \
        sorted((d["name"].casefold(), f"person:people/{stem}") for d, stem in public)
    backwards = gql('{ people(last: 2) { nodes { id } pageInfo { hasPreviousPage } } }')["people"]
    assert [n["id"] for n in backwards["nodes"]] == [n["id"] for n in by_name[-2:]]
    assert backwards["pageInfo"]["hasPreviousPage"] is (len(by_name) > 2)
    assert gql("{ stats { people events } }")["stats"] == {"people": len(public), "events": 0}
    # Profiles stay articles, counted and listed as before.
    assert gql('{ articles(where: {collection: {eq: "people"}}) { totalCount } }')["articles"]["totalCount"] \
        == len(public)


@pytest.mark.parametrize("where, wanted", [
    ({"affiliation": {"domain": {"eq": "MICROSOFT.com"}}}, lambda d: (d.get("affiliation") or {}).get("domain") == "microsoft.com"),
    ({"NOT": {"affiliation": {"name": {"eq": "Microsoft"}}}}, lambda d: not d.get("affiliation")),
    ({"location": {"contains": "wa"}}, lambda d: "wa" in d["location"].lower()),
    ({"OR": [{"name": {"startsWith": "april"}}, {"heat": {"gte": 70}}]},
     lambda d: d["name"].lower().startswith("april") or d["heat"] >= 70),
    ({"topics": {"some": ["Power Apps"]}, "bio": {"contains": "microsoft"}},
     lambda d: "microsoft" in d["bio"].lower()),
])
def test_people_filters(gql, where, wanted):
    files = [(front_matter(p)[0], p.stem) for p in _people_files()]
    want = sorted((d["name"].casefold(), f"person:people/{stem}") for d, stem in files if visible(d) and wanted(d))
    got = gql("query($w: PersonWhere) { people(where: $w) { totalCount nodes { id name } } }", {"w": where})
    assert want and [(n["name"].casefold(), n["id"]) for n in got["people"]["nodes"]] == want
    assert got["people"]["totalCount"] == len(want)


def test_playlists_link_their_items_both_ways(gql):
    for path in sorted((POWER_APPS / "_learning" / "collections").glob("*.md")):
        data, _ = front_matter(path)
        ident = f"learning/collections/{path.stem}"
        want = [f"learning/{item}" for item in data["items"]
                if visible(front_matter(POWER_APPS / "_learning" / f"{item}.md")[0])]
        got = gql('query($id: ID!) { article(id: $id) { items { id playlists { id } } } }', {"id": ident},
                  preview=True)["article"]
        assert [i["id"] for i in got["items"]] == want, ident
        for item in got["items"]:
            if visible(data):
                assert ident in [p["id"] for p in item["playlists"]]
        if not visible(data):  # an unpublished playlist is in nobody's public list
            for item_id in want:
                public = gql('query($id: ID!) { article(id: $id) { playlists { id } } }', {"id": item_id})
                assert ident not in [p["id"] for p in public["article"]["playlists"]]
    first = gql('{ article(id: "learning/collections/april-dunnam-beginner-power-apps-topics-by-april-dunnam") { items(first: 2) { id } } }')
    assert len(first["article"]["items"]) == 2


def _walk(gql, field: str, args: str, fields: str, *, preview: bool = False, page: int = 2) -> list[dict]:
    query = f"""query($after: String) {{ {field}(first: {page}, after: $after{', ' + args if args else ''}) {{
                totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {fields} }} }} }}"""
    nodes, after = [], None
    for _ in range(100):
        got = gql(query, {"after": after}, preview=preview)[field]
        nodes += got["nodes"]
        if not got["pageInfo"]["hasNextPage"]:
            assert got["totalCount"] == len(nodes)
            return nodes
        after = got["pageInfo"]["endCursor"]
    raise AssertionError("paging did not end")


# --- events, on a site written here ---------------------------------------------------
# The test clients' clock is tests/conftest.py's FROZEN_NOW, 2021-07-01.

EVENTS = {
    "_config.yml": "title: Calendar\nurl: https://calendar.example\n",
    "_events/2021-06-01-spring-meetup.md": front("""
        name: Spring meetup
        type: meetup
        startDateTime: 2021-06-01T17:00:00Z
        endDateTime: 2021-06-01T19:00:00Z
        location:
          name: Pier Hall
          city: Lisbon
          country: Portugal
        isOnline: false
        provider:
          name: Harbour Club
          domain: harbour.example
        topics: [Meetups]
        """),
    "_events/2021-06-30-all-day.md": front("""
        title: Runs past the clock
        type: workshop
        startDateTime: 2021-06-30T09:00:00Z
        endDateTime: 2021-07-02T17:00:00Z
        location: Online
        """),
    "_events/2021-07-05-webinar.md": front("""
        title: A webinar
        type: webinar
        startDateTime: 2021-07-05T15:00:00-07:00
        webUrl: https://calendar.example/events/webinar
        """),
    "_events/2021-08-01-summit.md": front("""
        title: Summit
        type: conference
        startDate: 2021-08-01
        eventAttendanceMode: https://schema.org/OfflineEventAttendanceMode
        location: Porto
        provider:
          name: Harbour Club
          domain: harbour.example
        """),
    "_events/someday.md": front("""
        title: Date to be announced
        type: meetup
        """),
    "_events/2021-09-01-draft.md": front("""
        title: Not announced yet
        startDateTime: 2021-09-01T10:00:00Z
        published: false
        """),
    "_events/collections/season.md": front("""
        title: The season
        type: collection
        items:
          - 2021-06-01-spring-meetup
          - _events/2021-08-01-summit.md
          - 2021-09-01-draft
          - https://calendar.example/events/webinar
          - nothing-by-this-name
        """),
    # A start outside an events folder makes an event too.
    "_news/2021-07-10-launch-party.md": front("""
        title: Launch party
        publishedDateTime: 2021-06-20T10:00:00Z
        startDateTime: 2021-07-10T18:00:00Z
        online: true
        """),
    "_people/someone.md": front("""
        name: Someone
        type: profile
        affiliation:
          name: Harbour Club
          domain: HARBOUR.example
        twitter: "@someone"
        youtube:
          url: https://video.example/someone
          subscribers: "12,500"
        linkedin: https://www.linkedin.example/in/someone
        """),
}


@pytest.fixture(scope="module")
def calendar(tmp_path_factory):
    root = tmp_path_factory.mktemp("calendar")
    site = write_site(root / "site", EVENTS)
    with served(root / "db.json", site) as (report, gql):
        assert report.ok, report.rejected
        yield gql


EVENT_FIELDS = "id title type startsAt endsAt location online url provider { key } article { id event { id } }"


def test_events_are_typed(calendar):
    got = {n["id"]: n for n in calendar(f"{{ events(first: 50) {{ nodes {{ {EVENT_FIELDS} }} }} }}")["events"]["nodes"]}
    assert got["event:events/2021-06-01-spring-meetup"] == {
        "id": "event:events/2021-06-01-spring-meetup", "title": "Spring meetup", "type": "meetup",
        "startsAt": "2021-06-01T17:00:00Z", "endsAt": "2021-06-01T19:00:00Z",
        "location": "Pier Hall, Lisbon, Portugal", "online": False, "url": None,
        "provider": {"key": "harbour.example"},
        "article": {"id": "events/2021-06-01-spring-meetup", "event": {"id": "event:events/2021-06-01-spring-meetup"}}}
    # Where the file says so, and only there: "Online" as the location, a
    # webinar, schema.org's attendance mode, a flag; nothing said is null.
    assert {k: v["online"] for k, v in got.items()} == {
        "event:events/2021-06-01-spring-meetup": False, "event:events/2021-06-30-all-day": True,
        "event:events/2021-07-05-webinar": True, "event:events/2021-08-01-summit": False,
        "event:events/someday": None, "event:news/2021-07-10-launch-party": True}
    assert got["event:events/2021-07-05-webinar"]["startsAt"] == "2021-07-05T22:00:00Z"
    assert got["event:events/2021-07-05-webinar"]["url"] == "https://calendar.example/events/webinar"
    assert got["event:events/2021-08-01-summit"]["startsAt"] == "2021-08-01T00:00:00Z"
    # The playlist of the events folder and the unpublished event are no public events.
    assert "event:events/collections/season" not in got and "event:events/2021-09-01-draft" not in got


@pytest.mark.parametrize("upcoming, ids", [
    # Not ended by 2021-07-01 (the all-day one ends after it), soonest first.
    (True, ["events/2021-06-30-all-day", "events/2021-07-05-webinar", "news/2021-07-10-launch-party",
            "events/2021-08-01-summit"]),
    # Ended, latest first.
    (False, ["events/2021-06-01-spring-meetup"]),
    # Every event by start; the one without a start last.
    (None, ["events/2021-06-01-spring-meetup", "events/2021-06-30-all-day", "events/2021-07-05-webinar",
            "news/2021-07-10-launch-party", "events/2021-08-01-summit", "events/someday"]),
])
def test_upcoming_and_past_events_by_start(calendar, upcoming, ids):
    nodes = _walk(calendar, "events", "" if upcoming is None else f"upcoming: {str(upcoming).lower()}", "id")
    assert [n["id"] for n in nodes] == [f"event:{i}" for i in ids]


@pytest.mark.parametrize("where, order, ids", [
    ({"online": True}, None, ["events/2021-06-30-all-day", "events/2021-07-05-webinar", "news/2021-07-10-launch-party"]),
    ({"NOT": {"online": True}}, None, ["events/2021-06-01-spring-meetup", "events/2021-08-01-summit", "events/someday"]),
    ({"startsAt": {"gte": "2021-07-01T00:00:00Z"}, "provider": {"domain": {"eq": "harbour.example"}}}, None,
     ["events/2021-08-01-summit"]),
    ({"OR": [{"location": {"contains": "lisbon"}}, {"type": {"eq": "webinar"}}]}, [{"field": "TITLE", "direction": "DESC"}],
     ["events/2021-06-01-spring-meetup", "events/2021-07-05-webinar"]),
    ({"endsAt": {"lt": "2021-07-01T00:00:00Z"}}, None, ["events/2021-06-01-spring-meetup"]),
    (None, [{"field": "END", "direction": "DESC"}], ["events/2021-06-30-all-day", "events/2021-06-01-spring-meetup",
                                                    "events/2021-07-05-webinar", "events/2021-08-01-summit",
                                                    "events/someday", "news/2021-07-10-launch-party"]),
])
def test_event_filters_and_orders(calendar, where, order, ids):
    got = calendar("query($w: EventWhere, $o: [EventOrder!]) { events(where: $w, orderBy: $o) { totalCount nodes { id } } }",
                   {"w": where, "o": order})["events"]
    assert [n["id"] for n in got["nodes"]] == [f"event:{i}" for i in ids] and got["totalCount"] == len(ids)


def test_event_cursors_page_both_ways_and_belong_to_their_order(calendar):
    ids = [n["id"] for n in _walk(calendar, "events", "", "id")]
    page = calendar('{ events(first: 2) { pageInfo { endCursor } } }')["events"]["pageInfo"]["endCursor"]
    rest = calendar('query($a: String) { events(after: $a) { nodes { id } } }', {"a": page})["events"]["nodes"]
    assert [n["id"] for n in rest] == ids[2:]
    before = calendar('query($b: String) { events(last: 1, before: $b) { nodes { id } } }', {"b": page})
    assert [n["id"] for n in before["events"]["nodes"]] == ids[:1]
    body = calendar.raw('query($a: String) { events(after: $a, orderBy: [{field: TITLE}]) { totalCount } }', {"a": page})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = calendar.raw('{ events(first: 101) { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "100" in body["errors"][0]["message"]


def test_an_unpublished_event_only_in_preview(calendar):
    query = '{ events(upcoming: true) { nodes { id } } node(id: "event:events/2021-09-01-draft") { id } }'
    public, preview = calendar(query), calendar(query, preview=True)
    assert "event:events/2021-09-01-draft" not in [n["id"] for n in public["events"]["nodes"]]
    assert public["node"] is None
    assert [n["id"] for n in preview["events"]["nodes"]][-1] == "event:events/2021-09-01-draft"
    assert preview["node"] == {"id": "event:events/2021-09-01-draft"}


def test_a_playlist_names_items_every_way(calendar):
    query = '{ article(id: "events/collections/season") { type event { id } items { id } } }'
    got = calendar(query)["article"]
    # By name in its collection, by path in the site and by URL; the
    # unpublished one only in preview; an unknown name nowhere.
    assert got == {"type": "collection", "event": None,
                   "items": [{"id": "events/2021-06-01-spring-meetup"}, {"id": "events/2021-08-01-summit"},
                             {"id": "events/2021-07-05-webinar"}]}
    preview = calendar(query, preview=True)["article"]["items"]
    assert [i["id"] for i in preview] == ["events/2021-06-01-spring-meetup", "events/2021-08-01-summit",
                                          "events/2021-09-01-draft", "events/2021-07-05-webinar"]


def test_a_profile_with_loose_links(calendar):
    got = calendar("""{ people { nodes { name followers affiliation { key name } twitter { url username }
                        linkedin { url username } links { network url username followers } } } }""")
    assert got["people"]["nodes"] == [{
        "name": "Someone", "followers": 12500,
        "affiliation": {"key": "harbour.example", "name": "Harbour Club"},
        "twitter": {"url": None, "username": "someone"},
        "linkedin": {"url": "https://www.linkedin.example/in/someone", "username": None},
        "links": [{"network": "twitter", "url": None, "username": "someone", "followers": None},
                  {"network": "linkedin", "url": "https://www.linkedin.example/in/someone", "username": None,
                   "followers": None},
                  {"network": "youtube", "url": "https://video.example/someone", "username": None,
                   "followers": 12500}]}]


def test_an_impossible_event_date_is_named(tmp_path):
    site = write_site(tmp_path / "s", {"_events/x.md": front("title: X\nstartDateTime: next tuesday")})
    from store.db import Store
    from store.ingest import load
    report = load(Store(tmp_path / "db.json"), [site])
    (error,) = report.rejected
    assert (error.path, error.line) == ("_events/x.md", 3) and "startDateTime" in error.reason


def test_playlists_connection(gql):
    want = []
    for path in sorted((POWER_APPS / "_learning" / "collections").glob("*.md")):
        data, _ = front_matter(path)
        items = [front_matter(POWER_APPS / "_learning" / f"{i}.md")[0] for i in data["items"]]
        if visible(data) and any(visible(i) for i in items):
            want.append(f"learning/collections/{path.stem}")
    got = gql('{ playlists(first: 100, orderBy: [{field: TITLE, direction: ASC}]) { totalCount nodes { id } } }')
    assert got["playlists"]["totalCount"] == len(want) > 0
    assert sorted(n["id"] for n in got["playlists"]["nodes"]) == sorted(want)
    none = gql('{ articles(where: {hasItems: false, collection: {eq: "learning"}, type: {eq: "collection"}}) { totalCount } }')
    assert none["articles"]["totalCount"] == 0


def test_a_playlist_of_unpublished_items_only_is_none_in_public(tmp_path):
    site = write_site(tmp_path / "s", {
        "_learning/videos/v.md": front("title: V\npublished: false"),
        "_learning/collections/c.md": front("title: C\ntype: collection\nitems: [videos/v]"),
    })
    with served(tmp_path / "db.json", site) as (_, gql):
        query = '{ playlists { totalCount } articles(where: {hasItems: false}) { nodes { id items { id } } } }'
        assert gql(query) == {"playlists": {"totalCount": 0},
                              "articles": {"nodes": [{"id": "learning/collections/c", "items": []}]}}
        assert gql(query, preview=True)["playlists"] == {"totalCount": 1}


@pytest.mark.parametrize("field", ["people", "playlists", "events"])
@pytest.mark.parametrize("args", ["first: 101", "last: 101", "first: -1"])
def test_typed_lists_keep_the_page_limits_of_articles(gql, field, args):
    want = gql.raw(f"{{ articles({args}) {{ totalCount }} }}")["errors"][0]
    (error,) = gql.raw(f"{{ {field}({args}) {{ totalCount }} }}")["errors"]
    assert error["extensions"]["code"] == want["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == want["message"]
