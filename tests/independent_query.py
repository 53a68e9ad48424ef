"""The test suite's own answer to a query: the corpus read with
tests/independent.py (PyYAML, no project code) into plain rows, and filters,
orderings and counts written the obvious way, so the API can be compared
against something that shares none of its code."""
from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from tests.independent import front_matter, iso, slug, visible

ARTICLE_SUFFIXES = (".md", ".html", ".txt")


@dataclass
class Row:
    id: str
    collection: str
    title: str
    excerpt: str | None
    body: str
    type: str
    published_at: dt.datetime | None
    quality: int | None
    heat: int | None
    visible: bool
    domain: str | None
    provider_name: str | None     # as the article gives it
    canonical_name: str | None    # the provider's own name
    provider_key: str | None      # its identity: the domain, or domain/slug on a platform
    topics: list[str] = field(default_factory=list)   # names as written
    images: int = 0
    related: int = 0
    related_domains: set[str] = field(default_factory=set)
    related_keys: set[str] = field(default_factory=set)   # their providers' keys

    @property
    def topic_slugs(self) -> set[str]:
        return {slug(t) for t in self.topics}

    @property
    def month(self) -> str | None:
        return self.published_at.strftime("%Y-%m") if self.published_at else None


def _article_files(site: Path):
    """(collection, path inside the collection folder, path) of every article file."""
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path.suffix not in ARTICLE_SUFFIXES:
            continue
        rel = path.relative_to(site)
        top = rel.parts[0]
        if len(rel.parts) > 1 and top.startswith("_") and top != "_data":
            yield top[1:], Path(*rel.parts[1:]), path
        elif len(rel.parts) == 1:
            yield "news", rel, path


class Providers:
    """Who published, the way the spec says it: a domain is one provider,
    named by its organization file, else by the name articles and related
    items give it most often; but a domain no organization file describes
    whose mentions give several names (compared as slugs) is a platform,
    and each name is a provider keyed ``domain/slug``. Published articles'
    mentions decide for every domain they name; unpublished ones only for
    domains no published article names."""

    def __init__(self, sites: tuple[Path, ...], documents: list[dict]) -> None:
        self.declared = {}
        for site in sites:
            for path in sorted((site / "_data" / "organizations").glob("*.md")):
                data, _ = front_matter(path)
                self.declared[(data.get("domain") or data.get("_id") or path.stem).lower()] = data["name"]
        seen = {True: {}, False: {}}  # published? -> domain -> name -> count
        for data in documents:
            said = seen[visible(data)]
            for ref in [data.get("provider")] + [r.get("provider") for r in data.get("related") or []]:
                if ref and ref.get("domain"):
                    counts = said.setdefault(ref["domain"].lower(), {})
                    if ref.get("name"):
                        counts[ref["name"]] = counts.get(ref["name"], 0) + 1
        self.names = {domain: seen[True][domain] if domain in seen[True] else seen[False][domain]
                      for domain in seen[True].keys() | seen[False].keys()}
        self.platforms = {domain for domain, counts in self.names.items()
                          if domain not in self.declared and len({slug(n) for n in counts}) > 1}

    def key(self, domain: str | None, name: str | None) -> str | None:
        if not domain:
            return None
        return f"{domain}/{slug(name)}" if domain in self.platforms and name else domain

    def name(self, domain: str | None, name: str | None) -> str | None:
        """The provider's own name."""
        if not domain:
            return None
        if domain in self.declared:
            return self.declared[domain]
        counts = self.names.get(domain) or {}
        if domain in self.platforms and name:
            counts = {n: c for n, c in counts.items() if slug(n) == slug(name)} or {name: 1}
        return max(counts, key=counts.get) if counts else domain


def read_rows(*sites: Path) -> list[Row]:
    files = [(collection, inner, *front_matter(path))
             for site in sites for collection, inner, path in _article_files(site)]
    providers = Providers(sites, [data for _, _, data, _ in files])
    rows = []
    for collection, inner, data, body in files:
        provider = data.get("provider") or {}
        when = iso(data.get("publishedDateTime"))
        rows.append(Row(
            id=f"{collection}/{inner.with_suffix('').as_posix()}",
            collection=collection,
            title=str(data.get("title") or data.get("name") or inner.stem),
            excerpt=data.get("excerpt"),
            body=body,
            type=data.get("type") or "article",
            published_at=dt.datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None,
            quality=data.get("quality"),
            heat=data.get("heat"),
            visible=visible(data),
            domain=(provider.get("domain") or "").lower() or None,
            provider_name=provider.get("name"),
            canonical_name=providers.name((provider.get("domain") or "").lower() or None, provider.get("name")),
            provider_key=providers.key((provider.get("domain") or "").lower() or None, provider.get("name")),
            topics=list(dict.fromkeys(data.get("topics") or [])),
            images=len(data.get("images") or []),
            related=len(data.get("related") or []),
            related_domains={((r.get("provider") or {}).get("domain") or "").lower()
                             for r in data.get("related") or []} - {""},
            related_keys={providers.key(((r.get("provider") or {}).get("domain") or "").lower() or None,
                                        (r.get("provider") or {}).get("name"))
                          for r in data.get("related") or []} - {None},
        ))
    return rows


# --- filters -----------------------------------------------------------------

def _string(spec: dict, value) -> bool:
    folded = value.lower() if isinstance(value, str) else None
    checks = {
        "eq": lambda x: value == x,
        "ne": lambda x: value != x,
        "in": lambda x: value in x,
        "notIn": lambda x: value not in x,
        "contains": lambda x: folded is not None and x.lower() in folded,
        "startsWith": lambda x: folded is not None and folded.startswith(x.lower()),
        "endsWith": lambda x: folded is not None and folded.endswith(x.lower()),
    }
    return all(checks[op](arg) for op, arg in spec.items())


def _int(spec: dict, value) -> bool:
    checks = {
        "eq": lambda x: value == x,
        "ne": lambda x: value != x,
        "in": lambda x: value in x,
        "gt": lambda x: value is not None and value > x,
        "gte": lambda x: value is not None and value >= x,
        "lt": lambda x: value is not None and value < x,
        "lte": lambda x: value is not None and value <= x,
    }
    return all(checks[op](arg) for op, arg in spec.items())


_DAYS = re.compile(r"^P(\d+)D$")


def _date(spec: dict, value: dt.datetime | None, now: dt.datetime) -> bool:
    bounds = {}
    for op, arg in spec.items():
        if op == "within":
            days = int(_DAYS.match(arg).group(1))  # the tests only use whole days
            bounds.setdefault("gte_w", now - dt.timedelta(days=days))
            bounds["lte_w"] = now
        else:
            bounds[op] = dt.datetime.fromisoformat(arg.replace("Z", "+00:00"))
    if value is None:
        return False
    checks = {
        "eq": lambda x: value == x, "gt": lambda x: value > x, "gte": lambda x: value >= x,
        "lt": lambda x: value < x, "lte": lambda x: value <= x,
        "gte_w": lambda x: value >= x, "lte_w": lambda x: value <= x,
    }
    return all(checks[op](arg) for op, arg in bounds.items())


def matches(row: Row, where: dict | None, now: dt.datetime) -> bool:
    for key, spec in (where or {}).items():
        if key == "AND":
            ok = all(matches(row, w, now) for w in spec)
        elif key == "OR":
            ok = any(matches(row, w, now) for w in spec)
        elif key == "NOT":
            ok = not matches(row, spec, now)
        elif key in ("id", "title", "excerpt", "type", "collection"):
            ok = _string(spec, getattr(row, key))
        elif key in ("quality", "heat"):
            ok = _int(spec, getattr(row, key))
        elif key == "publishedAt":
            ok = _date(spec, row.published_at, now)
        elif key == "published":
            ok = row.visible == spec
        elif key == "provider":
            ok = (_string(spec.get("domain", {}), row.domain)
                  and _string(spec.get("key", {}), row.provider_key)
                  and _provider_name(spec.get("name", {}), row))
        elif key == "topics":
            ok = _topics(spec, row)
        elif key == "hasImages":
            ok = (row.images > 0) == spec
        elif key == "hasRelated":
            ok = (row.related > 0) == spec
        elif key == "text":
            ok = _text(spec, row)
        else:
            raise AssertionError(f"the independent reader has no filter {key}")
        if not ok:
            return False
    return True


def _provider_name(spec: dict, row: Row) -> bool:
    """The provider answers to the article's name for it and to its own: a
    positive condition needs one of them, a negative one (ne, notIn) both."""
    names = {row.provider_name, row.canonical_name} - {None} or {None}
    negative = {"ne", "notIn"}
    tests = [(op in negative, {op: arg}) for op, arg in spec.items()]
    return all((all if both else any)(_string(test, n) for n in names) for both, test in tests)


def _topics(spec: dict, row: Row) -> bool:
    have = row.topic_slugs
    wanted = {op: {slug(n) for n in names} for op, names in spec.items()}
    return (("some" not in wanted or bool(wanted["some"] & have))
            and wanted.get("every", set()) <= have
            and not wanted.get("none", set()) & have)


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c)).lower()


def _text(query: str, row: Row) -> bool:
    """Every word of the query is a word of the title, excerpt, body,
    provider name or a topic name (HTML tags are not words)."""
    words = set()
    body = re.sub(r"<[^>]*>", " ", row.body)
    names = (row.provider_name or "", row.canonical_name or "")
    for part in (row.title, row.excerpt or "", body, *names, *row.topics):
        words.update(re.findall(r"[^\W_]+", fold(part)))
    return all(w in words for w in re.findall(r"[^\W_]+", fold(query)))


# --- ordering ----------------------------------------------------------------

SORT_VALUES = {
    "PUBLISHED_AT": lambda r: r.published_at,
    "HEAT": lambda r: r.heat,
    "QUALITY": lambda r: r.quality,
    "TITLE": lambda r: r.title.lower(),
}


def ordered(rows: list[Row], order: list[tuple[str, str]] | None) -> list[Row]:
    """Stable sorts from the last key to the first: ties by id ascending,
    and rows missing a key moved behind the others whichever the direction."""
    order = order or [("PUBLISHED_AT", "DESC")]
    result = sorted(rows, key=lambda r: r.id)
    for field_name, direction in reversed(order):
        value = SORT_VALUES[field_name]
        present = [r for r in result if value(r) is not None]
        missing = [r for r in result if value(r) is None]
        present.sort(key=value, reverse=direction == "DESC")
        result = present + missing
    return result


def select(rows: list[Row], where: dict | None, order, now: dt.datetime) -> list[str]:
    """Ids of the public rows matching ``where`` in the asked order."""
    kept = [r for r in rows if r.visible and matches(r, where, now)]
    return [r.id for r in ordered(kept, order)]


@functools.cache
def corpus_rows() -> tuple[Row, ...]:
    """The corpus the ``corpus_db`` fixture loads, read once per session."""
    from tests.conftest import AZURE, POWER_APPS, SEED
    return tuple(read_rows(POWER_APPS, AZURE, SEED))
