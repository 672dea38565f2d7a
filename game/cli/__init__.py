"""The `recurrent` command."""
from __future__ import annotations

import argparse
import sys

from game import __version__


EXAMPLES = """\
examples:
  recurrent                                          play (title screen: new game, continue, load, settings)
  recurrent play --story night-ferry-to-kestrel      start a story from the library by its name
  recurrent play --plain --slot ferry                plain lines for screen readers and scripts (type help there)
  recurrent stories list                             the library and your own stories
  recurrent write --story the-time-lock --slot vault --steps 20 --out vault.md
  recurrent write --slot vault --steps 10 --actions my-actions.txt
  recurrent --backend ollama --model llama3.2        any backend, any model
  recurrent --base-url http://127.0.0.1:8000/v1 --model my-model
  recurrent doctor                                   what the game finds here: backend, models, paths
  recurrent serve --host 0.0.0.0                     play in a browser (prints the address, with its token)
  recurrent --debug write ...                        a verbose debug log (recurrent doctor names it)
"""

ENVIRONMENT = """\
environment:
  OPENAI_API_KEY          the key for OpenAI or any server that wants one (read, never written anywhere)
  OPENAI_BASE_URL         an OpenAI-compatible server, e.g. http://localhost:8000/v1
  RECURRENT_MODEL         the model to ask for
  RECURRENT_BACKEND       auto, openai, ollama, lmstudio, vllm, llamacpp, koboldcpp or local
  RECURRENT_BASE_URL      the server, overriding the profile's and OPENAI_BASE_URL
  RECURRENT_GGUF          a GGUF model file for the local backend
  RECURRENT_<SETTING>     any other setting (temperature, paragraph_words, theme, ...; see the README)
  RECURRENT_CONFIG        the settings file (default $XDG_CONFIG_HOME/recurrent/settings.toml)
  RECURRENT_SAVES_DIR     the saves folder (default $XDG_DATA_HOME/recurrent/saves, or saves/ in a checkout)
  RECURRENT_STORIES_DIR   your own stories (default $XDG_DATA_HOME/recurrent/stories)
  RECURRENT_LLAMA_THREADS threads for the local model
  RECURRENT_SERVE_TOKEN   the token browsers must show to `recurrent serve` (never passed to the games)
  OLLAMA_HOST             where Ollama listens (default localhost:11434)
  XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME   where settings, saves and stories, and logs live
"""

BACKENDS = "openai, ollama, lmstudio, vllm, llamacpp, koboldcpp or local"


def _debug(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: `recurrent --debug write` and `recurrent write --debug` both work, neither resets the other.
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="a verbose debug log: model answers too (recurrent doctor names its file)")


def _common_backend(parser: argparse.ArgumentParser) -> None:
    _debug(parser)
    parser.add_argument("--model", help="model name (default: RECURRENT_MODEL)")
    parser.add_argument("--backend", help=f"{BACKENDS} (default: auto-detect)")
    parser.add_argument("--base-url", dest="base_url", help="an OpenAI-compatible server (default: OPENAI_BASE_URL)")
    parser.add_argument("--gguf", help="a GGUF model file for the local backend")
    parser.add_argument("--saves-dir", dest="saves_dir", help="the saves folder (default: RECURRENT_SAVES_DIR, else $XDG_DATA_HOME/recurrent/saves)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recurrent", description="Interactive fiction told by a language model, with long memory.",
                                     epilog=EXAMPLES + "\n" + ENVIRONMENT, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"recurrent {__version__}")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="a verbose debug log: model answers too (recurrent doctor names its file)")
    sub = parser.add_subparsers(dest="command")

    play = sub.add_parser("play", help="play in the terminal (the default)")
    _common_backend(play)
    play.add_argument("--story", help="start a new game from this story: a name from `recurrent stories list`, or a file")
    play.add_argument("--slot", help="the save slot to start or resume")
    play.add_argument("--opening", type=int, default=1, metavar="N",
                      help="begin with the story's opening N (1, its own; 2... its alternative openings)")
    play.add_argument("--plain", action="store_true",
                      help="plain lines of text, for screen readers and scripts (chosen when there is no terminal or TERM=dumb)")
    play.set_defaults(func=_run_play)

    write = sub.add_parser("write", help="write a story headless, N steps at a time")
    _common_backend(write)
    write.add_argument("--story", help="a story's name or file (omit to continue an existing slot)")
    write.add_argument("--slot", required=True, help="the save slot")
    write.add_argument("--steps", type=int, required=True, help="how many actions to answer")
    write.add_argument("--actions", help="a file of actions, one a line: 1/2/3 pick an option, empty picks 1")
    write.add_argument("--opening", type=int, default=1, metavar="N",
                       help="with --story: begin with its opening N (1, its own; 2... its alternative openings)")
    write.add_argument("--out", help="write the story as Markdown here (default: stdout)")
    write.set_defaults(func=_run_write)

    from game.cli.doctor import register as register_doctor
    from game.cli.saves import register as register_saves
    from game.cli.serve import register as register_serve
    from game.cli.stories import register as register_stories

    register_saves(sub, _common_backend)
    register_stories(sub, _debug)
    register_doctor(sub, _common_backend)
    register_serve(sub, _common_backend)
    return parser


def _run_play(args) -> int:
    from game.cli import plain

    if plain.wanted(args):
        return plain.run(args)
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
    # `recurrent` alone, or with only play's options (`recurrent --gguf F`), means `recurrent play`;
    # `--debug` may come before any command.
    lead = ["--debug"] if argv[:1] == ["--debug"] else []
    argv = argv[len(lead):]
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["play", *argv]
    argv = lead + argv
    args = parser.parse_args(argv)
    from game.core.logs import configure

    configure(debug=bool(getattr(args, "debug", False)))
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("recurrent: stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader closed the pipe (`recurrent saves list | head -1`): what they wanted is read.
        # Point stdout at nothing, so that Python's own flush at exit cannot fail again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except PlayerError as error:
        print(f"recurrent: {one_line(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
