"""The TinyDB record of a collection and the in-memory read model built from it."""
