"""`recurrent saves ...`: list, show, check, repair, delete, export."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from game.core.errors import one_line
from game.core.text import safe
from game.saves.names import SlotError, check_name


def register(sub, common) -> None:
    saves = sub.add_parser("saves", help="list, check, repair, delete and export save slots")
    saves.add_argument("--saves-dir", dest="saves_dir", help="the saves folder (default: RECURRENT_SAVES_DIR, else $XDG_DATA_HOME/recurrent/saves)")
    inner = saves.add_subparsers(dest="saves_command", required=True)
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
    delete = inner.add_parser("delete", help="delete a slot")
    delete.add_argument("name")
    delete.set_defaults(func=_delete)
    export = inner.add_parser("export", help="the story as a transcript")
    export.add_argument("name")
    export.add_argument("--format", choices=["md"], default="md")
    export.add_argument("--out", help="a file to write (default: stdout)")
    export.set_defaults(func=_export)


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
    from game.saves.slot import JOURNAL, Slot

    root = _root(args)
    check_name(args.name)
    with Slot.open(root, args.name, _config()) as slot:
        story = slot.story
        info = {
            "slot": slot.name,
            "title": story.seed.title,
            "genre": story.seed.genre,
            "steps": story.taken,
            "words": story.words(),
            "memories": slot.memory.count(),
            "journal_bytes": (slot.path / JOURNAL).stat().st_size,
            "memory": story.memory,
            "pinned": story.pinned,
            "options": story.options,
        }
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
        print(f"{args.name}: recovered: {line}")
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


def _delete(args) -> int:
    from game.saves.slot import delete_slot

    delete_slot(_root(args), args.name)
    print(f"deleted {args.name}")
    return 0


def _export(args) -> int:
    from game.saves.export import markdown, write_transcript
    from game.saves.journal import Journal
    from game.saves.slot import JOURNAL, replay, slot_folder

    root = _root(args)
    path = slot_folder(root, args.name) / JOURNAL
    if not path.exists():
        raise SlotError(f"no slot named {args.name} in {root}")
    story = replay(Journal(path).read(), args.name)
    if args.out:
        write_transcript(story, args.out, saves=root)
    else:
        sys.stdout.write(markdown(story))
    return 0
