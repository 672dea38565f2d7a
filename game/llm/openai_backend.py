"""Text generation through any OpenAI-compatible server.

The openai client's own retries are switched off: we retry here so that a
stream cut short half-way is retried like a 429 or a 500, and so that the
player is told plainly what is happening while they wait.

A server is not trusted to behave: every call has a total deadline as well as the
client's read timeout (keep-alive comments would otherwise hold a stream open for
ever), a stream that sends nothing but keep-alives for the read timeout counts as
stalled, an answer is read only up to a ceiling of characters for the tokens asked
for, and an answer that is not UTF-8, not JSON or nested past reason is a garbled
answer, retried like any other failure.
"""
from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, TypeVar

import openai
from pydantic import BaseModel

from game.core.calls import CallUsage, InvalidOutput, Listener, Message, ModelError, Notice, Reply, Usage
from game.core.redact import keep_secret, redact
from game.core.text import tokens
from game.llm import formats as ladder
from game.llm.held import Held
from game.llm.base import RetryPolicy
from game.llm.calibrate import Calibration, count_tokens
from game.llm.calllog import Call, note
from game.llm.jsonout import parse_as, response_format, strict_schema
from game.llm.grammar import with_ceilings
from game.llm.failures import (Garbled, NotOpenAI, Overdue, Stalled, StreamCut, cache_counts, describe, retry_hint,
                                server_says)

T = TypeVar("T", bound=BaseModel)


# How much text a call may bring back for each token asked for. A token is about four
# characters of English; a server that sends far more is ignoring max_tokens, and what it
# sends past this is dropped (the answer counts as cut at its length limit).
CHARS_PER_TOKEN = 16
# What a body or an event can be, read by the openai client, when it is not a reply at all.
UNREADABLE = (RecursionError, UnicodeDecodeError, json.JSONDecodeError)  # nested past reason, not UTF-8, not JSON


# How structured output is asked for, best first; game/llm/formats.py says how a refusal moves
# down it. "grammar" (a GBNF grammar in the request) is for servers known to take it.
FORMATS = ladder.LADDER

# Errors after which the server itself may be gone (a local child process that crashed).
# openai raises its own classes for every transport failure, a stream broken half-way
# included, whatever HTTP library it talks through (httpx, then httpx2 from 3.x on): we name
# none of that library's classes, so a release of it cannot change what we catch.
LOST = (openai.APIConnectionError,)
# Every way one try of a call can fail that `describe` (failures.py) knows how to tell.
FAILED = (openai.APIError, StreamCut, Garbled, NotOpenAI, Stalled, Overdue)


class OpenAIBackend:
    keeps_cache = False  # a server shared with others (or billing each prompt token) keeps no story's cache for us

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        policy: RetryPolicy | None = None,
        extra_body: dict | None = None,
        prose_body: dict | None = None,
        formats: tuple[str | None, ...] = FORMATS,
        grammar: Callable[[type[BaseModel], int], str | None] | None = None,
        ceilings: Callable[[dict, int], dict] | None = None,
        gone: Callable[[], Awaitable[str | None]] | None = None,
        fresh_seed: bool = False,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.policy = policy or RetryPolicy()
        self.usage = Usage()  # the running tally of every call; one call's own is on its Reply
        self.extra_body = extra_body or {}
        self.prose_body = prose_body or {}  # added to prose requests only (a repetition penalty)
        self.formats = formats
        self.grammar = grammar
        self.ceilings = ceilings  # bounds a JSON schema's strings for max_tokens (servers that make it a grammar)
        self._api_key = api_key  # for the tokenizer endpoint, which the openai client does not call
        self.gone = gone  # says why the server is gone for good, or None
        self.fresh_seed = fresh_seed  # llama.cpp would otherwise sample a retried step word for word
        # index into self.formats: how structured output is asked for (as this server took it before)
        self._format = self.formats.index(ladder.remembered(base_url, self.formats))
        self._stream_notes = True  # structured answers stream until the server says it cannot
        self._window: list[int | None] | None = None  # the context window, once asked
        self.calibration = Calibration()  # real tokens per estimated token, on this server
        self._counts_tokens: bool | None = None  # whether the server has a tokenizer endpoint
        self._call: Call | None = None  # the request in flight, for the debug log
        keep_secret(api_key)  # no error, notice or log line may show it, even when the server echoes it
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            max_retries=0,
            # openai's own Timeout: the class of whichever HTTP library this openai talks through
            timeout=openai.Timeout(self.policy.timeout, connect=min(10.0, self.policy.timeout)),
        )
        # openai imports its chat resources on first use, some 50 ms of imports: here, where the
        # backend is made (in a thread, game/session/model.py), rather than on the event loop
        # as the first paragraph is asked for.
        self._client.chat.completions  # noqa: B018

    async def close(self) -> None:
        await self._client.close()

    # A server elsewhere has no process to start and keeps no story's cache between sessions.
    def start(self) -> None:
        pass

    def open_story(self, saves: Path, name: str) -> None:
        pass

    async def keep_story(self) -> None:
        pass

    def _body(self, extra: dict | None = None) -> dict | None:
        body = {**self.extra_body, **(extra or {})}
        if self.fresh_seed:
            body["seed"] = random.randrange(2**31)
        return body or None

    async def _wait(self, attempt: int, error: Exception, on_notice: Listener | None, restart: bool) -> None:
        if self._call is not None:
            self._call.failed(error)
        if self.gone is not None and isinstance(error, LOST + (StreamCut, Garbled)):
            why = await self.gone()
            if why:
                raise ModelError(why, "Try again: the next call starts the model afresh.") from error
        reason, retry, hint = describe(error, self.base_url, self.model, self.policy)
        if not retry or attempt + 1 >= self.policy.attempts:
            raise ModelError(reason, hint) from error
        delay = self.policy.delay(attempt, retry_hint(error))
        if on_notice:
            on_notice(Notice(f"{reason}; trying again in {delay:.1f} s", restart=restart))
        await asyncio.sleep(delay)

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float,
        on_notice: Listener | None = None,
    ) -> Reply:
        """The answer as prose: iterate the reply for its pieces, then read its finish and usage."""
        return Reply(lambda reply: self._tries(reply, messages, max_tokens, temperature, on_notice))

    async def _tries(self, reply: Reply, messages, max_tokens, temperature, on_notice) -> AsyncIterator[str]:
        for attempt in range(self.policy.attempts):
            sent_any = False
            try:
                async for piece in self._stream_once(reply, messages, max_tokens, temperature,
                                                     {"extra_body": self._body(self.prose_body)}):
                    sent_any = True
                    yield piece
                return
            except FAILED as error:
                await self._wait(attempt, error, on_notice, restart=sent_any)

    def _ends(self) -> float:
        """When a call started now must be over (the event loop's clock)."""
        return asyncio.get_running_loop().time() + self.policy.deadline

    async def _create(self, ends: float, **request):
        """The request sent, by the deadline; what the client cannot read becomes our own error."""
        timer = asyncio.timeout_at(ends)
        try:
            async with timer:
                return await self._client.chat.completions.create(model=self.model, **request)
        except TimeoutError:
            if timer.expired():
                raise Overdue() from None
            raise
        except json.JSONDecodeError:
            raise NotOpenAI() from None  # a web page labelled as JSON
        except UNREADABLE:
            raise Garbled() from None

    async def _stream_once(self, reply: Reply, messages, max_tokens, temperature, asking: dict) -> AsyncIterator[str]:
        """One try of a streamed call; `reply` is ended with its finish and usage once the server has
        said its last word (a try cut short ends nothing)."""
        ends = self._ends()
        call = self._call = self._sent("streamed", messages, asking)
        stream = await self._create(ends, messages=messages, max_tokens=max_tokens, temperature=temperature,
                                    stream=True, stream_options={"include_usage": True}, **asking)
        kind = stream.response.headers.get("content-type", "")
        if "event-stream" not in kind and "json" not in kind:
            await stream.close()
            raise NotOpenAI()
        finish = ""
        text: list[str] = []
        room = max_tokens * CHARS_PER_TOKEN
        usage = None
        timings: dict = {}
        events = 0
        held = Held()
        async with stream:
            async for chunk in self._chunks(stream, ends):
                events += 1
                if chunk.usage is not None:
                    usage = chunk.usage
                extra = getattr(chunk, "model_extra", None) or {}
                if isinstance(extra.get("timings"), dict):  # llama.cpp: prompt_n read, cache_n reused
                    timings = extra["timings"]
                for choice in chunk.choices:
                    if choice.delta and choice.delta.content:
                        call.heard()
                        piece = choice.delta.content[:room]
                        room -= len(piece)
                        text.append(piece)
                        ready = held.add(piece)
                        if ready:
                            yield ready
                    if choice.finish_reason:
                        finish = choice.finish_reason
                if room <= 0:  # a server ignoring max_tokens: read no more of it
                    finish = "length"
                    break
        rest = held.rest()
        if rest and finish:
            yield rest
        if not events and "event-stream" not in kind:
            raise NotOpenAI()  # a body labelled JSON with not one event in it: a web page, say
        if not finish:
            raise StreamCut()
        # Without a usage report (llama-cpp-python's server sends none), a streaming server's
        # chunks are its tokens, one each.
        prompt = await self._prompt_tokens(messages, usage.prompt_tokens if usage else None)
        completion = usage.completion_tokens if usage else len(text)
        self.usage.add(prompt, completion)
        reply.end(finish, CallUsage(prompt, completion, *cache_counts(timings, usage)))
        call.done(prompt, completion, finish, "".join(text))

    async def _chunks(self, stream, ends: float):
        """The stream's events, each within the read timeout (keep-alive comments are no event)
        and all of them by the deadline `ends`."""
        loop = asyncio.get_running_loop()
        while True:
            idle = loop.time() + self.policy.timeout
            timer = asyncio.timeout_at(min(ends, idle))
            try:
                async with timer:
                    chunk = await stream.__anext__()
            except StopAsyncIteration:
                return
            except TimeoutError:
                if not timer.expired():
                    raise
                raise (Overdue() if ends <= idle else Stalled()) from None
            except UNREADABLE:
                raise Garbled() from None
            yield chunk

    async def structured(
        self,
        messages: list[Message],
        schema: type[T],
        *,
        max_tokens: int,
        temperature: float,
        on_notice: Listener | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> T:
        """The answer as `schema`. With `on_text`, the answer streams and `on_text` hears each piece
        (so its first fields can be shown before the last are written); a notice with `restart`
        says the pieces so far are void. Servers that cannot stream it are asked for it whole."""
        invalid = 0
        failures = 0
        while True:
            wanted = self.formats[self._format]
            streaming = on_text is not None and self._stream_notes
            try:
                if streaming:
                    text = await self._streamed_answer(messages, schema, max_tokens, temperature, wanted, on_text)
                else:
                    text = await self._whole_answer(messages, schema, max_tokens, temperature, wanted)
            except openai.APIStatusError as error:
                if self._format_refused(error, wanted, on_notice):
                    continue
                if not isinstance(error, openai.BadRequestError):
                    await self._wait(failures, error, on_notice, restart=streaming)
                    failures += 1
                    continue
                if streaming:
                    self._stream_notes = False  # this server takes structured output only whole
                    continue
                if self._format + 1 < len(self.formats):
                    # A bare 400 to a structured request: ask more simply, for good.
                    self._step_to(self.formats[self._format + 1], wanted, on_notice)
                    continue
                await self._wait(failures, error, on_notice, restart=False)
                failures += 1
                continue
            except FAILED as error:
                await self._wait(failures, error, on_notice, restart=streaming)
                failures += 1
                continue
            parsed = parse_as(text, schema)
            if parsed is not None:
                return parsed
            invalid += 1
            if invalid >= self.policy.invalid_attempts:
                raise InvalidOutput(f"the model did not return valid {schema.__name__} JSON after {invalid} tries")
            if on_notice:
                on_notice(Notice("the model's answer was not valid JSON; asking again", restart=streaming))

    async def _streamed_answer(self, messages, schema, max_tokens, temperature, wanted, on_text) -> str:
        pieces = []
        asking = self._asking(wanted, schema, max_tokens)
        async for piece in Reply(lambda reply: self._stream_once(reply, messages, max_tokens, temperature, asking)):
            pieces.append(piece)
            on_text(piece)
        return "".join(pieces)

    async def _whole_answer(self, messages, schema, max_tokens, temperature, wanted) -> str:
        asking = self._asking(wanted, schema, max_tokens)
        call = self._call = self._sent("whole", messages, asking)
        response = await self._create(self._ends(), messages=messages, max_tokens=max_tokens,
                                      temperature=temperature, **asking)
        if not hasattr(response, "choices"):  # a web page or plain text where JSON was due
            raise NotOpenAI()
        choice = response.choices[0] if response.choices else None
        text = (choice.message.content or "") if choice else ""
        room = max_tokens * CHARS_PER_TOKEN
        finish = (choice.finish_reason or "") if choice else ""
        if len(text) > room:  # a server ignoring max_tokens
            text, finish = text[:room], "length"
        text = redact(text)  # a server may quote our key back: it never reaches the story
        usage = response.usage
        prompt = await self._prompt_tokens(messages, usage.prompt_tokens if usage else None)
        completion = usage.completion_tokens if usage else tokens(text)
        self.usage.add(prompt, completion)
        call.done(prompt, completion, finish, text)
        return text

    # -- the debug log and the token estimate ----------------------------------------------
    def _sent(self, kind: str, messages: list[Message], asking: dict) -> Call:
        """Log a request as it goes (its messages and how structured output is asked, never a header)."""
        fmt = asking.get("response_format") or {}
        asked = fmt.get("type", "") + ("+schema" if "schema" in fmt else "") or None
        if asked is None and "grammar" in (asking.get("extra_body") or {}):
            asked = "grammar"
        return Call(self.base_url, self.model, kind, messages, asked)

    @property
    def token_scale(self) -> float:
        """Real tokens per estimated token on this server (the engine's budget divides by it)."""
        return self.calibration.scale

    async def _prompt_tokens(self, messages: list[Message], reported: int | None) -> int:
        """The prompt's size in real tokens: as the server reported it, else as its tokenizer
        counts it, else the estimate scaled by what was learnt; each real count calibrates."""
        text = "\n".join(m["content"] for m in messages)
        estimated = tokens(text)
        real = reported
        if real is None and self._counts_tokens is not False and self.calibration.wanted():
            real = await asyncio.to_thread(count_tokens, self.base_url, text, self._api_key)
            if self._counts_tokens is None:
                self._counts_tokens = real is not None
                note("%s %s a tokenizer endpoint", self.base_url, "has" if real is not None else "has no")
        if real is not None:
            self.calibration.add(estimated, real)
            return real
        return round(estimated * self.calibration.scale)

    async def context_window(self) -> int | None:
        """The server's context window in tokens, asked once (None when it does not say)."""
        if self._window is None:
            from game.llm.window import probe

            window, server = await asyncio.to_thread(probe, self.base_url, self.model)
            self._window = [window]
            if server == "llamacpp" and self.ceilings is None:
                # llama.cpp's server makes a JSON schema its grammar: every string is given the
                # grammar's ceiling, as the game's own child is, so a small model's option cannot
                # run the notes out of tokens.
                self.ceilings = with_ceilings
        return self._window[0]

    def _format_refused(self, error: openai.APIStatusError, wanted: str | None, on_notice: Listener | None) -> bool:
        """A refusal that names the way structured output was asked, on any status (llama-cpp-python
        answers 500): step down the ladder as far as the server's words say. False if it does not
        apply, or no rung is left."""
        said = server_says(error, limit=2000)
        if wanted is None or not ladder.names_format(said):
            return False
        rung = ladder.after_refusal(self.formats, wanted, said)
        if rung is False:
            return False
        self._step_to(rung, wanted, on_notice)
        return True

    def _step_to(self, rung: str | None, refused: str | None, on_notice: Listener | None) -> None:
        """Ask for structured output as `rung` from now on, and for the rest of the session."""
        self._format = self.formats.index(rung)
        ladder.remember(self.base_url, self.formats, rung)
        note("%s refused %s; asking for %s from now on", self.base_url, refused, rung)
        if on_notice:
            on_notice(Notice(f"the server refused {ladder.described(refused)}; asking for {ladder.described(rung)}"))

    def _asking(self, wanted: str | None, schema: type[BaseModel], max_tokens: int) -> dict:
        """The request's arguments that ask for `schema` in the way `wanted` names."""
        if wanted == "grammar" and self.grammar is not None:
            grammar = self.grammar(schema, max_tokens)
            if grammar is not None:
                return {"extra_body": self._body({"grammar": grammar})}
            wanted = "json_object"
        if wanted == ladder.JSON_SCHEMA:
            # api.openai.com refuses maxLength in strict schemas; the servers players run honour it.
            lengths = "api.openai.com" not in self.base_url
            asked = response_format(schema, lengths)
            if self.ceilings is not None:
                asked["json_schema"]["schema"] = self.ceilings(asked["json_schema"]["schema"], max_tokens)
            return {"response_format": asked, "extra_body": self._body()}
        if wanted == ladder.JSON_OBJECT_SCHEMA:  # llama-cpp-python's way: JSON mode held to a schema
            asked = {"type": "json_object", "schema": strict_schema(schema.model_json_schema(), lengths=False)}
            return {"response_format": asked, "extra_body": self._body()}
        if wanted:
            return {"response_format": {"type": wanted}, "extra_body": self._body()}
        return {"extra_body": self._body()}

