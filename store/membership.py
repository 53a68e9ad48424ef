"""A patch that adds articles, removes them, or changes what other objects
depend on (store/patching.py calls it when a new version does that).

What the model's build works out from every article is kept with the
model, in the form a change can be applied to: the mentions of providers
and topics (readmodel ``Mentions``: counts, and what the first article in
number order said, with its number), each view's lists and how often its
articles name each provider (``View.provider_refs``), the digests of the
URLs related items link to (``ReadModel.linked_urls``). A patch takes the
changed articles' old versions out of these and puts the new ones in,
works out again the providers and topics they name, and makes the next
version as store/patching.py does: copies of the containers a change
touches, every unchanged object shared. An article that a change links
to or from (``related_from_all``) is copied with its new links; a
provider or topic is shared while what the build would make of it is
what it was, and made anew when the change names it first.

A provider whose facts change (its name, its names in order, its images)
is a new object, and the articles naming it (their own provider, their
related items' held in memory, a profile's affiliation) are copied to
name it, up to MAX_REPOINTED of them.

What the kept sums cannot say builds the model whole (``Rebuild``, with
the reason): the first article to give a provider's name or images, or a
topic's name, removed while older ones still give it and the version
needs to know which is next (which is not kept); a topic named anew; a
domain that becomes a platform or stops being one; more articles naming
a changed provider than MAX_REPOINTED; a URL two articles give, or one
that related items link to given by an added article; playlists and what
they list.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import Counter, defaultdict
from threading import Lock

from .events import Event
from .layered import Layered
from .numbersets import NumberSet
from .people import Person, is_profile
from .playlists import item_names
from .objects import Article, Image, Provider, Topic, _base, default_key
from .readmodel import Mentions, ReadModel, _slug, settle
from .urls import url_digest, url_key
from .view import View, _collections


class Rebuild(Exception):
    """The new version cannot be patched in; the message says why."""


def reshaped(model: ReadModel, new: ReadModel, records: list[tuple[dict, int]], removed: list[Article],
             pairs: list[tuple[Article, Article]], make) -> tuple[list[Article], list[Article]]:
    """Make ``new`` (a copy of ``model``'s attributes, with the new
    version's meta) the model with ``records`` (record, number: added, or
    replacing the article of that number in ``removed``) put in, the
    articles of ``removed`` taken out, and ``pairs`` (old, new: changes
    that touch nothing else) in place. ``make(model, record, num)`` makes
    an article. Returns every article taken out and every one put in."""
    for record, _ in records:
        if item_names(record):
            raise Rebuild(f"playlist {record['id']!r} changed")
    for old in removed:
        if old.items_all or old.playlists_all:
            raise Rebuild(f"article {old.id!r} is in a playlist")
    replaced = {old.num: old for old in removed}
    new.mentions = _mentions(model, removed, records)
    changed = _providers(model, new, removed, records)
    _topics(model, new, removed, records)
    if changed:
        for _, mine in pairs:
            _repoint(mine, changed)
        pairs = pairs + _repointed(model, changed, {a.num for a in removed} | {o.num for o, _ in pairs})
    made = []
    for record, num in records:
        article = make(new, record, num)
        if article.id in model.playlist_names or any(k in model.playlist_names for k in _keys(article)):
            raise Rebuild(f"a playlist names article {article.id!r}")
        made.append(article)
    moved = [(old, mine) for old, mine in pairs if default_key(old) != default_key(mine)]
    _check_urls(model, removed, made, replaced, moved)
    outs = list(removed) + [old for old, _ in pairs]
    ins = made + [mine for _, mine in pairs]
    targets = _links(model, removed + [old for old, _ in moved], made + [mine for _, mine in moved],
                     {a.num: a for a in ins}, replaced)
    for num, found in targets.items():
        article = next((a for a in ins if a.num == num), None)
        if article is None:
            old = model.indexes.by_num[num]
            article = _copied(old)
            outs.append(old)
            ins.append(article)
        article.related_from_all = found
    if any(a.related for a in made):
        new.linked_urls = model.linked_urls | NumberSet(url_digest(url_key(i.url)) for a in made
                                                        for i in a.related if i.url)
    return outs, ins


def _keys(article: Article) -> list[str]:
    return [url_key(u) for u in article.urls()]


# --- what articles say of providers and topics ------------------------------------------

def _refs(article: Article) -> list[tuple[str, str | None, str]]:
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


def _mentions(model: ReadModel, removed: list[Article], records: list[tuple[dict, int]]) -> dict[bool, Mentions]:
    """The mentions of the next version: those of ``removed`` taken out,
    those of ``records`` put in."""
    ledgers = {side: _Ledger(model.mentions[side]) for side in (True, False)}
    lost: set[tuple[bool, tuple, int]] = set()  # first givers taken out: (side, giver key, number)
    topic_counts = _topic_counts(model, removed, records)
    for old in removed:
        ledger = ledgers[old.visible]
        said = ledger.said
        for domain, name, _ in _refs(old):
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
        base = _base(model.site_of(record) if model._site_roots else None)
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
            # kept: a version that needs it is built whole (_providers, _topics).
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


def _providers(model: ReadModel, new: ReadModel, removed: list[Article],
               records: list[tuple[dict, int]]) -> dict[str, Provider]:
    """The providers of the domains the change names, worked out again as
    the build would; those whose facts stay are the objects they were.
    Returns those whose facts change, by key: new objects."""
    domains = {domain for old in removed for domain, _, _ in _refs(old)} | \
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


def _repointed(model: ReadModel, changed: dict[str, Provider], skip: set[int]) -> list[tuple[Article, Article]]:
    """(old, copy) of every article naming a provider of ``changed`` (its
    own, its related items' kept in memory, its profile's affiliation),
    but those numbered in ``skip``; each copy names the new provider."""
    holders: dict[int, Article] = {}
    for key in changed:
        holders.update((a.num, a) for a in model.preview.by_provider.get(key, ()))
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
        raise Rebuild(f"what articles say of provider {min(changed)} changes, and more than "
                      f"{MAX_REPOINTED} articles name it")
    pairs = []
    for old in holders.values():
        copy = _copied(old)
        _repoint(copy, changed)
        pairs.append((old, copy))
    return pairs


def _repoint(article: Article, changed: dict[str, Provider]) -> None:
    """Make ``article`` (a copy of its own) name the providers of ``changed``."""
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


def _topics(model: ReadModel, new: ReadModel, removed: list[Article], records: list[tuple[dict, int]]) -> None:
    counts = _topic_counts(model, removed, records)
    slugs = set(counts[True]) | set(counts[False])
    if not slugs:
        return
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
            raise Rebuild(f"topic {slug} is named {name!r} now")
    new.topics = topics


# --- URLs and links ------------------------------------------------------------------

def _check_urls(model: ReadModel, removed: list[Article], made: list[Article], replaced: dict,
                moved: list) -> None:
    """Which article owns a URL, and which articles link to an article,
    stay what patching them says (see the module's docstring)."""
    shared = model.shared_urls
    for old in removed + [old for old, _ in moved]:
        if shared and any(k in shared for k in _keys(old)):
            raise Rebuild(f"article {old.id!r} shares a URL with another")
    owners = model.preview.by_url
    seen: dict[str, Article] = {}
    for article in made:
        old = replaced.get(article.num)
        keys = _keys(article)
        same = old is not None and keys == _keys(old)
        if old is not None and not same and old.related_from_all:
            raise Rebuild(f"article {old.id!r}, which others link to, changed its URLs")
        for key in keys:
            owner = owners.get(key)
            if (owner is not None and owner.num not in replaced) or seen.setdefault(key, article) is not article:
                raise Rebuild(f"article {article.id!r} shares a URL with another")
            if not same and url_digest(key) in model.linked_urls:
                raise Rebuild(f"related items link to the URL of article {article.id!r}")
        if same:
            article.related_from_all = old.related_from_all


def _links(model: ReadModel, outs: list[Article], ins: list[Article], new_by_num: dict,
           replaced: dict) -> dict[int, tuple[int, ...]]:
    """The articles whose ``related_from_all`` change, by number, with the
    new links: those of ``outs`` taken out, those of ``ins`` put in, in the
    default order of the articles linking (as the build lists them)."""
    by_num = model.indexes.by_num
    owners = model.preview.by_url
    gone = {a.num for a in outs} - {a.num for a in ins}
    lists: dict[int, list[int]] = {}

    def current(num: int) -> list[int]:
        if num not in lists:
            article = new_by_num.get(num) or by_num[num]
            lists[num] = list(article.related_from_all)
        return lists[num]

    for old in outs:
        for item in old.related:
            target = owners.get(url_key(item.url)) if item.url else None
            if target is not None and target.num != old.num and target.num not in gone:
                current(target.num).remove(old.num)
    new_owners = {key: a.num for a in ins for key in _keys(a)}
    final = lambda num: new_by_num.get(num) or by_num[num]  # noqa: E731
    for article in ins:
        for item in article.related:
            if not item.url:
                continue
            key = url_key(item.url)
            num = new_owners.get(key)
            if num is None:
                owner = owners.get(key)
                num = owner.num if owner is not None and owner.num not in replaced else None
            if num is not None and num != article.num and num not in gone:
                found = current(num)
                found.insert(bisect_right(found, default_key(article), key=lambda n: default_key(final(n))),
                             article.num)
    return {num: tuple(found) for num, found in lists.items()
            if tuple(found) != final(num).related_from_all}


def _copied(article: Article) -> Article:
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


# --- views ---------------------------------------------------------------------------

def view(old: View, model: ReadModel, outs: list[Article], ins: list[Article], lists, typed) -> View:
    """The view of the next version with ``outs`` taken out and ``ins`` put
    in (those this audience sees)."""
    if not old.preview:
        outs = [a for a in outs if a.visible]
        ins = [a for a in ins if a.visible]
    new = View.__new__(View)
    vars(new).update(vars(old))
    new.model = model
    new.cache_lock, new.cache = Lock(), {}
    out_set = set(outs)
    new.articles = _moved(old.articles, outs, ins)
    new.by_id = Layered.of(old.by_id).patched([a.id for a in outs], {a.id: a for a in ins})
    # A URL stays its owner's (an article changed keeps the keys it owned;
    # one added owns keys no other article gives: _check_urls).
    owners = old.by_url
    new.by_url = Layered.of(owners).patched(
        [key for a in outs for key in _keys(a) if owners.get(key) is a],
        {key: a for a in ins for key in _keys(a) if owners.get(key, a) is a or owners.get(key) in out_set})
    for name, keys_of in lists:
        found = dict(getattr(old, name))
        changed = {key for a in outs for key in keys_of(a)} | {key for a in ins for key in keys_of(a)}
        for key in changed:
            items = _moved(found.get(key, []), [a for a in outs if key in keys_of(a)],
                           [a for a in ins if key in keys_of(a)])
            if items:
                found[key] = items
            else:
                found.pop(key, None)
        setattr(new, name, keyed_in_order(found, keys_of))
    new.provider_counts = {key: len(items) for key, items in new.by_provider.items()}
    new.topic_counts = {slug: len(items) for slug, items in new.by_topic.items()}
    refs = dict(old.provider_refs)
    for article in outs:
        for _, _, key in _refs(article):
            refs[key] -= 1
            if not refs[key]:
                del refs[key]
    for article in ins:
        for _, _, key in _refs(article):
            refs[key] = refs.get(key, 0) + 1
    new.provider_refs = refs
    providers = {k: p for k, p in model.providers.items() if p._declared}
    providers.update((k, model.providers[k]) for k in refs)
    new.providers = dict(sorted(providers.items()))
    new.providers_by_domain = defaultdict(list)
    for provider in new.providers.values():
        new.providers_by_domain[provider.domain].append(provider)
    topics = {s: t for s, t in model.topics.items() if t._declared}
    topics.update((s, model.topics[s]) for s in new.by_topic)
    new.topics = dict(sorted(topics.items()))
    new.sites = {name: model.sites[name] for name in sorted(new.by_site)}
    touched = {a.site.name for a in outs + ins if a.site is not None}
    new.site_collections = {name: _collections(site, new.by_site[name]) if name in touched
                            else old.site_collections[name] for name, site in new.sites.items()}
    new.related_count = old.related_count + sum(a.related_count for a in ins) - sum(a.related_count for a in outs)
    new.people, new.events, new.playlists = typed(model, old.preview)
    new.people_by_id = {p.id: p for p in new.people}
    new.events_by_id = {e.id: e for e in new.events}
    return new


def keyed_in_order(lists: dict, keys_of) -> defaultdict:
    """``lists`` keyed as the build fills them: in the default order of
    each key's first article, and a key after the article's earlier ones."""
    def order(item):
        first = item[1][0]
        return default_key(first), keys_of(first).index(item[0])
    return defaultdict(list, sorted(lists.items(), key=order))


def _moved(articles: list[Article], outs: list[Article], ins: list[Article]) -> list[Article]:
    """A copy of ``articles`` (in the default order) without ``outs`` and
    with ``ins``, each where the default order puts it."""
    found = list(articles)
    for old in outs:
        at = bisect_left(found, default_key(old), key=default_key)
        if at < len(found) and found[at] is old:
            del found[at]
    for article in ins:
        insort(found, article, key=default_key)
    return found


def typed_lists(model: ReadModel, outs: list[Article], ins: list[Article]) -> None:
    """The model's people, events and playlists of the next version."""
    order = lambda item: default_key(item.article)  # noqa: E731
    gone = {a.person for a in outs if a.person is not None}
    model.people = sorted([p for p in model.people if p not in gone] +
                          [a.person for a in ins if a.person is not None], key=order)
    gone = {a.event for a in outs if a.event is not None}
    model.events = sorted([e for e in model.events if e not in gone] +
                          [a.event for a in ins if a.event is not None], key=order)
    by_num = {a.num: a for a in ins}
    model.playlists = sorted((by_num.get(p.num, p) for p in model.playlists), key=default_key)
