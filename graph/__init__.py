"""The GraphQL API: Strawberry schema, limits, and the Starlette app."""
