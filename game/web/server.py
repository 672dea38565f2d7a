"""The game in a browser: textual-serve's server with our page, a token, and a bound on players.

textual-serve runs one game process per websocket and bridges the terminal to xterm.js in the
page. What we add around it:
- a token off loopback (query parameter once, then an HttpOnly SameSite cookie); a request
  without it gets a bare 403 that says nothing about what is served;
- our own page (game title and icon, no font or script from another host, screen-reader mode on
  a "reader" switch, addresses relative to the page so that a reverse proxy or tunnel works);
- a reload goes back to the story its previous process had open (the same browser, by cookie);
- at most `max_players` game processes; one more gets a plain page that says so.

The token never reaches a log line (the access log has no query strings), nor a game process
(not in its argv, not in its environment), so it cannot land in a save or an export.
"""
from __future__ import annotations

import asyncio
import html
import logging
import os
import secrets
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from textual_serve.app_service import AppService
from textual_serve.server import Server

from game.core.errors import PlayerError

HERE = Path(__file__).parent
STATIC = Path(__import__("textual_serve").__file__).parent / "static"  # xterm's assets, shipped in the wheel
TOKEN_ENV = "RECURRENT_SERVE_TOKEN"  # the token from the environment (not on a command line `ps` shows)
TOKEN_COOKIE = "recurrent_token"
PLAYER_COOKIE = "recurrent_player"  # which browser this is: a reload goes back to its story
READER_COOKIE = "recurrent_reader"
YEAR = 365 * 24 * 3600
RELOAD_SECONDS = 3.0  # how long a new tab waits for the same browser's old socket to close (a reload)
QUIT_SECONDS = 20.0  # how long a game process may take to close its slot after its page went
FORBIDDEN = "403: Forbidden"

log = logging.getLogger("recurrent.serve")

# textual.js builds its terminal with fixed options. Served patched, in memory, from the installed
# package: screen-reader mode from the page, downloads under the page's own address (it used the
# origin's root, which a proxy at a sub-path does not serve). A pattern not found stops the server
# at start, rather than serve a page without them.
JS_PATCHES = [
    ("scrollback:0,", 'scrollback:0,screenReaderMode:document.body.dataset.reader==="on",'),
    ("`${window.location.origin}/download/${i}${r}`", '`${new URL("download/"+i,document.baseURI).href}${r}`'),
]


class ServeError(PlayerError):
    hint = "Install the versions in uv.lock (README, 'Installs that work on any day')."


def patched_js() -> bytes:
    text = (STATIC / "js" / "textual.js").read_text(encoding="utf-8")
    for old, new in JS_PATCHES:
        if text.count(old) != 1:
            raise ServeError(f"textual-serve's textual.js has changed ({old[:40]!r} not found once); "
                               "install the textual-serve version in uv.lock")
        text = text.replace(old, new)
    return text.encode("utf-8")


def last_played_since(saves: Path, since: float) -> str | None:
    """The slot a game opened or played most recently, at or after `since` (epoch seconds)."""
    from game.session.shelf import Shelf

    floor = datetime.fromtimestamp(int(since), timezone.utc).isoformat(timespec="seconds")
    best, best_time = None, ""
    for header in Shelf(saves).headers():
        name = header.get("slot")
        if "error" in header or not name:  # a damaged slot is the title screen's to show, not ours to resume
            continue
        played = max(str(header.get("updated") or ""), str(header.get("opened") or ""))
        if played >= floor and played > best_time:
            best, best_time = name, played
    return best


def held_slot(pid: int, saves: Path) -> tuple[bool, str | None]:
    """(True, the slot whose lock the game process `pid` or its child holds, or None); (False, None)
    where /proc cannot tell. The game holds a slot's lock file open for as long as the story is open."""
    proc = Path("/proc")
    if not (proc / str(pid) / "fd").is_dir():
        return False, None
    pids = [pid]  # the shell textual-serve starts, and the game under it
    for entry in proc.iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                pids.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    root = saves.resolve()
    for one in pids:
        try:
            fds = list((proc / str(one) / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = Path(os.readlink(fd))
            except OSError:
                continue
            if target.name == "lock" and target.parent.parent == root:
                return True, target.parent.name
    return True, None


class Player(AppService):
    """One game process for one page; its environment never holds the token."""

    def __init__(self, command: str, player: str, **kwargs) -> None:
        super().__init__(command, **kwargs)
        self.player = player
        self.started = time.time()
        self.socket_closed = asyncio.Event()
        self.ended = asyncio.Event()

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width, height)
        environment.pop(TOKEN_ENV, None)
        return environment

    async def wait_exit(self) -> None:
        process = self._process
        if process is None:
            return
        try:
            await asyncio.wait_for(process.wait(), QUIT_SECONDS)
        except asyncio.TimeoutError:
            log.warning("a game process did not quit in %.0f s; killed", QUIT_SECONDS)
            process.kill()
            await process.wait()


class AccessLog(AbstractAccessLogger):
    """Method, path and status: never the query string (the token may be in it) nor a cookie."""

    def log(self, request, response, time) -> None:
        self.logger.info("%s %s %s", request.method, request.path, response.status)


class GameServer(Server):
    def __init__(self, *, host: str, port: int, token: str | None, game_args: list[str], saves: Path,
                 max_players: int = 8, public_url: str | None = None, title: str = "Recurrent") -> None:
        super().__init__("recurrent play", host=host, port=port, title=title, public_url=public_url)
        self.token = token
        self.game_args = game_args  # `recurrent play` options every game process gets (never the token)
        self.saves = saves
        self.max_players = max_players
        self.public_url = public_url  # None: every address is relative to the page
        self.players: set[Player] = set()
        self.last_start: dict[str, float] = {}  # browser -> when its latest game process started
        self.last_slot: dict[str, str | None] = {}  # browser -> the slot its latest page had open
        self.js = patched_js()
        self.page = (HERE / "page.html").read_text(encoding="utf-8")
        self.icon = (HERE / "favicon.svg").read_bytes()

    # -- the web application ---------------------------------------------------------------
    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard])
        app.add_routes([
            web.get("/", self.handle_index),
            web.get("/ws", self.handle_websocket),
            web.get("/download/{key}", self.handle_download),
            web.get("/favicon.svg", self.handle_icon),
            web.get("/favicon.ico", self.handle_icon),
            web.get("/static/js/textual.js", self.handle_js),
            web.static("/static", STATIC),
        ])
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        app.on_response_prepare.append(self.anonymous)
        return app

    @staticmethod
    async def anonymous(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["Server"] = "web"  # not aiohttp's name and version: a refused request learns nothing

    def authorized(self, request: web.Request) -> bool:
        if self.token is None:
            return True
        given = [request.query.get("token"), request.cookies.get(TOKEN_COOKIE)]
        bearer = request.headers.get("Authorization", "")
        if bearer.lower().startswith(("bearer ", "token ")):
            given.append(bearer.split(" ", 1)[1].strip())
        return any(value and secrets.compare_digest(value.encode(), self.token.encode()) for value in given)

    def same_origin(self, request: web.Request) -> bool:
        """A websocket opened by a page of another site (or another port of this host, which
        cookies do not tell apart) would ride the player's cookie: only our own page may."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: the token is what guards it
        allowed = {request.host}
        if self.public_url:
            allowed.add(urlsplit(self.public_url).netloc)
        return urlsplit(origin).netloc in allowed

    @web.middleware
    async def guard(self, request: web.Request, handler):
        if not self.authorized(request):
            return web.Response(status=403, text=FORBIDDEN)
        response = await handler(request)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    def cookie(self, response: web.StreamResponse, name: str, value: str, max_age: int | None) -> None:
        secure = bool(self.public_url and self.public_url.startswith("https:"))
        path = (urlsplit(self.public_url).path.rstrip("/") + "/") if self.public_url else "/"
        response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="Strict", secure=secure)

    # -- the page ----------------------------------------------------------------------------
    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if "token" in request.query or "reader" in request.query:
            # Keep the token in a cookie and out of the address bar (and so out of the history and
            # of anything copied from it); keep the reader switch the same way.
            kept = {key: value for key, value in request.query.items() if key not in ("token", "reader")}
            response = web.HTTPFound("./" + (f"?{urlencode(kept)}" if kept else ""))
            if "token" in request.query and self.token is not None:
                self.cookie(response, TOKEN_COOKIE, self.token, YEAR)
            if "reader" in request.query:
                on = request.query["reader"].lower() not in ("0", "off", "no", "false")
                self.cookie(response, READER_COOKIE, "on" if on else "off", YEAR)
            return response
        if self.playing(besides=request.cookies.get(PLAYER_COOKIE)) >= self.max_players:
            return self.full_page()
        reader = request.cookies.get(READER_COOKIE) == "on"
        base = html.escape(self.public_url.rstrip("/") + "/", quote=True) if self.public_url else ""
        page = (self.page.replace("{{title}}", html.escape(self.title))
                .replace("{{base}}", f'<base href="{base}">' if base else "")
                .replace("{{reader}}", "on" if reader else "off")
                .replace("{{font_size}}", str(max(8, min(40, _int(request.query.get("fontsize"), 16))))))
        response = web.Response(text=page, content_type="text/html")
        if not request.cookies.get(PLAYER_COOKIE):
            self.cookie(response, PLAYER_COOKIE, secrets.token_urlsafe(16), YEAR)
        return response

    def full_page(self) -> web.Response:
        text = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}: full</title></head>"
                f"<body><p>All {self.max_players} places at this game are taken. Try again when someone has left.</p>"
                "</body></html>")
        return web.Response(status=503, text=text, content_type="text/html", headers={"Retry-After": "30"})

    async def handle_js(self, request: web.Request) -> web.Response:
        return web.Response(body=self.js, content_type="application/javascript")

    async def handle_icon(self, request: web.Request) -> web.Response:
        return web.Response(body=self.icon, content_type="image/svg+xml")

    # -- one game process a page --------------------------------------------------------------
    def playing(self, besides: str | None = None) -> int:
        """Pages with a game, but for those whose page has gone (their game is quitting) and, for
        a page being loaded, the same browser's: that is the page it replaces, on a reload."""
        return sum(1 for other in self.players if not other.socket_closed.is_set() and other.player != besides)

    def game_command(self, slot: str | None) -> str:
        argv = [sys.executable, "-m", "game", "play", "--saves-dir", str(self.saves), *self.game_args]
        if slot:
            argv += ["--slot", slot]
        return shlex.join(argv)

    async def resume_slot(self, player: str) -> str | None:
        """The story this browser's previous page had open, when this page is that page reloaded.
        A page of the same browser still open after a moment is another tab: the title screen."""
        mine = [other for other in self.players if other.player == player]
        try:
            await asyncio.wait_for(asyncio.gather(*(other.socket_closed.wait() for other in mine)), RELOAD_SECONDS)
        except asyncio.TimeoutError:
            return None
        # The reloaded page's game is quitting: its slot is free once it has gone.
        await asyncio.gather(*(other.ended.wait() for other in mine))
        if player in self.last_slot:  # the slot its game held when the page went
            slot = self.last_slot[player]
            return slot if slot and await asyncio.to_thread(self.exists, slot) else None
        since = self.last_start.get(player)
        if since is None:
            return None
        return await asyncio.to_thread(last_played_since, self.saves, since)  # where /proc cannot tell

    def exists(self, slot: str) -> bool:
        from game.session.shelf import Shelf

        return Shelf(self.saves).has(slot)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if not self.same_origin(request):
            raise web.HTTPForbidden(text=FORBIDDEN)
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        player = request.cookies.get(PLAYER_COOKIE) or secrets.token_urlsafe(16)
        slot = await self.resume_slot(player)  # a reload: its old page has gone by now
        if self.playing() >= self.max_players:
            await websocket.send_bytes(f"All {self.max_players} places at this game are taken. "
                                       "Try again when someone has left.\r\n".encode())
            await websocket.close()
            return websocket
        service = Player(self.game_command(slot), player, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                         close=websocket.close, download_manager=self.download_manager)
        self.players.add(service)
        self.last_start[player] = service.started
        log.info("a page opened a game%s (%d playing)", f", back in slot {slot}" if slot else "", self.playing())
        try:
            await service.start(_int(request.query.get("width"), 80), _int(request.query.get("height"), 24))
            await self._process_messages(websocket, service)
        except (asyncio.CancelledError, ConnectionResetError):
            pass
        except Exception as error:  # one page's trouble is logged in one line, the others play on
            log.warning("a game page failed: %s", type(error).__name__)
        finally:
            if service._process is not None:
                known, held = await asyncio.to_thread(held_slot, service._process.pid, self.saves)
                if known:
                    self.last_slot[player] = held
            service.socket_closed.set()
            try:
                await service.stop()  # asks the game to quit: it closes its slot
                await service.wait_exit()
            finally:
                self.players.discard(service)
                service.ended.set()
                log.info("a page left (%d playing)", self.playing())
                if not websocket.closed:
                    await websocket.close()
        return websocket

    # -- starting and logging -------------------------------------------------------------------
    def initialize_logging(self) -> None:
        # Plain lines: no tracebacks with local variables (a request's cookies are among them).
        logging.basicConfig(level="INFO", format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
        handler = logging.StreamHandler(sys.stderr)  # the game's log file is not where a host looks
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)

    async def on_startup(self, app: web.Application) -> None:
        pass  # the command prints the address to open (with the token); nothing else to say

    def serve(self, debug: bool = False) -> None:
        self.initialize_logging()
        web.run_app(self._make_app(), host=self.host, port=self.port, access_log_class=AccessLog,
                    access_log=logging.getLogger("recurrent.serve.access"), print=None, handle_signals=True)


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def make_token() -> str:
    return secrets.token_urlsafe(24)


def token_from_env() -> str | None:
    return os.environ.get(TOKEN_ENV) or None
