"""Who published: one provider per organisation, and one per name on a
platform.

A provider is known by its domain. On a platform that hosts many
publishers (youtube.com channels, msn.com, medium.com) the domain says
nothing of who published: such a domain is one whose articles give several
distinct provider names and which no organisation file describes, and each
of its names is a provider of its own, sharing the domain, with its own key
(``youtube.com/april-dunnam``) and id. An organisation file makes its
domain one provider whatever names articles give it.

The decision follows the mentions the audience may see (readmodel
``Mentions``): published articles decide for every domain they name, so
an unpublished article can neither split a domain nor hide a split; a
domain that only unpublished articles name is decided by theirs.
"""
from __future__ import annotations

from loaders.values import slugify


def name_key(name: str) -> str:
    """Names that differ only in case, accents or punctuation are one."""
    return slugify(name) or name.strip().casefold()


def _groups(names: dict[str, int]) -> dict[str, dict[str, int]]:
    """Names with their counts, grouped by ``name_key``."""
    groups: dict[str, dict[str, int]] = {}
    for name, count in names.items():
        groups.setdefault(name_key(name), {})[name] = count
    return groups


def most_used(names: dict[str, int]) -> str:
    # The name most mentions use; then the shortest; then the first given.
    return max(names.items(), key=lambda kv: (kv[1], -len(kv[0])))[0]


def ordered_names(names: dict[str, int]) -> tuple[str, ...]:
    """Names, most used first, then by name: what a provider keeps of the
    counts, so that a version in which only counts moved shares it."""
    return tuple(name for name, _ in sorted(names.items(), key=lambda kv: (-kv[1], kv[0])))


def split_platform(domain_provider, said, other, make) -> dict[str, object] | None:
    """The per-name providers of ``domain_provider``'s domain when it is a
    platform, by name key; None when it is not. ``said`` holds the mentions
    that decide (see the module's docstring), ``other`` the rest, whose
    names become providers too (seen only by an audience that sees their
    articles); ``make(key)`` makes an empty provider with that key."""
    domain = domain_provider.domain
    if domain_provider._declared:
        return None
    deciding = _groups(said.names.get(domain, {}))
    if len(deciding) < 2:
        return None
    found = {}
    for mentions, groups in ((said, deciding), (other, _groups(other.names.get(domain, {})))):
        for key, names in groups.items():
            if key in found:
                continue
            provider = make(f"{domain}/{key}")
            provider.names = ordered_names(names)
            provider.name = most_used(names)
            provider.images = next((mentions.name_images[(domain, name)] for name in names
                                    if (domain, name) in mentions.name_images), [])
            found[key] = provider
    return found
