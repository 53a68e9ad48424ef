"""URLs compared the way people mean them: the key the views index
articles by and related items find their targets with."""
from __future__ import annotations

import re
import zlib

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


def url_digest(key: str) -> int:
    """A 32-bit digest of a URL key, for sets of many keys kept small."""
    return zlib.crc32(key.encode())


def url_key(url: str) -> str:
    """Match URLs the way people mean them: scheme, ``www.``, fragment and a
    trailing slash do not matter; the host's case does not either."""
    url = url.strip()
    if url.startswith("https://"):  # nearly every URL: no regular expression
        rest = url[8:]
    elif url.startswith("http://"):
        rest = url[7:]
    else:
        rest = _SCHEME.sub("", url)
    rest = rest.split("#", 1)[0]
    host, _, path = rest.partition("/")
    host = host.lower()
    if host.startswith("www."):
        host = host[4:]
    return f"{host}/{path}".rstrip("/")
