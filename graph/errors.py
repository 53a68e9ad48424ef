"""Error codes of the API and the HTTP error shape.

Every error an answer carries has ``extensions.code``; unexpected failures
become ``INTERNAL`` with a request id that is also in the server log, so no
stack trace or path reaches a client.
"""
from __future__ import annotations

from graphql import GraphQLError

BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
INTERNAL = "INTERNAL"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
UNAUTHENTICATED = "UNAUTHENTICATED"
TIMEOUT = "TIMEOUT"
UNAVAILABLE = "UNAVAILABLE"  # 503: the server is still loading its data


class UserInputError(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": BAD_USER_INPUT})


class TooComplexError(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": QUERY_TOO_COMPLEX})


class HttpError(Exception):
    """A request refused before GraphQL runs; carries its status and code."""

    status = 400
    code = BAD_USER_INPUT

    def __init__(self, message: str, status: int | None = None, code: str | None = None,
                 headers: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def body(self) -> dict:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}
