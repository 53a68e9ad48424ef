"""The physical limit: a bare Starlette app that answers POST /graphql with
fixed bytes, run by the same uvicorn as newsgraph, so a ratio against it
measures what newsgraph adds on top of HTTP itself.

The benchmark sets the bytes before each measurement (``PUT /_bytes``) to
the answer newsgraph gave for the same query, so both send equal payloads.

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
    payload = [b'{"data":null}']

    async def answer(request: Request) -> Response:
        # Deliberately neither reads nor parses the request: the floor.
        return Response(payload[0], media_type="application/json")

    async def set_bytes(request: Request) -> Response:
        payload[0] = await request.body()
        return Response(b"", status_code=204)

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(routes=[Route("/graphql", answer, methods=["GET", "POST"]),
                             Route("/_bytes", set_bytes, methods=["PUT"]),
                             Route("/healthz", healthz)])


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
