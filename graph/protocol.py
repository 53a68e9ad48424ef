"""uvicorn's HTTP protocol, sending each answer's head and body in one write.

uvicorn writes an answer's status line and headers, then its body, in two
writes. A replica killed between the two (SIGKILL, a crash) leaves a
half-sent answer, which no load balancer can retry: HAProxy has already
passed the head on to the client. Its log calls that `SD` (the server
aborted in the data phase): one in fifteen SIGKILLs under wrk's load.
Holding the head until the body's write makes one write of both, so an
answer is sent whole or not at all, and HAProxy retries what was not.
"""
from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_HEAD_END = b"\r\n\r\n"


class OneWriteTransport:
    """A transport that holds an answer's head until its body's write.

    uvicorn writes a body after every head (an empty one for a 304), except
    for HEAD requests and for 1xx answers (`100 Continue`, which the client
    waits for before it sends its body): those heads go at once. A closing
    connection sends what is held first."""

    __slots__ = ("_transport", "_protocol", "_held")

    def __init__(self, transport: asyncio.Transport, protocol) -> None:
        self._transport = transport
        self._protocol = protocol  # its cycle says the request's method
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._held is not None:
            data, self._held = self._held + data, None
        elif data.endswith(_HEAD_END) and data[9:10] != b"1" and self._has_body():
            self._held = data
            return
        self._transport.write(data)

    def _has_body(self) -> bool:
        cycle = self._protocol.cycle
        return cycle is not None and cycle.scope["method"] != "HEAD"

    def flush(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str):
        return getattr(self._transport, name)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(OneWriteTransport(transport, self))
