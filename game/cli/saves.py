"""`recurrent saves ...`: list, show, check, repair, delete, export, branch, tree."""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from game.core.errors import PlayerError, one_line
from game.core.text import safe
from game.saves.export import FORMATS
from game.saves.names import SlotError, check_name


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
    for verb, func, text in (("check", _check, "does long-term memory agree with the journal?"),
                             ("repair", _repair, "rebuild what the journal allows")):
        parser = inner.add_parser(verb, help=text)
        parser.add_argument("name")
        parser.set_defaults(func=func)
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


def _root(args) -> Path:
    from game.session import saves_root
    from game.core.settings import load_settings

    return saves_root(args, load_settings())


def _config():
    from game.session import memory_config
    from game.core.settings import load_settings

    return memory_config(load_settings())


def _list(args) -> int:
    from game.saves.slot import list_slots, read_header

    root = _root(args)
    rows = []
    for name in list_slots(root):
        try:
            rows.append(read_header(root, name))
        except Exception as error:  # one slot that cannot be read is a line of the listing, not its end
            rows.append({"slot": name, "error": one_line(error)})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print(f"no saves in {root}")
    shown = [(_shown(row["slot"]), row) for row in rows]  # a folder's name may hold anything
    width = max([len(name) for name, _ in shown] + [4])
    for name, row in shown:
        if "error" in row:
            print(f"{name:<{width}}  {row['error']}")
        else:
            print(f"{name:<{width}}  {safe(row['title'])[:36]:<36} {row['steps']:>6} steps "
                  f"{row.get('words') or 0:>8} words  {safe(str(row.get('updated') or ''))}")
    return 0


def _shown(name: str) -> str:
    try:
        return check_name(name)
    except SlotError:
        return repr(name)


def _show(args) -> int:
    from game.saves.slot import JOURNAL, Slot, SlotInUse, origin_of

    root = _root(args)
    check_name(args.name)
    try:
        with Slot.open(root, args.name, _config()) as slot:
            info = _about(slot.name, slot.story, slot.memory.count(), slot.path / JOURNAL, slot.origin)
    except SlotInUse:
        # A game is playing it: its journal is read as `export` reads it; long-term memory,
        # which the game holds open, is not counted.
        story, header, path = _from_journal(root, args.name)
        info = _about(args.name, story, None, path, origin_of(header))
        print(f"slot {args.name} is in use by a game: shown from its journal, long-term memory not counted",
              file=sys.stderr)
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        for key, value in info.items():
            print(f"{key:>14}: {safe(str(value))}")  # a journal edited by hand may hold escapes
    return 0


def _check(args) -> int:
    from game.saves.check import check

    report = check(_root(args), args.name, _config())
    for line in report.recovered:
        print(f"{args.name}: on opening, {line}")
    if report.ok:
        print(f"{args.name}: ok")
        return 0
    problem = report.problems[0]
    hint = "" if ("newer version" in problem or "in use" in problem) else f" (`recurrent saves repair {args.name}` rebuilds what the journal allows)"
    print(f"{args.name}: {problem}{hint}", file=sys.stderr)
    return 1


def _repair(args) -> int:
    from game.saves.check import repair

    for line in repair(_root(args), args.name, _config()):
        print(f"{args.name}: {line}")
    return 0


def _from_journal(root: Path, name: str):
    """(story, header, journal path) read without opening the slot: no lock, no long-term memory."""
    from game.saves.journal import Journal
    from game.saves.slot import JOURNAL, read_header, replay, slot_folder

    path = slot_folder(root, name) / JOURNAL
    if not path.exists():
        raise SlotError(f"no slot named {name} in {root}")
    return replay(Journal(path).read(), name), read_header(root, name), path


def _about(name: str, story, memories: int | None, journal: Path, origin: dict) -> dict:
    return {"slot": name, "title": story.seed.title, "genre": story.seed.genre, "steps": story.taken,
            "words": story.words(), "memories": memories, "journal_bytes": journal.stat().st_size,
            "memory": story.memory, "pinned": story.pinned, "options": story.options,
            "parent": origin.get("parent"), "fork_step": origin.get("fork_step")}


def _delete(args) -> int:
    from game.saves.slot import JOURNAL, delete_slot, read_header, slot_folder

    root = _root(args)
    if not args.yes and sys.stdin.isatty() and (slot_folder(root, args.name) / JOURNAL).exists():
        # A script's delete is meant; one typed at a terminal is asked once.
        try:
            header = read_header(root, args.name)
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
    delete_slot(root, args.name)
    print(f"deleted {args.name}")
    return 0


def _export(args) -> int:
    from game.saves.export import format_of, render, write_transcript

    root = _root(args)
    story, header, _path = _from_journal(root, args.name)
    if args.out:
        target = write_transcript(story, args.out, args.name, args.format, header, saves=root)
        print(f"wrote {args.name} ({FORMATS[format_of(target, args.format)]}) to {target}", file=sys.stderr)
        return 0
    fmt = args.format or "md"
    if fmt == "epub" and sys.stdout.isatty():
        raise SlotError(f"an e-book is a binary file, not one for the terminal: add --out {args.name}.epub")
    data = render(story, fmt, args.name, header)
    if fmt == "epub":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


def _branch(args) -> int:
    from game.saves.branch import branch_at

    root = _root(args)
    new = branch_at(root, args.name, args.step, args.new, _config())
    print(f"branched {args.name} at step {args.step} as {new}; play it with `recurrent play --slot {shlex.quote(new)}`")
    return 0


def _tree(args) -> int:
    from game.saves.tree import forest, tree_lines, tree_of

    root = _root(args)
    if args.name:
        check_name(args.name)
        tree = tree_of(root, args.name)
        if tree is None:
            raise SlotError(f"no slot named {args.name} in {root}")
        trees = [tree]
    else:
        trees = forest(root)
        if not trees:
            print(f"no saves in {root}")
    for i, tree in enumerate(trees):
        if i:
            print()
        print("\n".join(tree_lines(tree)))
    return 0
