"""Which media type an answer is written in, per the GraphQL-over-HTTP spec.

A client that accepts ``application/graphql-response+json`` gets it, and
with it the spec's stricter status codes: a request that fails before
execution (parse, validation, limits, variables) is a 4xx. A client that
accepts only ``application/json`` (or ``*/*``, or says nothing: curl, fetch,
older libraries) gets ``application/json`` and a 200 for those failures, the
errors in the body, as the spec asks for legacy clients.
"""
from __future__ import annotations

from functools import lru_cache

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"

# What each acceptable range is answered with; anything else cannot be
# served, and an Accept that names nothing here gets JSON all the same
# (the spec allows that instead of a 406, and browsers opening a GET link
# send text/html first).
_SERVED = {GRAPHQL_RESPONSE: GRAPHQL_RESPONSE, JSON: JSON, "application/*": JSON, "*/*": JSON}


@lru_cache(maxsize=256)  # clients send a handful of distinct Accept values
def negotiate(accept: str | bytes | None) -> str:
    """The media type of the answer: the client's most preferred one that
    we serve (highest q, then the first listed), JSON when none is."""
    if not accept:
        return JSON
    if isinstance(accept, bytes):
        accept = accept.decode("latin-1")
    best, best_q = JSON, 0.0
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        served = _SERVED.get(media.lower())
        if served is None:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = served, q
    return best


def request_error_status(media: str) -> int:
    """The status of an answer with errors and no data, from a well-formed
    request: 400 for graphql-response+json, 200 for JSON."""
    return 400 if media == GRAPHQL_RESPONSE else 200
