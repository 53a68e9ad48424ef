"""Which site each loaded folder is, kept in the store's meta record.

A folder with a ``_config.yml`` is a site: the store keeps its settings
(loaders/site.py) under the folder's path, with a name unique in the store
and the prefix its article ids take.

Ids never collide between sites, and a store of one site keeps the ids it
always had (``news/2021-06-02-x``): the first site a store holds keeps bare
ids, and every site added after it puts its name before them
(``diablo4:news/2023-01-05-x``). A site's prefix is chosen once, when the
store first meets it, and never changes, so its ids and cursors stay valid
across loads whatever else is loaded beside it. Folders without a
``_config.yml`` are not sites and keep bare ids, as before.
"""
from __future__ import annotations

from collections.abc import Iterable

from loaders import site as site_config
from loaders.errors import LoadError

PREFIX_END = ":"
# The kinds of global id read before an article id (``provider:``,
# ``person:``, ... in graph/schema.py's ``node``): a site of one of these
# names would give its articles ids that read as another kind's, so no
# site takes them.
ID_KINDS = frozenset({"provider", "topic", "site", "person", "event"})


def read_configs(roots: Iterable[str]) -> tuple[dict[str, dict | None], list[LoadError]]:
    """Each root's site settings (None: no ``_config.yml``), and the errors
    of configurations that could not be read (those roots are left out, so
    the store keeps what it knew of them)."""
    configs: dict[str, dict | None] = {}
    errors: list[LoadError] = []
    for root in roots:
        try:
            configs[root] = site_config.read(root)
        except LoadError as exc:
            errors.append(exc)
    return configs, errors


def register(known: dict[str, dict], configs: dict[str, dict | None]) -> dict[str, dict]:
    """The sites after this load: ``known`` (from the store's meta) with the
    settings of ``configs`` applied, in order, and a name and id prefix for
    each new site: the first site of a store keeps bare ids."""
    sites = {root: dict(entry) for root, entry in known.items()}
    names = {entry["name"] for entry in sites.values()}
    bare_taken = any(not entry.get("prefix") for entry in sites.values())
    for root, config in configs.items():
        entry = sites.get(root)
        if config is None:
            if entry is not None:  # the configuration is gone: the ids stay
                sites[root] = {"name": entry["name"], "prefix": entry["prefix"],
                               **site_config.record({})}
            continue
        if entry is None:
            name = _unique(site_config.name_for(config, root), names | ID_KINDS)
            names.add(name)
            entry = {"name": name, "prefix": name + PREFIX_END if bare_taken else ""}
            bare_taken = True
        sites[root] = {"name": entry["name"], "prefix": entry["prefix"], **config}
    return sites


def held_configs(roots: Iterable[str], loading: dict) -> dict[str, dict]:
    """For a store written before it kept sites: the settings of the sites
    it already holds files of (in the order it met them, with the settings
    now read for those being loaded), so they are registered before the
    sites new to it and keep the bare ids their articles have. A configuration that cannot be read here is left for
    the load of its own folder to report."""
    found = {}
    for root in dict.fromkeys(roots):
        config = loading[root] if root in loading else read_configs([root])[0].get(root)
        if config is not None:
            found[root] = config
    return found


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"


def prefixes(sites: dict[str, dict]) -> dict[str, str]:
    """Root -> id prefix, for the sites whose ids take one."""
    return {root: entry["prefix"] for root, entry in sites.items() if entry.get("prefix")}
