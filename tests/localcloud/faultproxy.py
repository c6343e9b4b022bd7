"""A fault-injecting HTTP proxy for tests: between the modules and a real server, on loopback.

Run in the test's own process (FaultProxy(upstream).start()); point a client at its URL (for
the modules, a clouds.yaml ``object_store_endpoint_override``). Rules, matched in order by
method and path regex, each a given number of times:

  status     answer ``status`` (with ``Retry-After`` when given) instead of forwarding
  stall      wait ``seconds`` before forwarding (past a client's read timeout)
  reset      forward, then drop the connection after ``after_bytes`` of the response body
  truncate   forward, send ``after_bytes`` of the body under the full Content-Length, close
  flip       forward, with one byte of the response body inverted at ``offset``
  flip_request  forward a request body with one byte inverted at ``offset``
  status_after  forward (the server acts), then answer ``status`` instead of its response: a
             gateway's 502/504 after the upstream did the work
  drop_after forward (the server acts), then close the connection without an answer: a read
             timeout or a reset after the upstream did the work

Everything else is passed through unchanged, streamed both ways. ``injected`` counts what was done.
"""
from __future__ import annotations

import hashlib
import http.client
import http.server
import re
import socket
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass

HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
       "transfer-encoding", "upgrade", "host"}
CHUNK = 64 * 1024


@dataclass
class Rule:
    kind: str
    path: str = ".*"
    method: str = "GET"
    times: int = 1
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    after_bytes: int = 0
    offset: int = 0


class FaultProxy:
    def __init__(self, upstream: str):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.rules: list[Rule] = []
        self.injected: Counter = Counter()
        self.tokens: set = set()  # digests of the X-Auth-Token values seen (never the tokens)
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def do_GET(self):
                proxy.handle(self)

            do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_COPY = do_GET

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FaultProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, *rules: Rule) -> None:
        with self.lock:
            self.rules.extend(rules)

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()
            self.injected.clear()

    def take(self, method: str, path: str) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.times > 0 and rule.method == method and re.search(rule.path, path):
                    rule.times -= 1
                    self.injected[rule.kind] += 1
                    return rule
        return None

    def handle(self, req) -> None:
        token = req.headers.get("X-Auth-Token")
        if token:
            with self.lock:
                self.tokens.add(hashlib.sha256(token.encode()).hexdigest())
        rule = self.take(req.command, urllib.parse.unquote(req.path))
        length = int(req.headers.get("Content-Length") or 0)
        if rule and rule.kind == "status":
            remaining = length
            while remaining > 0:
                remaining -= len(req.rfile.read(min(CHUNK, remaining)) or b"x" * remaining)
            req.send_response(rule.status)
            if rule.retry_after:
                req.send_header("Retry-After", rule.retry_after)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        if rule and rule.kind == "stall":
            time.sleep(rule.seconds)
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        try:
            conn.putrequest(req.command, req.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", self.upstream.netloc)
            for key, value in req.headers.items():
                if key.lower() not in HOP:
                    conn.putheader(key, value)
            conn.endheaders()
            sent = 0
            while sent < length:
                piece = req.rfile.read(min(CHUNK, length - sent))
                if not piece:
                    break
                if rule and rule.kind == "flip_request" and sent <= rule.offset < sent + len(piece):
                    at = rule.offset - sent
                    piece = piece[:at] + bytes([piece[at] ^ 0xFF]) + piece[at + 1:]
                conn.send(piece)
                sent += len(piece)
            resp = conn.getresponse()
            if rule and rule.kind in ("status_after", "drop_after"):
                resp.read()
                if rule.kind == "drop_after":
                    req.close_connection = True
                    req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    req.connection.close()
                    return
                req.send_response(rule.status)
                req.send_header("Content-Length", "0")
                req.end_headers()
                return
            req.send_response(resp.status, resp.reason)
            for key, value in resp.getheaders():
                if key.lower() not in HOP:
                    req.send_header(key, value)
            req.end_headers()
            if req.command == "HEAD":
                return
            passed = 0
            while True:
                piece = resp.read(CHUNK)
                if not piece:
                    break
                if rule and rule.kind in ("reset", "truncate") and passed + len(piece) > rule.after_bytes:
                    req.wfile.write(piece[:max(rule.after_bytes - passed, 0)])
                    req.wfile.flush()
                    if rule.kind == "reset":
                        req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    req.close_connection = True
                    req.connection.close()
                    return
                if rule and rule.kind == "flip" and passed <= rule.offset < passed + len(piece):
                    at = rule.offset - passed
                    piece = piece[:at] + bytes([piece[at] ^ 0xFF]) + piece[at + 1:]
                req.wfile.write(piece)
                passed += len(piece)
        except OSError:
            req.close_connection = True
        finally:
            conn.close()
