"""graph/protocol.py: an answer's head and body leave in one write, so a
replica killed mid-answer sends all of it or nothing a proxy cannot retry."""
from __future__ import annotations

import httpx

from graph.protocol import OneWriteTransport
from tests.live_server import serve


class Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name, default=None):
        return ("127.0.0.1", 1) if name == "peername" else default


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class Protocol:
    """What OneWriteTransport reads of uvicorn's protocol: the request's method."""

    def __init__(self, method: str | None) -> None:
        self.cycle = None if method is None else type("Cycle", (), {"scope": {"method": method}})()


def test_head_and_body_leave_in_one_write():
    recorder = Recorder()
    transport = OneWriteTransport(recorder, Protocol("GET"))
    transport.write(HEAD)
    assert recorder.writes == []  # held for the body
    transport.write(b"{}")
    transport.write(HEAD)
    transport.write(b"")  # a 304's empty body
    assert recorder.writes == [HEAD + b"{}", HEAD]


def test_heads_without_a_body_leave_at_once():
    for method, head in (("HEAD", HEAD), ("POST", CONTINUE), (None, HEAD)):
        recorder = Recorder()
        OneWriteTransport(recorder, Protocol(method)).write(head)
        assert recorder.writes == [head], method


def test_closing_sends_what_is_held_first():
    recorder = Recorder()
    transport = OneWriteTransport(recorder, Protocol("GET"))
    transport.write(HEAD)
    transport.close()
    assert recorder.writes == [HEAD] and recorder.closed
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1)


def test_a_served_answer_and_a_streamed_asset_arrive_whole(corpus_db):
    with serve("--db", corpus_db) as server:
        answer = httpx.post(server.url, json={"query": "{ stats { articles } }"})
        head = httpx.head(server.base_url + "/healthz")
        page = httpx.get(server.url, headers={"Accept": "text/html"})
    assert answer.json()["data"]["stats"]["articles"] > 0
    assert head.status_code in (200, 405)
    assert "graphiql" in page.text.lower()
