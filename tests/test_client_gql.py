"""A real GraphQL client (gql with its httpx transport) against a real
``newsgraph serve`` on the corpus: what a Python consumer of the API sees."""
from __future__ import annotations

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLError, print_schema

from tests.conftest import AZURE, POWER_APPS
from tests.independent import front_matter, iso, visible
from tests.live_server import serve


@pytest.fixture(scope="module")
def server(corpus_db):
    with serve("--db", corpus_db) as live:
        yield live


@pytest.fixture(scope="module")
def session(server):
    # fetch_schema_from_transport: the client introspects the server and
    # then checks every query against that schema before sending it.
    client = Client(transport=HTTPXTransport(url=server.url, timeout=30),
                    fetch_schema_from_transport=True)
    with client as connected:
        yield connected


def _visible_files(folder):
    for path in sorted(folder.glob("*.md")):
        data, _ = front_matter(path)
        if visible(data):
            yield path, data


def test_the_client_reads_the_servers_schema(session):
    printed = print_schema(session.client.schema)
    for line in ("articles(where: ArticleWhere", "type ArticleConnection", "interface Node"):
        assert line in printed


def test_an_article_by_url_matches_its_file(session):
    path, data = next((p, d) for p, d in _visible_files(POWER_APPS / "_news") if d.get("webUrl"))
    query = GraphQLRequest(
        """query ByUrl($url: String!) {
             article(url: $url) { title url publishedAt type provider { domain } topics { name } }
           }""",
        variable_values={"url": data["webUrl"]})
    article = session.execute(query)["article"]
    assert article["title"] == data["title"]
    assert article["url"] == data["webUrl"]
    assert article["publishedAt"] == iso(data["publishedDateTime"])
    assert article["provider"]["domain"] == data["provider"]["domain"].lower()
    assert [t["name"] for t in article["topics"]] == data.get("topics", [])


def test_paging_with_variables_returns_each_article_once(session):
    expected = {f"news/{path.stem}"
                for folder in (POWER_APPS / "_news", AZURE / "_news")
                for path, data in _visible_files(folder)
                if (data.get("provider") or {}).get("domain", "").lower() == "microsoft.com"}
    listing = gql("""query Page($after: String) {
        articles(first: 5, after: $after, where: { provider: { domain: { eq: "microsoft.com" } }
                                                   collection: { eq: "news" } }) {
          totalCount pageInfo { hasNextPage endCursor } nodes { id provider { domain } }
        }
      }""")
    seen: list[str] = []
    after = None
    for _ in range(100):  # bounded: a cursor bug must not loop forever
        listing.variable_values = {"after": after}
        page = session.execute(listing)["articles"]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"] > 5
    assert set(seen) == expected


def test_a_server_error_reaches_the_client_with_its_message(session):
    with pytest.raises(TransportQueryError, match="100") as caught:
        session.execute(gql("{ articles(first: 500) { nodes { id } } }"))
    assert caught.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_an_invalid_query_is_refused_before_it_is_sent(session):
    with pytest.raises(GraphQLError, match="nope"):
        session.execute(gql("{ articles { nodes { nope } } }"))
