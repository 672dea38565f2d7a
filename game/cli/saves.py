"""`recurrent saves ...`: list, show, check, repair, delete, export, branch, tree."""
from __future__ import annotations

import argparse
import json
import shlex
import sys

from game.core.errors import PlayerError, one_line
from game.core.text import safe
from game.session import FORMATS, Shelf, SlotError, check_name
from game.session.shelf import format_of


def register(sub, common) -> None:
    saves = sub.add_parser("saves", help="list, check, repair, delete, export and branch save slots")
    saves.add_argument("--saves-dir", dest="saves_dir", help="the saves folder (default: RECURRENT_SAVES_DIR, else $XDG_DATA_HOME/recurrent/saves)")
    inner = saves.add_subparsers(dest="saves_command", required=True, metavar="COMMAND")
    listing = inner.add_parser("list", help="every slot with its title and steps")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)
    show = inner.add_parser("show", help="one slot in detail")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)
    checks = []
    for verb, func, text in (("check", _check, "does long-term memory agree with the journal? (no NAME: every slot)"),
                             ("repair", _repair, "rebuild what the journal allows")):
        parser = inner.add_parser(verb, help=text)
        parser.add_argument("name", nargs="?" if verb == "check" else None)
        parser.set_defaults(func=func)
        checks.append(parser)
    delete = inner.add_parser("delete", help="delete a slot (asked first at a terminal)")
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", help="do not ask first")
    delete.set_defaults(func=_delete)
    export = inner.add_parser("export", help="the story as Markdown, a web page, an e-book or plain text")
    export.add_argument("name")
    export.add_argument("--format", choices=list(FORMATS), help="md, html, epub or txt (default: from --out's name, else md)")
    export.add_argument("--out", help="a file to write (default: stdout)")
    export.set_defaults(func=_export)
    branch = inner.add_parser("branch", help="a new slot whose story is NAME's steps 0..STEP (NAME is untouched)")
    branch.add_argument("name")
    branch.add_argument("--at", dest="step", type=int, required=True, metavar="STEP", help="the last step the branch shares")
    branch.add_argument("--as", dest="new", metavar="NEW", help="the new slot's name (default: NAME-at-STEP)")
    branch.set_defaults(func=_branch)
    tree = inner.add_parser("tree", help="the slots of a story as a tree of branches")
    tree.add_argument("name", nargs="?", help="only the tree that holds this slot")
    tree.set_defaults(func=_tree)
    for parser in (listing, show, *checks, delete, export, branch, tree):  # after the command, as `write` takes it
        parser.add_argument("--saves-dir", dest="saves_dir", default=argparse.SUPPRESS, help="the saves folder")


def _shelf(args) -> Shelf:
    from game.core.settings import load_settings
    from game.session import saves_root

    settings = load_settings()
    return Shelf(saves_root(args, settings), settings)


def _list(args) -> int:
    shelf = _shelf(args)
    rows = shelf.headers()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print(f"no saves in {shelf.root}")
    shown = [(_shown(row["slot"]), row) for row in rows]  # a folder's name may hold anything
    width = max([len(name) for name, _ in shown] + [4])
    for name, row in shown:
        if "error" in row:
            print(f"{name:<{width}}  {row['error']}")
        else:
            print(f"{name:<{width}}  {safe(row['title'])[:36]:<36} {row['steps']:>6} {'step ' if row['steps'] == 1 else 'steps'} "
                  f"{row.get('words') or 0:>8} words  {safe(str(row.get('updated') or ''))}")
    return 0


def _shown(name: str) -> str:
    try:
        return check_name(name)
    except SlotError:
        return repr(name)


def _show(args) -> int:
    info, in_use = _shelf(args).show(args.name)
    if in_use:
        print(f"slot {args.name} is in use by a game: shown from its journal, long-term memory not counted",
              file=sys.stderr)
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        for key, value in info.items():
            print(f"{key:>14}: {safe(str(value))}")  # a journal edited by hand may hold escapes
    return 0


def _check(args) -> int:
    shelf = _shelf(args)
    if args.name is None:  # every slot, each in its line; 1 if any is not ok
        names = shelf.names()
        if not names:
            print("no slots to check")
        return max((_check_listed(shelf, name) for name in names), default=0)
    return _check_one(shelf, args.name)


def _check_listed(shelf: Shelf, name: str) -> int:
    try:
        return _check_one(shelf, name)
    except PlayerError as error:  # one slot that cannot be checked (in use, unreadable): said, and on to the next
        print(f"{name}: {one_line(error)}", file=sys.stderr)
        return 1


def _check_one(shelf: Shelf, name: str) -> int:
    report = shelf.check(name)
    for line in report.recovered:
        print(f"{name}: on opening, {line}")
    if report.ok:
        print(f"{name}: ok")
        return 0
    problem = report.problems[0]
    hint = "" if ("newer version" in problem or "in use" in problem or "saves repair" in problem) else f" (`recurrent saves repair {name}` rebuilds what the journal allows)"
    print(f"{name}: {problem}{hint}", file=sys.stderr)
    return 1


def _repair(args) -> int:
    for line in _shelf(args).repair(args.name):
        print(f"{args.name}: {line}")
    return 0


def _delete(args) -> int:
    shelf = _shelf(args)
    if not args.yes and sys.stdin.isatty() and shelf.has(args.name):
        # A script's delete is meant; one typed at a terminal is asked once.
        try:
            header = shelf.header(args.name)
        except PlayerError:
            header = {"title": "cannot be read"}  # a damaged slot can still be deleted
        steps, words = header.get("steps", "?"), header.get("words", "?")
        words = f"{words:,}" if isinstance(words, int) else words
        try:
            answer = input(f"delete slot {args.name} ({safe(str(header.get('title', '?')))}, {steps} "
                           f"step{'' if steps == 1 else 's'}, {words} words)? It cannot be undone [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print(f"kept {args.name}")
            return 0
    shelf.delete(args.name)
    print(f"deleted {args.name}")
    return 0


def _export(args) -> int:
    shelf = _shelf(args)
    fmt = args.format or ("md" if not args.out else None)
    if not args.out and fmt == "epub" and sys.stdout.isatty():
        shelf.read(args.name)  # no such slot is said first
        raise SlotError(f"an e-book is a binary file, not one for the terminal: add --out {args.name}.epub")
    made = shelf.export(args.name, fmt, args.out)
    if args.out:
        print(f"wrote {args.name} ({FORMATS[format_of(made, args.format)]}) to {made}", file=sys.stderr)
    elif fmt == "epub":
        sys.stdout.flush()
        sys.stdout.buffer.write(made)
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(made.decode("utf-8"))
    return 0


def _branch(args) -> int:
    new = _shelf(args).branch(args.name, args.step, args.new)
    print(f"branched {args.name} at step {args.step} as {new}; play it with `recurrent play --slot {shlex.quote(new)}`")
    return 0


def _tree(args) -> int:
    from game.session import tree_lines

    shelf = _shelf(args)
    trees = shelf.trees(args.name)
    if args.name and not trees:
        raise SlotError(f"no slot named {args.name} in {shelf.root}")
    if not trees:
        print(f"no saves in {shelf.root}")
    for i, tree in enumerate(trees):
        if i:
            print()
        print("\n".join(tree_lines(tree)))
    return 0
