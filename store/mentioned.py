"""What articles say of providers and topics, worked out again by a patch
(store/membership.py) as the model's build works it out from every article.

The build keeps, per audience, the mentions of providers and topics
(readmodel ``Mentions``: counts, and what the first article in number
order said, with its number). A patch takes the old versions of the
changed articles out of these and puts the new ones in (``mentions``),
then makes again the providers and topics the change names
(``providers``, ``topics``): those whose facts stay are the objects they
were, and one whose facts change is a new object, which the articles
naming it (their own provider, their related items' held in memory, a
profile's affiliation) are copied to name (``repointed``), up to
MAX_REPOINTED of them; so is a topic whose name changes (its first
giver gives another).

What the kept sums cannot say raises ``Rebuild`` with the reason: the
first article to give a provider's name or images, or a topic's name,
removed while older ones still give it and the version needs to know
which is next (which is not kept); a domain that
becomes a platform or stops being one; more articles naming a changed
provider than MAX_REPOINTED.
"""
from __future__ import annotations

from collections import Counter

from .events import Event
from .objects import Article, Image, Provider, Topic, _base
from .people import Person, is_profile
from .readmodel import Mentions, ReadModel, _slug, settle
from .rebuild import Rebuild

def refs(article: Article) -> list[tuple[str, str | None, str]]:
    """(domain, name as given, provider key) of every provider the article names."""
    refs = []
    if article.provider is not None:
        refs.append((article.provider.domain, article.provider_name, article.provider.key))
    for item in article.related:
        if item.provider is not None:
            refs.append((item.provider.domain, item.provider_name, item.provider.key))
    person = article.person
    if person is not None and person.affiliation is not None:
        refs.append((person.affiliation.domain, person.affiliation_name, person.affiliation.key))
    return refs


def _record_refs(record: dict) -> list[dict]:
    refs = [record.get("provider")] + [r.get("provider") for r in record.get("related") or ()]
    if is_profile(record):
        refs.append(record.get("affiliation"))
    return [ref for ref in refs if ref and ref.get("domain")]


class _Ledger:
    """One side's Mentions, copied as they are changed."""

    def __init__(self, said: Mentions) -> None:
        self.said = copy = Mentions.__new__(Mentions)
        for name, value in vars(said).items():
            setattr(copy, name, type(value)(value))
        self.owned: set[str] = set()

    def names(self, domain: str) -> dict[str, int]:
        names = self.said.names
        if domain not in self.owned:
            self.owned.add(domain)
            names[domain] = dict(names.get(domain, {}))
        return names[domain]


def mentions(model: ReadModel, new: ReadModel, removed: list[Article],
             records: list[tuple[dict, int]]) -> dict[bool, Mentions]:
    """The mentions of the next version (``new``, whose sites resolve the
    records'): those of ``removed`` taken out, those of ``records`` put in."""
    ledgers = {side: _Ledger(model.mentions[side]) for side in (True, False)}
    lost: set[tuple[bool, tuple, int]] = set()  # first givers taken out: (side, giver key, number)
    topic_counts = _topic_counts(model, removed, records)
    for old in removed:
        ledger = ledgers[old.visible]
        said = ledger.said
        for domain, name, _ in refs(old):
            said.domains[domain] -= 1
            if not said.domains[domain]:
                del said.domains[domain]
            if name:
                names = ledger.names(domain)
                names[name] -= 1
                if not names[name]:
                    del names[name]
                lost.update((old.visible, key, old.num) for key in (("n", domain, name), ("ni", domain, name))
                            if said.givers.get(key) == old.num)
            if said.givers.get(("i", domain)) == old.num:
                lost.add((old.visible, ("i", domain), old.num))
        for topic in old.topics:
            if said.givers.get(("t", topic.slug)) == old.num:
                lost.add((old.visible, ("t", topic.slug), old.num))
    for side, key, _ in lost:  # what they gave goes with them (given again below, or checked)
        said = ledgers[side].said
        del said.givers[key]
        if key[0] == "i":
            said.images.pop(key[1], None)
        elif key[0] == "ni":
            said.name_images.pop(key[1:], None)
        elif key[0] == "t":
            said.topic_names.pop(key[1], None)
    touched: set[tuple[bool, str]] = set()
    for record, num in records:
        visible = _visible(record)
        ledger = ledgers[visible]
        said = ledger.said
        base = _base(new.site_of(record) if new._site_roots else None)
        for ref in _record_refs(record):
            domain, name = ref["domain"], ref.get("name")
            said.domains[domain] = said.domains.get(domain, 0) + 1
            if name:
                names = ledger.names(domain)
                names[name] = names.get(name, 0) + 1
                _give(said, ("n", domain, name), num)
                touched.add((visible, domain))
            if ref.get("images"):
                if _give(said, ("i", domain), num):
                    said.images[domain] = [Image(i, base) for i in ref["images"]]
                if name and _give(said, ("ni", domain, name), num):
                    said.name_images[(domain, name)] = [Image(i, base) for i in ref["images"]]
        for name in record.get("topics") or ():
            if _give(said, ("t", _slug(name)), num):
                said.topic_names[_slug(name)] = name
    for side, key, num in lost:
        said = ledgers[side].said
        given = said.givers.get(key)
        if given is not None and given <= num:
            continue  # given again by the same article, still the first
        if key[0] == "t":
            left = topic_counts[side][key[1]]
        elif key[0] == "i":
            left = said.domains.get(key[1], 0)
        else:
            left = said.names.get(key[1], {}).get(key[2], 0)
        if left > _given_by(records, side, key):
            # Older articles give it too, and which of them is first is not
            # kept: a version that needs it is built whole (providers, topics).
            said.givers.pop(key, None)
            said.unknown.add(key)
    for side, domain in touched:  # names in the order first given, as the build has them
        said = ledgers[side].said
        names = said.names.get(domain)
        if names and all(("n", domain, name) in said.givers for name in names):
            said.names[domain] = dict(sorted(names.items(), key=lambda kv: said.givers[("n", domain, kv[0])]))
    for ledger in ledgers.values():
        said = ledger.said
        for domain in [d for d in ledger.owned if not said.names.get(d)]:
            said.names.pop(domain, None)
    return {side: ledger.said for side, ledger in ledgers.items()}


def _give(said: Mentions, key: tuple, num: int) -> bool:
    """Whether the article numbered ``num`` is now the first to give ``key``."""
    given = said.givers.get(key)
    if key in said.unknown:
        return False
    if given is None or given > num:
        said.givers[key] = num
        return True
    return False


def _given_by(records: list[tuple[dict, int]], side: bool, key: tuple) -> int:
    """How many of ``records`` (on ``side``) give ``key``'s thing."""
    count = 0
    for record, _ in records:
        if _visible(record) != side:
            continue
        if key[0] == "t":
            count += any(_slug(n) == key[1] for n in record.get("topics") or ())
        else:
            for ref in _record_refs(record):
                if ref["domain"] == key[1] and (key[0] == "i" or ref.get("name") == key[2]):
                    count += 1
    return count


def _said(key: tuple) -> str:
    kind = {"n": "the name {2!r} of provider {1}", "ni": "the images of {2!r} of provider {1}",
            "i": "the images of provider {1}", "t": "the name of topic {1}"}[key[0]]
    return kind.format(*key)


def _visible(record: dict) -> bool:
    return bool(record.get("published", True)) and not record.get("removed")


def _topic_counts(model: ReadModel, removed: list[Article], records: list[tuple[dict, int]]) -> dict:
    """Per side, a counter of articles per topic slug in the next version,
    for the slugs the change names (others read 0)."""
    counts = {True: Counter(), False: Counter()}
    public, preview = model.public.by_topic, model.preview.by_topic
    slugs = {t.slug for a in removed for t in a.topics} | \
        {_slug(n) for r, _ in records for n in r.get("topics") or ()}
    for slug in slugs:
        counts[True][slug] = len(public.get(slug, ()))
        counts[False][slug] = len(preview.get(slug, ())) - counts[True][slug]
    for old in removed:
        for topic in old.topics:
            counts[old.visible][topic.slug] -= 1
    for record, _ in records:
        for slug in {_slug(n) for n in record.get("topics") or ()}:
            counts[_visible(record)][slug] += 1
    return counts


def _image_facts(images) -> list:
    return [(i.url, i.path, i.width, i.height, i.title, i.is_cached, i.extra) for i in images]


def _facts(p: Provider) -> tuple:
    return (p.key, p.domain, p.name, p.names, _image_facts(p.images), p.description, p.extra, p._declared)


def providers(model: ReadModel, new: ReadModel, removed: list[Article],
               records: list[tuple[dict, int]]) -> dict[str, Provider]:
    """The providers of the domains the change names, worked out again as
    the build would; those whose facts stay are the objects they were.
    Returns those whose facts change, by key: new objects."""
    domains = {domain for old in removed for domain, _, _ in refs(old)} | \
        {ref["domain"] for record, _ in records for ref in _record_refs(record)}
    changed: dict[str, Provider] = {}
    if not domains:
        return changed
    public, hidden = new.mentions[True], new.mentions[False]
    providers, platforms = dict(model.providers), dict(model._platforms)
    for domain in sorted(domains):
        before = [p for p in (model.providers.get(domain),) if p is not None] + \
            list(model._platforms.get(domain, {}).values())
        for provider in before:
            del providers[provider.key]
        platforms.pop(domain, None)
        if domain not in model.organisations and not public.domains.get(domain) and not hidden.domains.get(domain):
            continue  # no article names it any more
        fresh = Provider(domain)
        if domain in model.organisations:
            fresh.name, fresh.images, fresh.description, fresh.extra = model.organisations[domain]
            fresh._declared = True
        per_name = settle(fresh, public, hidden)
        read = [public if domain in model.organisations or public.domains.get(domain) else hidden]
        if per_name:
            read = [public, hidden]
        unknown = next((key for said in read for key in said.unknown if key[1] == domain), None)
        if unknown is not None:
            raise Rebuild(f"the article that first gave {_said(unknown)} was taken out, and others give it")
        if before and bool(per_name) != (domain in model._platforms):
            raise Rebuild(f"domain {domain} {'becomes' if per_name else 'is no longer'} a platform")
        made = [fresh] + list((per_name or {}).values())
        kept = {}
        for provider in made:
            old = model.providers.get(provider.key)
            if old is not None and _facts(old) != _facts(provider):
                changed[provider.key] = old = provider
            kept[provider.key] = old if old is not None else provider
            providers[provider.key] = kept[provider.key]
        if per_name:
            platforms[domain] = {name: kept[p.key] for name, p in per_name.items()}
    new.providers, new._platforms = providers, platforms
    return changed


# A provider whose facts change is a new object: the articles naming it are
# copied to name it, up to this many; beyond, the model is built whole.
MAX_REPOINTED = 2000


def repointed(model: ReadModel, changed: dict[str, Provider], skip: set[int],
              renamed: dict[str, Topic]) -> list[tuple[Article, Article]]:
    """(old, copy) of every article naming a provider of ``changed`` (its
    own, its related items' kept in memory, its profile's affiliation) or
    a topic of ``renamed``, but those numbered in ``skip``; each copy names
    the new provider or topic."""
    holders: dict[int, Article] = {}
    for key in changed:
        holders.update((a.num, a) for a in model.preview.by_provider.get(key, ()))
    for slug in renamed:
        holders.update((a.num, a) for a in model.preview.by_topic.get(slug, ()))
    if changed:
        holders.update((p.article.num, p.article) for p in model.people
                       if p.affiliation is not None and p.affiliation.key in changed)
        for article in model.all_articles:  # details read from the store resolve providers by key: none
            details = article._details
            if details is not None and any(i.provider is not None and i.provider.key in changed
                                           for i in details.related):
                holders[article.num] = article
            if len(holders) > MAX_REPOINTED:
                break
    for num in skip:
        holders.pop(num, None)
    if len(holders) > MAX_REPOINTED:
        what = f"provider {min(changed)}" if changed else f"topic {min(renamed)}"
        raise Rebuild(f"what articles say of {what} changes, and more than {MAX_REPOINTED} articles name it")
    pairs = []
    for old in holders.values():
        copy = copied(old)
        repoint(copy, changed, renamed)
        pairs.append((old, copy))
    return pairs


def repoint(article: Article, changed: dict[str, Provider], renamed: dict[str, Topic]) -> None:
    """Make ``article`` (a copy of its own) name the providers of
    ``changed`` and the topics of ``renamed``."""
    if any(t.slug in renamed for t in article.topics):
        article.topics = [renamed.get(t.slug, t) for t in article.topics]
    if article.provider is not None and article.provider.key in changed:
        article.provider = changed[article.provider.key]
    person = article.person
    if person is not None and person.affiliation is not None and person.affiliation.key in changed:
        person.affiliation = changed[person.affiliation.key]
    details = article._details
    if details is not None and any(i.provider is not None and i.provider.key in changed for i in details.related):
        details = article._details = _slots_copy(details)
        details.related = [item for item in details.related]
        for n, item in enumerate(details.related):
            if item.provider is not None and item.provider.key in changed:
                item = details.related[n] = _slots_copy(item)
                item.provider = changed[item.provider.key]


def _slots_copy(obj):
    copy = type(obj).__new__(type(obj))
    for name in type(obj).__slots__:
        if hasattr(obj, name):
            setattr(copy, name, getattr(obj, name))
    return copy


def topics(model: ReadModel, new: ReadModel, removed: list[Article],
           records: list[tuple[dict, int]]) -> dict[str, Topic]:
    """The topics of the slugs the change names, worked out again as the
    build would; returns those named anew (their first giver's name
    changed), by slug: new objects, which the articles naming them are
    copied to name (``repointed``)."""
    counts = _topic_counts(model, removed, records)
    slugs = set(counts[True]) | set(counts[False])
    renamed: dict[str, Topic] = {}
    if not slugs:
        return renamed
    topics = dict(model.topics)
    public, hidden = new.mentions[True], new.mentions[False]
    for slug in sorted(slugs):
        old = model.topics.get(slug)
        if old is not None and old._declared:
            continue
        if not counts[True][slug] + counts[False][slug]:
            topics.pop(slug, None)
            continue
        said = public if counts[True][slug] else hidden
        if ("t", slug) in said.unknown:
            raise Rebuild(f"the article that first gave {_said(('t', slug))} was taken out, and others give it")
        name = said.topic_names[slug]
        if old is None:
            topics[slug] = Topic(slug, name)
        elif old.name != name:
            topics[slug] = renamed[slug] = Topic(slug, name)
    new.topics = topics
    return renamed



def copied(article: Article) -> Article:
    """A copy of ``article`` to give other links; its person and event too."""
    copy = Article.__new__(Article)
    for name in Article.__slots__:
        if hasattr(article, name):
            setattr(copy, name, getattr(article, name))
    for kind, cls in (("person", Person), ("event", Event)):
        typed = getattr(article, kind)
        if typed is not None:
            other = cls.__new__(cls)
            for name in cls.__slots__:
                if hasattr(typed, name):
                    setattr(other, name, getattr(typed, name))
            other.article = copy
            setattr(copy, kind, other)
    return copy
