"""`recurrent stories ...`: list, validate, import and write seeds from the command line.

Each handler prints plain lines and returns an exit code; bad input is one line, never a
traceback. `register(subparsers)` is called by game/cli.py.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from pathlib import Path

from game.stories.importers import CardError, import_cards
from game.core.files import size_text
from game.core.paths import own_stories_dir
from game.stories.loader import MAX_BYTES, SeedError, check_size, list_seeds, load_seed, parse_seed, read_seed_text
from game.stories.shelf import Shelved, folders, shelf
from game.core.seed import Seed
from game.stories.writer import seed_to_toml, slugify, world_to_toml


def register(subparsers, debug) -> None:
    stories = subparsers.add_parser("stories", help="list, check, import and write story seeds")
    debug(stories)
    stories.set_defaults(func=lambda args: _usage(stories))
    sub = stories.add_subparsers(dest="stories_command", metavar="COMMAND")

    p = sub.add_parser("list", help="the stories a game can start from (the library's and your own), one line each")
    p.add_argument("--dir", type=Path, default=None, help="list this folder only")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("validate", help="check seed files; exit 1 if any is invalid")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default: the library and your own stories)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("import", help="add lore from AI Dungeon story cards or a character card to a seed")
    p.add_argument("card", type=Path, metavar="CARDFILE", help="story cards JSON, character card JSON or PNG, lorebook")
    p.add_argument("--into", type=Path, metavar="SEED.toml", help="the seed to add world entries to")
    p.add_argument("--out", type=Path, metavar="PATH", help="write here instead of changing the seed in place")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("new", help="have the model draft a new seed from a premise")
    p.add_argument("premise", help="one or two sentences: who, where, what is at stake")
    p.add_argument("--genre", default=None)
    p.add_argument("--out", type=Path, metavar="PATH", help="where to save (default: your stories folder, <title>.toml)")
    # SUPPRESS: a --model given before `stories` (on the main parser) must not be reset to None here.
    p.add_argument("--model", default=argparse.SUPPRESS, help="model name (default: RECURRENT_MODEL)")
    p.add_argument("--base-url", dest="base_url", default=argparse.SUPPRESS, help="OpenAI-compatible server URL")
    p.add_argument("--backend", default=argparse.SUPPRESS, help="openai, ollama, lmstudio, vllm, llamacpp, koboldcpp or local")
    p.set_defaults(func=cmd_new)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


# -- list ------------------------------------------------------------------------------------


def cmd_list(args) -> int:
    if args.dir is not None:
        found = [Shelved(path, seed, own=False) for path, seed in list_seeds(args.dir)]
        where = str(args.dir)
    else:
        found = shelf()
        where = " or ".join(str(folder) for _kind, folder in folders())
    if not found:
        print(f"no seed files (*.toml) in {where}")
        return 0
    width = shutil.get_terminal_size((100, 24)).columns
    name_w = min(30, max(len(s.name) + (2 if s.own else 0) for s in found))
    rows = []
    for shelved in found:
        seed = shelved.seed
        name = shelved.name + (" *" if shelved.own else "")
        if isinstance(seed, SeedError):
            where = f"line {seed.line}: " if seed.line else ""
            field = f"{seed.field}: " if seed.field else ""
            rows.append((name, f"invalid: {where}{field}{seed.problem}", "", ""))
        else:
            try:  # show `${wizard_name}` as its default, the way a reader first meets it
                premise = seed.filled().premise
            except ValueError:
                premise = seed.premise
            rows.append((name, seed.title, seed.genre, premise))
    good = [r for r in rows if r[2]]
    title_w = min(32, max((len(r[1]) for r in good), default=5))
    genre_w = min(16, max((len(r[2]) for r in good), default=5))
    print(f"{'NAME':<{name_w}}  {'TITLE':<{title_w}}  {'GENRE':<{genre_w}}  PREMISE")
    for name, title, genre, premise in rows:
        if not genre:  # an invalid file: its error takes the rest of the line
            print(_fit(f"{_fit(name, name_w):<{name_w}}  {title}", width))
            continue
        line = f"{_fit(name, name_w):<{name_w}}  {_fit(title, title_w):<{title_w}}  {_fit(genre, genre_w):<{genre_w}}  "
        print(line + _fit(" ".join(premise.split()), max(10, width - len(line) - 1)))
    if any(s.own for s in found):
        print(f"* your own, in {own_stories_dir()}")
    print("start one with: recurrent play --story NAME")
    return 0


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


# -- validate --------------------------------------------------------------------------------


def cmd_validate(args) -> int:
    paths: list[Path] = []
    given_paths = args.paths or [folder for _kind, folder in folders() if folder.is_dir()]
    for given in given_paths:
        if given.is_dir():
            inside = sorted(given.glob("*.toml"))
            if not inside:
                print(f"{given}: no seed files (*.toml) in this folder")
                return 1
            paths += inside
        else:
            paths.append(given)
    paths = [_shown(p) for p in paths]
    bad = 0
    for path in paths:
        try:
            load_seed(path)
            print(f"ok  {path}")
        except SeedError as err:
            print(err)
            bad += 1
    if bad:
        print(f"{bad} of {len(paths)} seed file{'s' if len(paths) != 1 else ''} invalid", file=sys.stderr)
    return 1 if bad else 0


# -- import ----------------------------------------------------------------------------------


def cmd_import(args) -> int:
    try:
        imported = import_cards(args.card)
    except CardError as err:
        print(err)
        return 1
    for warning in imported.warnings:
        print(f"note: {args.card}: {warning}", file=sys.stderr)
    if args.into is None:
        return _import_as_seed(args, imported)
    if not imported.entries:
        print(f"{args.card}: no world entries to import")
        return 1
    target = args.out or args.into
    if args.out and args.out.exists() and args.out.resolve() != args.into.resolve():
        print(f"{args.out}: already exists; choose another --out")
        return 1
    try:
        text = read_seed_text(args.into)
        seed = parse_seed(text, args.into)
    except SeedError as err:
        print(err)
        return 1
    taken = {e.name.lower() for e in seed.world}
    new = []
    for entry in imported.entries:
        if entry.name.lower() not in taken:
            taken.add(entry.name.lower())
            new.append(entry)
    skipped = len(imported.entries) - len(new)
    if not new:
        print(f"{args.into}: already has every entry of {args.card}; nothing to add")
        return 0
    # Appending [[world]] tables keeps the author's comments and layout; if the seed wrote
    # `world = [...]` inline that is not valid TOML, so then the whole seed is written anew.
    combined = text.rstrip("\n") + "\n\n" + world_to_toml(new)
    try:
        parse_seed(combined, target)
    except SeedError:
        combined = seed_to_toml(seed.model_copy(update={"world": seed.world + new}))
    try:
        parse_seed(combined, target)
    except SeedError as err:
        print(err)
        return 1
    if len(combined.encode("utf-8")) > MAX_BYTES:  # refused before writing: the seed there stays as it was
        print(f"{target}: adding {len(new)} world entries from {args.card} would make the seed "
              f"{size_text(len(combined.encode('utf-8')))}, and a seed may be at most {size_text(MAX_BYTES)}; "
              "nothing was written (import fewer or shorter cards)")
        return 1
    if not _write(target, combined, replace=True):
        return 1
    note = f" ({skipped} already there)" if skipped else ""
    print(f"added {len(new)} world entr{'y' if len(new) == 1 else 'ies'} from {args.card} to {target}{note}")
    return 0


def _import_as_seed(args, imported) -> int:
    if imported.seed is None:
        print(f"{args.card}: {imported.format} have no character to make a seed from; "
              "add them to a seed with --into SEED.toml")
        return 1
    target = args.out or _shown(_free_path(own_stories_dir(), imported.seed.title))
    if target.exists():
        print(f"{target}: already exists; choose another --out")
        return 1
    if not _write(target, seed_to_toml(imported.seed), replace=False):
        return 1
    print(f"wrote {target}: {imported.seed.title} ({len(imported.seed.world)} world entries)")
    return 0


# -- new -------------------------------------------------------------------------------------


def cmd_new(args) -> int:
    if not args.premise.strip():
        print("stories new: the premise is empty")
        return 1
    if args.out and args.out.exists():
        print(f"{args.out}: already exists; choose another --out")
        return 1
    from game.core.calls import ModelError
    from game.core.settings import SettingsError
    from game.llm import from_settings

    # Only what was given, so a from_settings without `backend` still works.
    chosen = {k: getattr(args, k) for k in ("model", "base_url", "backend") if getattr(args, k, None)}
    try:
        seed = asyncio.run(_draft(from_settings, chosen, args.premise, args.genre))
    except (ModelError, SettingsError, ValueError, OSError) as err:  # settings problems are one line too
        print(f"stories new: {' '.join(str(err).split())}")
        return 1
    except KeyboardInterrupt:
        print("stories new: cancelled")
        return 130
    target = args.out or _shown(_free_path(own_stories_dir(), seed.title))
    if not _write(target, seed_to_toml(seed), replace=False):
        return 1
    print(f"wrote {target}: {seed.title}")
    return 0


async def _draft(from_settings, chosen: dict, premise: str, genre: str | None) -> Seed:
    from game.stories.writer import write_seed

    backend = from_settings(**chosen)
    print(f"asking {getattr(backend, 'model', 'the model')} for a seed...", file=sys.stderr)
    try:
        return await write_seed(backend, premise, genre)
    finally:
        await backend.close()


# -- files -----------------------------------------------------------------------------------


def _shown(path: Path) -> Path:
    """The path relative to the current folder when it is inside it: shorter lines."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return path


def _free_path(folder: Path, title: str) -> Path:
    slug = slugify(title)
    path, n = folder / f"{slug}.toml", 2
    while path.exists():
        path, n = folder / f"{slug}-{n}.toml", n + 1
    return path


def _write(path: Path, text: str, replace: bool) -> bool:
    """Write whole or not at all (a crash mid-write must not leave half a seed); False on failure."""
    if not replace and path.exists():  # never overwrite a story
        print(f"{path}: already exists; choose another --out")
        return False
    try:
        check_size(text, path)  # never write a seed that could not be read back
    except SeedError as err:
        print(f"{err}; nothing was written")
        return False
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as err:
        print(f"{path}: cannot write: {err.strerror or err}")
        tmp.unlink(missing_ok=True)
        return False
    return True
