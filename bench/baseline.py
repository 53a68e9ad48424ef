"""The physical limit: a bare Starlette app that answers POST /graphql with
fixed bytes, run by the same uvicorn as newsgraph, so a ratio against it
measures what newsgraph adds on top of HTTP itself.

The benchmark sets the bytes before each measurement (``PUT /_bytes``, one
answer a line) to the answers newsgraph gave for the same query, and the
app answers with each in turn, so both send payloads of the same sizes and
shapes (with values drawn per request, newsgraph's answers differ in size).

    python -m bench.baseline --port 8001 [--http auto|h11|httptools] [--loop auto|asyncio|uvloop]
"""
from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_app() -> Starlette:
    payloads = [b'{"data":null}']
    turn = [0]

    async def answer(request: Request) -> Response:
        # Deliberately neither reads nor parses the request: the floor.
        payload = payloads[turn[0]]
        turn[0] = (turn[0] + 1) % len(payloads)
        return Response(payload, media_type="application/json")

    async def set_bytes(request: Request) -> Response:
        payloads[:] = [line for line in (await request.body()).split(b"\n") if line]
        turn[0] = 0
        return Response(b"", status_code=204)

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(routes=[Route("/graphql", answer, methods=["GET", "POST"]),
                             Route("/_bytes", set_bytes, methods=["PUT"]),
                             Route("/healthz", healthz), Route("/readyz", healthz)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--http", default="auto")
    parser.add_argument("--loop", default="auto")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, http=args.http, loop=args.loop,
                log_level="warning", access_log=False, server_header=False)


if __name__ == "__main__":
    main()
