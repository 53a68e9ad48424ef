"""The one way a patch (store/patching.py) says it cannot make the next
version: the caller builds the model whole and logs the reason."""


class Rebuild(Exception):
    """The new version cannot be patched in; the message says why."""
