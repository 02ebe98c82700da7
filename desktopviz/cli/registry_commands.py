"""``desktopviz registry link|ls|alias|unlink|history``: the model registry on the command line
(:mod:`desktopviz.registry`).

Public API: :func:`add_registry_parser`, :func:`cmd_registry`, :func:`print_registry`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from desktopviz.cli.main import EXIT_OK, open_cache
from desktopviz.errors import DesktopvizError
from desktopviz.humanize import timestamp_text

if TYPE_CHECKING:
    from desktopviz.registry import Link
    from desktopviz.store.cache import Cache


def add_registry_parser(sub: argparse._SubParsersAction) -> None:
    """``registry`` and its subcommands."""
    s = sub.add_parser(
        "registry",
        help="the model registry: collections of versions promoted from projects, with aliases",
    )
    rsub = s.add_subparsers(dest="registry_command", parser_class=type(s))
    a = rsub.add_parser(
        "link", help="link a version to a registry collection (made if new); no bytes are copied"
    )
    a.add_argument("ref", metavar="REF", help="the version: [project/]name:v<N>|alias")
    a.add_argument("collection", metavar="COLLECTION")
    a.add_argument(
        "--alias", action="append", metavar="A", help="alias to move onto the link (repeatable)"
    )
    a.add_argument("--description", metavar="TEXT", help="the collection's description")
    a = rsub.add_parser(
        "ls", help="list the collections, or a collection's versions with source and aliases"
    )
    a.add_argument("collection", nargs="?", metavar="COLLECTION")
    a = rsub.add_parser(
        "alias", help="move an alias onto a version of a collection (recording who and when)"
    )
    a.add_argument("ref", metavar="COLLECTION:vN")
    a.add_argument("alias", metavar="A")
    a.add_argument("--remove", action="store_true", help="remove the alias from the collection")
    a = rsub.add_parser("unlink", help="remove a version from a collection (the version stays)")
    a.add_argument("ref", metavar="COLLECTION:vN")
    a = rsub.add_parser(
        "history", help="the alias moves of a collection: what, from, to, who, when"
    )
    a.add_argument("collection", metavar="COLLECTION")


def cmd_registry(args: argparse.Namespace) -> int:
    """Run ``registry <subcommand>``."""
    from desktopviz import registry

    command = args.registry_command
    if command is None:
        raise DesktopvizError("registry needs a subcommand: link, ls, alias, unlink or history")
    cache = open_cache(args, create=command == "link")
    try:
        if command == "link":
            version = cache.resolve(args.ref)
            link = registry.link_version(
                cache, version, args.collection, args.alias or (), description=args.description
            )
            print(_link_line(link))
        elif command == "ls":
            print_registry(cache, args.collection)
        elif command == "alias":
            name, which = registry.collection_part(args.ref)
            if args.remove:
                registry.remove_alias(cache, name, args.alias)
                print(f"removed {args.alias} from registry/{name}")
            else:
                link = registry.set_alias(cache, registry.find_link(cache, name, which), args.alias)
                print(_link_line(link))
        elif command == "unlink":
            name, which = registry.collection_part(args.ref)
            link = registry.find_link(cache, name, which)
            registry.unlink(cache, link)
            print(f"unlinked {link.ref} ({link.version.ref} stays)")
        elif command == "history":
            moves = registry.alias_history(cache, args.collection)
            if not moves:
                print(f"(no alias of registry/{args.collection} has moved yet)")
            for m in moves:
                print(f"{timestamp_text(m.moved_at)}\t{m.text}\t{m.moved_by or '?'}")
    finally:
        cache.close()
    return EXIT_OK


def print_registry(cache: Cache, name: str | None = None) -> None:
    """The collections with their counts and aliases, or one collection's linked versions."""
    from desktopviz import registry

    if name is None:
        found = registry.collections(cache)
        if not found:
            print("(no registry collections: try `desktopviz registry link REF COLLECTION`)")
        for c in found:
            aliases = ", ".join(f"{a}:{tag}" for a, tag in c.aliases) or "-"
            count = f"{c.link_count} version{'s' * (c.link_count != 1)}"
            print(f"{c.name}\t{count}\t{aliases}")
        return
    for link in registry.links(cache, name):
        print(
            f"{link.tag}\t{','.join(link.aliases) or '-'}\t{link.version.ref}\t"
            f"linked {timestamp_text(link.linked_at)} by {link.linked_by or '?'}"
        )


def _link_line(link: Link) -> str:
    """``registry/c:v1 [latest, staging] -> project/name:v3``."""
    return f"{link.ref} [{', '.join(link.aliases)}] -> {link.version.ref}"
