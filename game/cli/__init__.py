"""The `recurrent` command."""
from __future__ import annotations

import argparse
import sys

from game import __version__


def _common_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model name (default: RECURRENT_MODEL)")
    parser.add_argument("--backend", help="openai, ollama, lmstudio, vllm, llamacpp or local (default: auto-detect)")
    parser.add_argument("--base-url", dest="base_url", help="an OpenAI-compatible server (default: OPENAI_BASE_URL)")
    parser.add_argument("--gguf", help="a GGUF model file for the local backend")
    parser.add_argument("--saves-dir", dest="saves_dir", help="the saves folder (default: RECURRENT_SAVES_DIR or saves/)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recurrent", description="Interactive fiction told by a language model, with long memory.")
    parser.add_argument("--version", action="version", version=f"recurrent {__version__}")
    sub = parser.add_subparsers(dest="command")

    play = sub.add_parser("play", help="play in the terminal (the default)")
    _common_backend(play)
    play.add_argument("--story", help="start a new game from this story file")
    play.add_argument("--slot", help="the save slot to start or resume")
    play.add_argument("--opening", type=int, default=1, metavar="N",
                      help="begin with the story's opening N (1, its own; 2... its alternative openings)")
    play.set_defaults(func=_run_play)

    write = sub.add_parser("write", help="write a story headless, N steps at a time")
    _common_backend(write)
    write.add_argument("--story", help="a story file (omit to continue an existing slot)")
    write.add_argument("--slot", required=True, help="the save slot")
    write.add_argument("--steps", type=int, required=True, help="how many actions to answer")
    write.add_argument("--actions", help="a file of actions, one a line: 1/2/3 pick an option, empty picks 1")
    write.add_argument("--opening", type=int, default=1, metavar="N",
                       help="with --story: begin with its opening N (1, its own; 2... its alternative openings)")
    write.add_argument("--out", help="write the story as Markdown here (default: stdout)")
    write.set_defaults(func=_run_write)

    from game.cli.doctor import register as register_doctor
    from game.cli.saves import register as register_saves
    from game.cli.stories import register as register_stories

    register_saves(sub, _common_backend)
    register_stories(sub)
    register_doctor(sub, _common_backend)
    return parser


def _run_play(args) -> int:
    from game.ui.launch import play

    return play(args)


def _run_write(args) -> int:
    import asyncio

    from game.cli.headless import write

    return asyncio.run(write(args))


def main(argv: list[str] | None = None) -> int:
    from game.core.errors import PlayerError, one_line

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # `recurrent` alone, or with only play's options (`recurrent --gguf F`), means `recurrent play`.
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["play", *argv]
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("recurrent: stopped", file=sys.stderr)
        return 130
    except PlayerError as error:
        print(f"recurrent: {one_line(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
