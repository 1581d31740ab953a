"""A real OpenAI-compatible HTTP server on 127.0.0.1 that fails on demand (tests only).

``FaultServer`` answers ``POST .../chat/completions`` in one of these modes:

* ``ok``: a valid chat completion whose text is ``reply(payload)``;
* ``down``: nothing listens on the port (the server is stopped; any other mode restarts
  it on the same port, so "the server comes back");
* ``500``: HTTP 500 with an OpenAI error object;
* ``invalid_json``: HTTP 200 with an HTML body;
* ``no_choices``: HTTP 200 with JSON that has no ``choices``;
* ``sleep``: answers validly, but only after ``sleep_s`` (past the client's timeout);
* ``401``: HTTP 401, as for a wrong API key.

``ok_left`` valid answers are given first whatever the mode, so a test can fail a server
part-way through a run.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("ok", "down", "500", "invalid_json", "no_choices", "sleep", "401")


def finish_reply(payload: dict[str, Any]) -> str:
    """What the served "model" says by default: a planner decision to finish."""
    return '{"action": "finish"}'


class FaultServer:
    """One local server whose behaviour the test switches; use as a context manager."""

    def __init__(
        self,
        mode: str = "ok",
        *,
        ok_left: int = 0,
        sleep_s: float = 3.0,
        reply: Callable[[dict[str, Any]], str] = finish_reply,
    ) -> None:
        self.ok_left = ok_left
        self.sleep_s = sleep_s
        self.reply = reply
        self.received = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._httpd = self._bind(0)
        self.port = int(self._httpd.server_address[1])
        self._serve()
        self.mode = "ok"
        self.set_mode(mode)

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL (with ``/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def set_mode(self, mode: str) -> None:
        """Switch behaviour; ``down`` stops listening, any other mode listens again."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        if mode == "down":
            self._stop()
        elif self._httpd is None:
            self._httpd = self._bind(self.port)
            self._serve()
        self.mode = mode

    def close(self) -> None:
        """Stop the server (idempotent)."""
        self._stop()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------

    def _bind(self, port: int) -> ThreadingHTTPServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                server._answer(self, payload)

            def log_message(self, format: str, *args: Any) -> None:
                return None  # keep the test output clean

        httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False  # a sleeping handler must not hold up stop()
        return httpd

    def _serve(self) -> None:
        assert self._httpd is not None
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def _answer(self, handler: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
        with self._lock:
            self.received += 1
            mode = self.mode
            if self.ok_left > 0:
                self.ok_left -= 1
                mode = "ok"
        if mode == "sleep":
            time.sleep(self.sleep_s)
            mode = "ok"
        if mode == "ok":
            text = self.reply(payload)
            body = {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split())},
            }
            self._send(handler, 200, json.dumps(body), "application/json")
        elif mode == "500":
            error = {"error": {"message": "internal server error", "type": "server_error"}}
            self._send(handler, 500, json.dumps(error), "application/json")
        elif mode == "invalid_json":
            self._send(handler, 200, "<html>502 upstream</html>", "text/html")
        elif mode == "no_choices":
            self._send(handler, 200, json.dumps({"id": "x", "object": "list"}), "application/json")
        elif mode == "401":
            error = {"error": {"message": "Incorrect API key provided", "code": "invalid_key"}}
            self._send(handler, 401, json.dumps(error), "application/json")

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: str, content_type: str) -> None:
        data = body.encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer
