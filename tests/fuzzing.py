"""What every generated request must satisfy, shared by tests/test_fuzz.py
and scripts/fuzz.py."""
from __future__ import annotations

import re

import orjson
from hypothesis import strategies as st
from hypothesis_graphql import nodes

CODES = {"BAD_USER_INPUT", "NOT_FOUND", "QUERY_TOO_COMPLEX", "UNAUTHENTICATED",
         "PERSISTED_QUERY_NOT_FOUND"}
LEAKS = re.compile(r"Traceback|File \"|\.py\b|site-packages|line \d+, in ")


def custom_scalars() -> dict:
    """Input values for the schema's own scalars: real date-times in several
    spellings, and any text (which must be refused politely)."""
    moments = st.datetimes(timezones=st.sampled_from([__import__("datetime").timezone.utc]))
    spelled = moments.map(lambda d: d.isoformat()) | moments.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return {"DateTime": (spelled | st.text(max_size=30)).map(nodes.String)}


def datetime_literals():
    """DateTime literals as a document writes them: a date-time, a date, an
    offset, and text that is none of these."""
    return st.sampled_from(["2021-06-01T00:00:00Z", "2020-01-01", "2021-06-02T09:12:27+02:00", "junk"]) \
        .map(nodes.String)


def check_answer(request: str, status: int, raw: bytes, hidden: frozenset[str]) -> dict | list:
    """The answer to one generated request: a JSON body, never a 5xx nor an
    INTERNAL error, no trace or path, and no hidden article id in it."""
    assert status < 500, (request, status, raw[:500])
    body = orjson.loads(raw)
    for answer in body if isinstance(body, list) else [body]:
        for error in answer.get("errors") or ():
            code = error.get("extensions", {}).get("code")
            assert code in CODES, (request, error)
    text = raw.decode()
    assert not LEAKS.search(text), (request, text[:500])
    if hidden:
        found = set(re.findall(r'"id":"([^"]+)"', text)) & hidden
        assert not found, (request, found)
    return body
