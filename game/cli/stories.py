"""`recurrent stories ...`: list, validate, lint, preview, edit, import and write seeds.

Each handler prints plain lines and returns an exit code; bad input is one line, never a
traceback. `register(subparsers)` is called by game/cli.py.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path

from game.core.paths import in_checkout, library_dir, own_stories_dir
from game.core.seed import Seed
from game.stories.document import SeedFile, entries_with_origin, write_text
from game.stories.importers import CardError, import_cards
from game.stories.loader import SeedError, line_of, list_seeds, load_seed, parse_seed, read_seed_text
from game.stories.shelf import Shelved, find_story, folders, shelf
from game.stories.writer import free_path, seed_to_toml, world_entry_dict


def register(subparsers, debug) -> None:
    stories = subparsers.add_parser("stories", help="list, validate, import and write story seeds")
    debug(stories)
    stories.set_defaults(func=lambda args: _usage(stories))
    sub = stories.add_subparsers(dest="stories_command", metavar="COMMAND")

    p = sub.add_parser("list", help="the stories a game can start from (the library's and your own), one line each")
    p.add_argument("--dir", type=Path, default=None, help="list this folder only")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("validate", help="check seed files; exit 1 if any is invalid")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default: the library and your own stories)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("lint", help="warn about what a valid seed may still get wrong; exit 1 if any is invalid")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default: the stories folder)")
    p.add_argument("--tokens", type=int, default=None, metavar="N",
                   help="the prompt budget to check against (default: your prompt_tokens setting)")
    p.set_defaults(func=cmd_lint)

    p = sub.add_parser("preview", help="the first request the narrator reads, part by part, with token counts")
    p.add_argument("path", type=Path, metavar="PATH", help="a seed file")
    p.add_argument("--action", default=None, help="the reader's first action (default: the seed's first option)")
    p.add_argument("--tokens", type=int, default=None, metavar="N",
                   help="the prompt budget (default: your prompt_tokens setting)")
    p.add_argument("--json", action="store_true", help="the request and its parts as JSON")
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("edit", help="the story studio: edit a seed in the terminal (a new one without PATH)")
    p.add_argument("path", nargs="?", type=Path, metavar="PATH", help="the seed file (need not exist yet)")
    # The model suggests fields and plays the playtest: the same choices as `stories new`.
    p.add_argument("--model", default=argparse.SUPPRESS, help="model name (default: RECURRENT_MODEL)")
    p.add_argument("--base-url", dest="base_url", default=argparse.SUPPRESS, help="OpenAI-compatible server URL")
    p.add_argument("--backend", default=argparse.SUPPRESS, help="openai, ollama, lmstudio, vllm, llamacpp or local")
    p.set_defaults(func=cmd_edit)

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
    name_w = max(len(s.name) + (2 if s.own else 0) for s in found)  # whole: it is what play --story takes
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
            print(_fit(f"{name:<{name_w}}  {title}", width))
            continue
        line = f"{name:<{name_w}}  {_fit(title, title_w):<{title_w}}  {_fit(genre, genre_w):<{genre_w}}  "
        print(line + _fit(" ".join(premise.split()), max(10, width - len(line) - 1)))
    if any(s.own for s in found):
        print(f"* your own, in {own_stories_dir()}")
    print("start one with: recurrent play --story NAME")
    return 0


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


# -- validate --------------------------------------------------------------------------------


def _seed_paths(given: list[Path]) -> list[Path] | None:
    """The seed files named (folders give their *.toml); None, said, when a folder has none."""
    paths: list[Path] = []
    for path in given or [folder for _kind, folder in folders() if folder.is_dir()]:
        if path.is_dir():
            inside = sorted(path.glob("*.toml"))
            if not inside:
                print(f"{path}: no seed files (*.toml) in this folder")
                return None
            paths += inside
        else:
            paths.append(_named(path))
    return [_shown(p) for p in paths]


def _named(path: Path) -> Path:
    """`path`, or the seed file of the story it names (`night-ferry-to-kestrel`), as play does."""
    try:
        return find_story(path)
    except SeedError:
        return path  # reading it says plainly that there is no such file


def cmd_validate(args) -> int:
    paths = _seed_paths(args.paths)
    if paths is None:
        return 1
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


# -- lint and preview ------------------------------------------------------------------------


def _settings_and_budget(tokens: int | None):
    """The player's settings (a new game's preferences come from them) and the prompt budget."""
    from game.core.errors import PlayerError
    from game.core.settings import load_settings

    settings = load_settings()
    total = tokens or settings.prompt_tokens
    if total < 600:
        raise PlayerError(f"--tokens {total} is too small a budget; the game uses at least 600")
    return settings, total


def cmd_lint(args) -> int:
    from game.session import prefs_from
    from game.session.preview import first_request
    from game.stories.lint import lint

    paths = _seed_paths(args.paths)
    if paths is None:
        return 1
    settings, budget = _settings_and_budget(args.tokens)
    bad = warned = noted = 0
    for path in paths:
        try:
            text = read_seed_text(path)
            seed = parse_seed(text, path)
        except SeedError as err:
            print(err)
            bad += 1
            continue
        prefs = prefs_from(settings, seed)
        found = lint(seed, prefs.paragraph_words) + first_request(seed, settings, budget).findings()
        located = [(line_of(text, f.where) if f.where else None, f) for f in found]
        for line, finding in sorted(located, key=lambda lf: (lf[1].level != "warning", lf[0] or 0)):
            print(finding.line(f"{path}:{line}" if line else str(path)))
        warned += sum(f.level == "warning" for f in found)
        noted += sum(f.level == "note" for f in found)
        if not found:
            print(f"ok  {path}")
    summary = f"{len(paths)} seed file{'s' if len(paths) != 1 else ''}: {warned} warning{'s' if warned != 1 else ''}, " \
              f"{noted} note{'s' if noted != 1 else ''}"
    print(summary + (f", {bad} invalid" if bad else ""), file=sys.stderr)
    return 1 if bad else 0


def cmd_preview(args) -> int:
    import json

    from game.session.preview import first_request

    try:
        seed = load_seed(find_story(args.path))
    except SeedError as err:
        print(err)
        return 1
    settings, budget = _settings_and_budget(args.tokens)
    preview = first_request(seed, settings, budget, args.action)
    if args.json:
        parts = [{"message": p.message + 1, "field": p.where, "what": p.label, "tokens": p.tokens, "sent": p.kept}
                 for p in preview.parts]
        print(json.dumps({"budget": budget, "total": preview.total, "messages": preview.messages, "parts": parts,
                          "triggered": [e.name for e in preview.triggered],
                          "findings": [f.line() for f in preview.findings()]}, indent=2, ensure_ascii=False))
        return 0
    print("\n".join(preview.report()))
    for finding in preview.findings():
        print(finding.line())
    for index, message in enumerate(preview.messages):
        print(f"\n--- message {index + 1}: {message['role']} ---")
        print(message["content"])
    return 0


def cmd_edit(args) -> int:
    from game.stories.document import SeedFile
    from game.ui.launch import edit

    path = _named(args.path) if args.path is not None else None
    if path is not None and path.exists():
        try:
            seed_file = SeedFile.open(path)
        except SeedError as err:
            print(err)
            return 1
        if not in_checkout() and path.resolve().is_relative_to(library_dir().resolve()):
            seed_file.path = None  # the installed library stays as it shipped: Ctrl+S writes the player's copy
    else:
        seed_file = SeedFile.blank()
        seed_file.path = path  # saved there; without a path, in the stories folder under its title
    return edit(seed_file, args)


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
    if not (imported.entries or imported.pinned or imported.authors_note or imported.instructions):
        print(f"{args.card}: no world entries to import")
        return 1
    target = args.out or args.into
    if args.out and args.out.exists() and args.out.resolve() != args.into.resolve():
        print(f"{args.out}: already exists; choose another --out")
        return 1
    try:
        seed_file = SeedFile.open(args.into)
        seed = parse_seed(seed_file.text, args.into)
    except SeedError as err:
        print(err)
        return 1
    data, added, skipped = _merged(seed_file, seed, imported, args.card)
    if not added:
        print(f"{args.into}: already has every entry of {args.card}; nothing to add")
        return 0
    try:  # the seed's own comments and layout stay; what is new is added to it
        parse_seed(seed_file.render(data), target)
        seed_file.save(data, target)
    except SeedError as err:
        print(err)
        return 1
    note = f" ({skipped} already there)" if skipped else ""
    print(f"added {', '.join(added)} from {args.card} to {target}{note}")
    return 0


def _merged(seed_file, seed: Seed, imported, card: Path) -> tuple[dict, list[str], int]:
    """(the seed's data with what the import adds, what it added in words, entries already there)."""
    data = {**seed_file.data, "world": entries_with_origin(seed_file.data)}
    added = []
    taken = {e.name.lower() for e in seed.world}
    new = []
    for entry in imported.entries:
        if entry.name.lower() not in taken:
            taken.add(entry.name.lower())
            new.append(entry)
    if new:
        data["world"] = data["world"] + [world_entry_dict(e) for e in new]
        added.append(f"{len(new)} world entr{'y' if len(new) == 1 else 'ies'}")
    pins = [p for p in imported.pinned if p not in seed.pinned][: max(0, 20 - len(seed.pinned))]
    if len(pins) < len([p for p in imported.pinned if p not in seed.pinned]):
        print(f"note: {card}: a seed holds 20 pinned notes; the rest were left out", file=sys.stderr)
    if pins:
        data["pinned"] = list(seed.pinned) + pins
        added.append(f"{len(pins)} pinned note{'s' if len(pins) != 1 else ''}")
    for name, words in (("authors_note", "the author's note"), ("instructions", "the narrator's instructions")):
        given, own = getattr(imported, name), getattr(seed, name)
        if given and not own:
            data[name] = given
            added.append(words)
        elif given and given != own:
            print(f"note: {card}: the seed keeps its own {words[4:]}", file=sys.stderr)
    return data, added, len(imported.entries) - len(new)


def _import_as_seed(args, imported) -> int:
    if imported.seed is None:
        print(f"{args.card}: has no character or scenario to make a seed from ({imported.format}); "
              "add it to a seed with --into SEED.toml")
        return 1
    target = args.out or _shown(free_path(own_stories_dir(), imported.seed.title))
    if target.exists():
        print(f"{target}: already exists; choose another --out")
        return 1
    if not _write(target, seed_to_toml(imported.seed), replace=False):
        return 1
    openings = len(imported.seed.openings)
    more = f", {openings} alternative opening{'s' if openings != 1 else ''}" if openings else ""
    print(f"wrote {target}: {imported.seed.title} ({len(imported.seed.world)} world entries{more})")
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
    from game.session import make_backend

    # Only what was given, so a from_settings without `backend` still works.
    chosen = {k: getattr(args, k) for k in ("model", "base_url", "backend") if getattr(args, k, None)}
    try:
        seed = asyncio.run(_draft(make_backend, chosen, args.premise, args.genre))
    except (ModelError, SettingsError, ValueError, OSError) as err:  # settings problems are one line too
        print(f"stories new: {' '.join(str(err).split())}")
        return 1
    except KeyboardInterrupt:
        print("stories new: cancelled")
        return 130
    target = args.out or _shown(free_path(own_stories_dir(), seed.title))
    if not _write(target, seed_to_toml(seed), replace=False):
        return 1
    print(f"wrote {target}: {seed.title}")
    return 0


async def _draft(make_backend, chosen: dict, premise: str, genre: str | None) -> Seed:
    from game.stories.writer import write_seed

    backend = make_backend(**chosen)
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


def _write(path: Path, text: str, replace: bool) -> bool:
    """Write whole or not at all (a crash mid-write must not leave half a seed); False on failure."""
    if not replace and path.exists():  # never overwrite a story
        print(f"{path}: already exists; choose another --out")
        return False
    try:
        write_text(path, text)
    except SeedError as err:
        print(err)
        return False
    return True
