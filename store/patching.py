"""A new version of the store applied to a read model by patching it with
the records that changed, instead of building it again.

The segments a manifest adds after those a model was made of hold exactly
the records that changed (store/segments.py). A patch reads those alone,
makes their articles, and makes the next version of the model: a new
ReadModel object whose containers (the views' maps and lists, the people,
events and playlists, the planner's indexes) are copies with the changed
articles put in place of the old ones, and whose unchanged articles,
providers, topics and sites are the very objects of the version before.
Nothing shared is changed, so requests still on the version before answer
from it to the end, and the memory a patch adds is the changed articles
and the copied containers, not a second model. The search index of the
new version is the one its load wrote beside the store
(store/searchversions.py), which the caller opens.

An article links to others by number (objects ``Article.related_from_all``),
so replacing one touches no article that links to it. What the rest of the
model derives from an article (its providers' names and images, topics'
names, links, URLs, lists and counts) is summed up in its digest
(readmodel ``signature``); a patch applies a changed article whose digest
is the old one's here, and articles added, removed or changed in their
digest in store/membership.py; a site new to the store comes in with its
articles. What neither can do (organisation or topic files, a known site's
settings changed, a compaction that replaced segments, many versions at
once, and the cases of membership.py and mentioned.py) raises ``Rebuild``
with the reason, and the caller builds the model whole (graph/state.py
logs why).
"""
from __future__ import annotations

from bisect import bisect_left, insort
from collections import defaultdict
from threading import Lock

from . import membership
from .db import Store
from .events import Event, is_event
from .objects import Article, Details, RelatedItem, Site, _base, _date, default_key
from .people import Person, is_profile
from .layered import Layered
from .memory import paused_gc
from .rebuild import Rebuild
from .readmodel import ReadModel, _article_order, _slug, signature
from .segments import Manifest, span_of
from .urls import url_key
from .view import View

# Beyond these a patch is not worth it, or would hold many versions' changes
# at once: the model is built whole.
MAX_SEGMENTS = 16
MAX_ARTICLES = 5000


# No cyclic collection while a patch runs, as while a model is built: its
# copies of the views' lists and the indexes' arrays each hold every
# article, and each collection that met them walked them all (at 100k most
# of a patch's time).
@paused_gc()
def patch(model: ReadModel, store: Store, manifest: Manifest | None = None) -> ReadModel:
    """The model of the store's version named by ``manifest`` (the one in
    place when None), made from ``model`` and the segments added since;
    ``model`` is left as it is. Raises Rebuild."""
    manifest = manifest if manifest is not None else store.manifest()
    if manifest is None:
        raise Rebuild("the store is one file, without segments")
    names = tuple(s["name"] for s in manifest.segments)
    if manifest.meta.get("dataVersion") == model.data_version:
        # The same data (the version is a digest of it), maybe in other files:
        # a compaction merged the segments it was read from. The model is this
        # version as it is; it only learns the files the next patch reads
        # after (read by patches alone, in the one thread applying versions).
        model.segments = names
        return model
    added = _newer(model.segments, manifest)
    if not added:
        raise Rebuild("a new version without a new segment")
    if len(added) > MAX_SEGMENTS:
        raise Rebuild(f"{len(added)} versions behind")
    try:
        changes = store.read_segments(added)
    except FileNotFoundError:
        raise Rebuild("a segment is gone (a compaction replaced it)") from None
    settings = manifest.meta.get("sites") or {}
    if any(settings.get(root) != entry for root, entry in model.site_settings.items()):
        # A site's address or collections shape its articles' answers.
        raise Rebuild("the sites' settings changed")
    if changes.topics or changes.providers or any(t in ("topics", "providers") for t, _ in changes.removed):
        raise Rebuild("organisation or topic files changed")
    nums = changes.articles.nums
    by_id = model.preview.by_id
    removed = [by_id[key] for table, key in changes.removed if table == "articles" and key in by_id]
    if len(changes.articles) + len(removed) > MAX_ARTICLES:
        raise Rebuild(f"{len(changes.articles) + len(removed)} articles changed")
    pairs, records = [], []
    for key in sorted(nums, key=nums.__getitem__):
        old = by_id.get(key)
        record = changes.articles[key]
        if old is None or old.num != nums[key] or signature(record) != old._sig:
            # Added, or a change of what other objects depend on: store/membership.py.
            if old is not None:
                removed.append(old)
            records.append((record, nums[key]))
            continue
        new = article(model, record, old.num)
        new.related_from_all, new.items_all, new.playlists_all = old.related_from_all, old.items_all, old.playlists_all
        pairs.append((old, new))
    if records or removed:
        return _reshaped(model, manifest, names, pairs, records, removed)
    for old, new in pairs:
        if default_key(new) != default_key(old):
            _check_move(model, old)
    return _next(model, manifest, names, pairs)


def _newer(have: tuple[str, ...], manifest: Manifest) -> list[dict]:
    """The segments of ``manifest`` holding what came after the segments
    ``have`` (a model's). A compaction of the newer segments (never the
    first) merges some of these into one named by the generations it spans
    (store/segments.py), the same data: the segments that span no
    generation beyond ``have``'s hold nothing the model lacks."""
    if not have or not manifest.segments or manifest.segments[0]["name"] != have[0]:
        raise Rebuild("the store was compacted since the model was made")
    last = span_of(have[-1])[1]
    spans = [span_of(s["name"]) for s in manifest.segments]
    held = [s for s, (_, end) in zip(manifest.segments, spans) if end <= last]
    newer = [s for s, (start, _) in zip(manifest.segments, spans) if start > last]
    if len(held) + len(newer) != len(manifest.segments) or span_of(held[-1]["name"])[1] != last:
        raise Rebuild("a compaction merged segments the model holds with newer ones")
    return newer


def article(model: ReadModel, record: dict, num: int) -> Article:
    """The article of ``record`` in ``model``, as the model's build makes it
    (readmodel ``ReadModel._article``), with its details, but counting no
    mention: its digest says it mentions what its old version did."""
    site = model.site_of(record) if model._site_roots else None
    base = _base(site)
    made = Article(record, site)
    made.num = num
    made._sig = signature(record)
    made.provider = _provider(model, record.get("provider"))
    topics = []
    for name in record.get("topics") or ():
        topic = model.topics[_slug(name)]
        if topic not in topics:
            topics.append(topic)
    made.topics = topics
    made.topic_slugs = frozenset(t.slug for t in topics)
    items = record.get("related") or ()
    made.related_count = len(items)
    if is_profile(record):
        made.person = Person(made, record, _provider(model, record.get("affiliation")))
    if is_event(record):
        made.event = Event(made, record)
    made._details = Details(record, [RelatedItem(r, _provider(model, r.get("provider")), base, num)
                                     for r in items])
    made._records = model.records
    return made


def _provider(model: ReadModel, ref: dict | None):
    domain = ref.get("domain") if ref else None
    return model.provider_for(domain, ref.get("name")) if domain else None


def _check_move(model: ReadModel, old: Article) -> None:
    """An article that moves in the default order (a new date) changes who
    owns a URL several articles give, and the order of the links of the
    articles it links to: those are not patched."""
    if model.shared_urls and any(url_key(u) in model.shared_urls for u in old.urls()):
        raise Rebuild(f"article {old.id!r} moved and shares a URL with another")
    if any(model.preview.related_target(item) is not None for item in old.related):
        raise Rebuild(f"article {old.id!r} moved and links to local articles")


def _shell(model: ReadModel, manifest: Manifest, names: tuple) -> ReadModel:
    """The next version: ``model``'s attributes, with the new meta's."""
    new = ReadModel.__new__(ReadModel)
    vars(new).update(vars(model))
    vars(new).pop("_search_index", None)
    meta = manifest.meta
    new.data_version = meta.get("dataVersion", "empty")
    new.loaded_at = _date(meta.get("loadedAt"))
    new.lookups = 0
    new.segments = names
    settings = meta.get("sites") or {}
    if settings != model.site_settings:
        # Sites added (patch refuses any other change of the settings): the
        # sites known keep their objects, in the order the build has them.
        roots = model._site_roots
        new.site_settings = settings
        new._site_roots = {root: roots[root] if root in roots else Site(entry) for root, entry in settings.items()}
        new.sites = {site.name: site for site in new._site_roots.values()}
    # The search index of this version is the one its load wrote (its
    # directory is in the meta: store/searchversions.py), opened by the caller.
    new.search_index = meta.get("searchIndex")
    return new


def _reshaped(model: ReadModel, manifest: Manifest, names: tuple, pairs: list, records: list,
              removed: list) -> ReadModel:
    """The next version when articles were added or removed, or changed
    what other objects depend on (store/membership.py)."""
    new = _shell(model, manifest, names)
    outs, ins = membership.reshaped(model, new, records, removed, pairs, article)
    if len(outs) + len(ins) > 2 * MAX_ARTICLES:
        raise Rebuild(f"{len(outs)} articles changed")
    new.indexes = model.indexes.patched(outs, ins)
    membership.typed_lists(new, outs, ins)
    new.preview = membership.view(model.preview, new, outs, ins, _LISTS, _typed)
    new.public = membership.view(model.public, new, outs, ins, _LISTS, _typed)
    new.all_articles = new.preview.articles
    new.records.model = new
    return new


def _next(model: ReadModel, manifest: Manifest, names: tuple, pairs: list) -> ReadModel:
    new = _shell(model, manifest, names)
    new.all_articles = _replaced(model.all_articles, pairs)
    people = {o.person: n.person for o, n in pairs if o.person is not None}
    events = {o.event: n.event for o, n in pairs if o.event is not None}
    new.people = sorted((people.get(p, p) for p in model.people), key=_article_order) if people else model.people
    new.events = sorted((events.get(e, e) for e in model.events), key=_article_order) if events else model.events
    playlists = {o: n for o, n in pairs if o.items_all}
    new.playlists = sorted((playlists.get(a, a) for a in model.playlists), key=default_key) \
        if playlists else model.playlists
    new.indexes = model.indexes.patched([o for o, _ in pairs], [n for _, n in pairs])
    new.preview = _view(model.preview, new, pairs)
    new.public = _view(model.public, new, [(o, n) for o, n in pairs if o.visible])
    # The one reader of the image's store file, shared by every version
    # made from it; what it resolves (providers) is the same in each.
    new.records.model = new
    return new


def _view(view: View, model: ReadModel, pairs: list) -> View:
    """The view of the next version: ``view``'s containers copied with the
    changed articles in place (their memberships are the old ones': their
    digests say so), its counts shared."""
    new = View.__new__(View)
    vars(new).update(vars(view))
    new.model = model
    new.cache_lock, new.cache = Lock(), {}
    if not pairs:
        _typed(new, view, model)
        return new
    new.articles = _replaced(view.articles, pairs)
    # Maps for lookups, in no order anyone reads: the changed keys are
    # laid over the version before's (store/layered.py), not copied with it.
    new.by_id = Layered.of(view.by_id).patched(put={made.id: made for _, made in pairs})
    new.by_url = Layered.of(view.by_url).patched(put={key: made for old, made in pairs for key in map(url_key, old.urls())
                                                      if view.by_url.get(key) is old})
    moved = [made for old, made in pairs if default_key(old) != default_key(made)]
    for name, keys_of in _LISTS:
        lists = dict(getattr(view, name))
        keys = {key for old, _ in pairs for key in keys_of(old)}
        for key in keys:
            lists[key] = _replaced(lists[key], pairs)
        if moved:  # keyed in the order of each key's first article, as the build fills them
            lists = membership.keyed_in_order(lists, keys_of, getattr(view, name), keys)
        setattr(new, name, lists)
    if moved:
        new.provider_counts = {key: len(items) for key, items in new.by_provider.items()}
        new.topic_counts = {slug: len(items) for slug, items in new.by_topic.items()}
    _typed(new, view, model)
    return new


def _typed(new: View, old: View, model: ReadModel) -> None:
    """The view ``new``'s people, events and playlists, as View makes them:
    those of ``old`` (copied with its attributes) while the model's lists
    are the ones ``old``'s model had, which a patch makes anew when it
    changes one of them (a playlist's items are never patched)."""
    before = old.model
    if model.people is before.people and model.events is before.events and model.playlists is before.playlists:
        return
    by_num, preview = model.indexes.by_num, old.preview
    new.people = [p for p in model.people if preview or p.article.visible]
    new.events = [e for e in model.events if preview or e.article.visible]
    new.playlists = [a for a in model.playlists if (preview or a.visible) and a.items_all
                     and (preview or any(by_num[n].visible for n in a.items_all))]
    new.people_by_id = {p.id: p for p in new.people}
    new.events_by_id = {e.id: e for e in new.events}


# A view's lists of articles by key, and the keys an article is listed under.
_LISTS = (
    ("by_topic", lambda a: [t.slug for t in a.topics]),
    ("by_provider", lambda a: [a.provider.key] if a.provider is not None else []),
    ("by_domain", lambda a: [a.provider.domain] if a.provider is not None else []),
    ("by_type", lambda a: [a.type]),
    ("by_collection", lambda a: [a.collection]),
    ("by_site", lambda a: [a.site.name] if a.site is not None else []),
)


def _replaced(articles: list[Article], pairs: list) -> list[Article]:
    """A copy of ``articles`` (in the default order) with each old article
    of ``pairs`` that it holds replaced by the new one, in its place."""
    found = list(articles)
    for old, made in pairs:
        at = bisect_left(found, default_key(old), key=default_key)
        if at >= len(found) or found[at] is not old:
            continue  # not listed here
        if default_key(made) == default_key(old):
            found[at] = made
        else:
            del found[at]
            insort(found, made, key=default_key)
    return found
