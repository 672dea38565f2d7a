"""`recurrent serve`: the same game, the same saves, in a browser (one game process per page)."""
from __future__ import annotations

import socket

from game.core.errors import PlayerError


class ServeError(PlayerError):
    hint = "See `recurrent serve --help`."


def register(sub, common) -> None:
    serve = sub.add_parser("serve", help="play in a browser: serve the game over HTTP",
                           description="Serve the game to browsers. On loopback no token is needed; on any other "
                                       "address, or with --public-url, a token is (given, from RECURRENT_SERVE_TOKEN, or made and printed "
                                       "in the address to open). Put it behind Caddy or nginx for TLS (README).")
    common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="the port (default: 8000)")
    serve.add_argument("--token", help="the token a browser must show (default: RECURRENT_SERVE_TOKEN, else made "
                                       "when not on loopback); prefer the variable: a command line is public")
    serve.add_argument("--public-url", dest="public_url", metavar="URL",
                       help="the address players open, when a reverse proxy serves the game (e.g. https://example.org/story/)")
    serve.add_argument("--max-players", dest="max_players", type=int, default=4, metavar="N",
                       help="at most N games at once, each its own process (default: 4)")
    serve.set_defaults(func=run)


def game_args(args) -> list[str]:
    """The options every game process is started with (`recurrent play` reads them the same way)."""
    argv = []
    for option, name in (("--model", "model"), ("--backend", "backend"), ("--base-url", "base_url"), ("--gguf", "gguf")):
        value = getattr(args, name, None)
        if value:
            argv += [option, value]
    if getattr(args, "debug", False):
        argv.insert(0, "--debug")
    return argv


def address(args, token: str | None) -> str:
    from urllib.parse import quote

    if args.public_url:
        base = args.public_url.rstrip("/") + "/"
    else:
        host = socket.gethostname() if args.host in ("0.0.0.0", "::", "") else args.host
        host = f"[{host}]" if ":" in host else host
        base = f"http://{host}:{args.port}/"
    return base + (f"?token={quote(token)}" if token else "")


def run(args) -> int:
    from game.session import saves_root, settings_from
    from game.core.hosts import is_loopback
    from game.web.server import GameServer, make_token, token_from_env

    if not 0 < args.port < 65536:
        raise ServeError(f"--port {args.port}: a port is a number from 1 to 65535")
    if args.max_players < 1:
        raise ServeError(f"--max-players {args.max_players}: at least one player")
    if args.public_url and not args.public_url.startswith(("http://", "https://")):
        raise ServeError(f"--public-url {args.public_url}: an address starting with http:// or https://")
    token = args.token or token_from_env()
    made = False
    # Behind a reverse proxy the server listens on loopback but the world reaches it: a token then too.
    if token is None and (not is_loopback(args.host) or args.public_url):
        token, made = make_token(), True
    if token is not None and len(token) < 8:
        raise ServeError("the token is too short: at least 8 characters (or leave it out to have one made)")
    settings = settings_from(args)
    saves = saves_root(args, settings)
    saves.mkdir(parents=True, exist_ok=True)
    server = GameServer(host=args.host, port=args.port, token=token, game_args=game_args(args), saves=saves,
                        max_players=args.max_players, public_url=args.public_url)
    with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
        try:  # a port in use is one line here, not a traceback from the web server
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((args.host, args.port))
        except OSError as error:
            raise ServeError(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
    print(f"recurrent: serving the saves in {saves}", flush=True)
    # A token made here is printed (the host needs it, as Jupyter does); one given is not repeated
    # into the output, which often ends up in a log (systemd's journal).
    print(f"recurrent: open {address(args, token if made else None)}", flush=True)
    if token and not made:
        print("recurrent: add ?token=<your token> to that address once; the browser keeps it", flush=True)
    print("recurrent: Ctrl+C stops it", flush=True)
    server.serve()
    return 0
