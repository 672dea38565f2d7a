"""The debug log: each request's messages, its timing, the server's errors; never the key."""
from __future__ import annotations

import logging
import re

from game.core.logs import configure, logger


async def test_a_call_is_logged_with_its_messages_timing_and_error(server, backend_for, tmp_path):
    path = configure(debug=True, path=tmp_path / "state" / "recurrent.log")
    try:
        backend = backend_for(server)
        server.fail("500")
        messages = [{"role": "user", "content": "The reader's action: open the ледник door"}]
        text = "".join([piece async for piece in backend.stream(messages, max_tokens=50, temperature=0.5)])
        await backend.close()
        logger("guards").info("another part of the game logs here too")
        for handler in logger().handlers:
            handler.flush()
        log = path.read_text(encoding="utf-8")
    finally:
        configure(path=tmp_path / "elsewhere.log")
    assert "open the ледник door" in log  # the messages, as sent (not escaped)
    assert "failed after" in log and "InternalServerError 500" in log and "server error" in log
    assert re.search(r"answer \d+: stop in [\d.]+ s, first text after", log)
    assert text in log  # --debug: the answer too
    assert "recurrent.guards: another part of the game logs here too" in log
    assert "sk-test" not in log


def test_the_default_level_keeps_requests_not_answers(tmp_path):
    configure(debug=False, path=tmp_path / "recurrent.log")
    try:
        assert logger("llm").isEnabledFor(logging.INFO) and not logger("llm").isEnabledFor(logging.DEBUG)
        assert not (tmp_path / "recurrent.log").exists()  # nothing logged, nothing made
    finally:
        configure(path=tmp_path / "elsewhere.log")
