"""A patch that adds articles, removes them, or changes what other objects
depend on (store/patching.py calls it when a new version does that).

What the model's build works out from every article is kept with the
model, in the form a change can be applied to: the mentions of providers
and topics (store/mentioned.py), each view's lists and how often its
articles name each provider (``View.provider_refs``), the digests of the
URLs related items link to (``ReadModel.linked_urls``). A patch takes the
changed articles' old versions out of these and puts the new ones in,
works out again the providers and topics they name (store/mentioned.py),
and makes the next version as store/patching.py does: copies of the
containers a change touches, every unchanged object shared. An article
that a change links to or from (``related_from_all``) is copied with its
new links.

What the kept links cannot say builds the model whole (``Rebuild``, with
the reason): a URL two articles give, or one that related items link to
given by an added article; playlists and what they list.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from threading import Lock

from .layered import Layered
from . import mentioned
from .numbersets import NumberSet
from .playlists import item_names
from .objects import Article, default_key
from .readmodel import ReadModel
from .rebuild import Rebuild
from .urls import url_digest, url_key
from .view import View, _collections


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
    new.mentions = mentioned.mentions(model, new, removed, records)
    changed = mentioned.providers(model, new, removed, records)
    renamed = mentioned.topics(model, new, removed, records)
    if changed or renamed:
        for _, mine in pairs:
            mentioned.repoint(mine, changed, renamed)
        pairs = pairs + mentioned.repointed(model, changed, {a.num for a in removed} | {o.num for o, _ in pairs},
                                            renamed)
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
            article = mentioned.copied(old)
            outs.append(old)
            ins.append(article)
        article.related_from_all = found
    if any(a.related for a in made):
        new.linked_urls = model.linked_urls | NumberSet(url_digest(url_key(i.url)) for a in made
                                                        for i in a.related if i.url)
    return outs, ins


def _keys(article: Article) -> list[str]:
    return [url_key(u) for u in article.urls()]



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
        setattr(new, name, keyed_in_order(found, keys_of, getattr(old, name), changed))
    new.provider_counts = {key: len(items) for key, items in new.by_provider.items()}
    new.topic_counts = {slug: len(items) for slug, items in new.by_topic.items()}
    refs = dict(old.provider_refs)
    for article in outs:
        for _, _, key in mentioned.refs(article):
            refs[key] -= 1
            if not refs[key]:
                del refs[key]
    for article in ins:
        for _, _, key in mentioned.refs(article):
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
    new.site_collections = {name: _site_collections(old, new, name, site, outs, ins)
                            for name, site in new.sites.items()}
    new.related_count = old.related_count + sum(a.related_count for a in ins) - sum(a.related_count for a in outs)
    typed(new, old, model)
    return new


def _site_collections(old: View, new: View, name: str, site, outs: list[Article], ins: list[Article]) -> list:
    """The collections of site ``name`` in the new view: the old view's,
    unless an article puts one in that was not there, or takes out the
    last article of one its configuration does not declare (the site's
    articles are read again only then)."""
    before = old.site_collections.get(name)
    if before is None or old.sites.get(name) is not site:
        return _collections(site, new.by_site[name])
    shown = {c.name for c in before}
    if any(a.collection not in shown for a in ins if a.site is site):
        return _collections(site, new.by_site[name])
    declared = {c.name for c in site.collections}
    for collection in {a.collection for a in outs if a.site is site} - declared:
        if not any(a.site is site for a in new.by_collection.get(collection, ())):
            return _collections(site, new.by_site[name])
    return before


def keyed_in_order(lists: dict, keys_of, before: dict | None = None, changed=()) -> defaultdict:
    """``lists`` keyed as the build fills them: in the default order of
    each key's first article, and a key after the article's earlier ones.
    ``before``: the same lists in that order but for the ``changed`` keys,
    which are put again where they go (a search each), not the whole sorted."""
    def order(item):
        first = item[1][0]
        return default_key(first), keys_of(first).index(item[0])
    if before is None:
        return defaultdict(list, sorted(lists.items(), key=order))
    changed = set(changed)
    kept = [(key, items) for key, items in before.items() if key not in changed]
    for key in changed:
        items = lists.get(key)
        if items:
            insort(kept, (key, items), key=order)
    return defaultdict(list, kept)


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
    came = [a.person for a in ins if a.person is not None]
    if gone or came:
        model.people = sorted([p for p in model.people if p not in gone] + came, key=order)
    gone = {a.event for a in outs if a.event is not None}
    came = [a.event for a in ins if a.event is not None]
    if gone or came:
        model.events = sorted([e for e in model.events if e not in gone] + came, key=order)
    by_num = {a.num: a for a in ins}
    if any(p.num in by_num for p in model.playlists):
        model.playlists = sorted((by_num.get(p.num, p) for p in model.playlists), key=default_key)
