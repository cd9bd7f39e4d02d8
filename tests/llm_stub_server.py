#!/usr/bin/python3
"""Loopback LLM stub for the tests: OpenAI-compatible /v1/chat/completions and
Anthropic /v1/messages, with failure modes chosen per request. Standard
library only; run with /usr/bin/python3. Binds 127.0.0.1 (port 0 = any),
prints the port on its first stdout line, and exits by itself after
--lifetime seconds, so a crashed test can never leave it running.

Behaviour is chosen by a path prefix, /mode/<name>[/<arg>]/<api path>, e.g.
  POST /mode/429/2/v1/chat/completions
or by the header "X-Test-Mode: <name>[/<arg>]" on a plain API path; so a
backend's base_url can carry the mode: http://127.0.0.1:PORT/mode/slow/200/v1

  ok                  a valid answer (the default)
  slow/<ms>           a valid answer after <ms> (default 1000)
  load[/<base_ms>]    a valid answer after base_ms (default 100) + K ms for
                      every other request the server is answering when it
                      arrives (K: --load-ms-per-request, default 50): a
                      server whose latency grows with its load, as a shared
                      KV cache makes it, so bursts show in tail latency
  hang[/<ms>]         sleeps <ms> (default 600000) before answering
  429[/<n>]           first <n> calls (default 1) 429 + "Retry-After: 1", then ok
  429-ms[/<ms>]       first call 429 + "retry-after-ms: <ms>" (default 250), then ok
  429-date[/<s>]      first call 429 + "Retry-After: <HTTP-date now+s>" (default 2)
  <base>-then-ok[/<n>] first <n> calls (default 1) act as <base>, then ok; e.g.
                      500-then-ok, offschema-then-ok, prose-then-ok, close-then-ok
  ok-then-<base>[/<n>] the reverse: first <n> calls (default 1) ok, then every
                      call acts as <base> (with its default argument): an
                      endpoint that goes down (ok-then-503, ok-then-close),
                      slows (ok-then-hang, ok-then-slow) or turns to garbage
                      (ok-then-garbage) in the middle of a run
  NNN                 (any other 3-digit status: 400, 401, 403, 404, 408, 409,
                      422, 500, 503, 529 ...) always that status, API-shaped error
  500-noretry         500 with "x-should-retry: false"
  html                200, text/html page
  garbage             200, bytes that are not JSON (nor UTF-8)
  empty               200, empty body
  offschema           200, valid envelope; the content is JSON missing the
                      required fields
  prose               200, valid envelope; the content is prose, not JSON
  big[/<bytes>]       200, valid envelope padded to <bytes> (default 5 MiB)
  bigheader[/<bytes>] 200, valid answer after a header line of <bytes> (default
                      200 KiB, over libcurl's 100 KiB limit for one header)
  echo-auth           500 whose body quotes the request's credentials (the
                      Authorization / x-api-key values), as a careless proxy's
                      error page may; then ok-answers also quote them
                      (echo-auth-ok: 200 answers with the key in the text)
  close               closes the connection without answering

Call counters ("first <n> calls") are kept per (X-Test-Key header, mode), so
tests sharing one server stay independent. GET /stats returns JSON: total,
by_mode, max_in_flight (the most requests answered at once), and by_key {key: {count, by_mode, last_path, last_request (the
parsed body), last_header_names (names only: values may be API keys)}}.

A valid answer's content depends on the prompt (all message text, system
included): "root_cause" in it gives an L3 JSON answer, else "classification"
gives an L2 JSON answer, else a markdown shift report with the six headings of
llm_schema.h (Active incidents ... Next-shift recommendations). Everything is
deterministic: the response id is "chatcmpl-<X-Echo header>" ("msg_..." for
Anthropic) when that header is sent, else derived from the body's SHA-256;
usage counts are len(text) // 4 (at least 1).

Anthropic requests must carry x-api-key (else 401) and anthropic-version and
a JSON body with model, max_tokens and messages (else 400); OpenAI requests
need model and messages (else 400), as the real services do.

GET /v1/models lists one model, "stub" (a readiness probe, as vLLM and
llama.cpp's server answer it). With --api-key-env NAME the stub acts like
a model server started with an API key (vLLM's VLLM_API_KEY): OpenAI
requests and GET /v1/models must carry "Authorization: Bearer <$NAME>",
else 401.
"""

import argparse
import email.utils
import hashlib
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {"total": 0, "by_mode": {}, "by_key": {}, "max_in_flight": 0}
COUNTERS = {}  # (key, mode spec) -> calls so far
IN_FLIGHT = [0]  # API requests being answered now
LOAD_MS_PER_REQUEST = 50.0
VERBOSE = False
API_KEY = None  # --api-key-env: the bearer key OpenAI requests must carry
CREATED = 1700000000  # fixed "created" stamp: answers are byte-identical

MODE_RE = re.compile(r"^/mode/([A-Za-z0-9-]+)(?:/(\d+))?(/.*)$")


def parse_mode(path, header):
    """Returns (name, arg or None, api path)."""
    m = MODE_RE.match(path)
    if m:
        return m.group(1), (int(m.group(2)) if m.group(2) else None), m.group(3)
    if header:
        name, _, arg = header.strip().partition("/")
        return name, (int(arg) if arg.isdigit() else None), path
    return "ok", None, path


def count_call(key, spec):
    """Returns how many calls with (key, spec) came before this one."""
    with LOCK:
        n = COUNTERS.get((key, spec), 0)
        COUNTERS[(key, spec)] = n + 1
        return n


def enter():
    """Counts a request in; returns how many others were being answered."""
    with LOCK:
        IN_FLIGHT[0] += 1
        STATS["max_in_flight"] = max(STATS["max_in_flight"], IN_FLIGHT[0])
        return IN_FLIGHT[0] - 1


def leave():
    with LOCK:
        IN_FLIGHT[0] -= 1


def record(key, spec, path, body, header_names):
    with LOCK:
        STATS["total"] += 1
        STATS["by_mode"][spec] = STATS["by_mode"].get(spec, 0) + 1
        k = STATS["by_key"].setdefault(key, {"count": 0, "by_mode": {}})
        k["count"] += 1
        k["by_mode"][spec] = k["by_mode"].get(spec, 0) + 1
        k["last_path"] = path
        k["last_request"] = body
        k["last_header_names"] = sorted(header_names)


def prompt_text(api, req):
    """All text the model would see: messages (strings or text blocks) and system."""
    parts = []

    def add(content):
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and isinstance(block.get("text"), str):
                    parts.append(block["text"])

    if api == "anthropic":
        add(req.get("system"))
    for msg in req.get("messages") or []:
        if isinstance(msg, dict):
            add(msg.get("content"))
    return "\n".join(parts)


def answer_content(text, digest):
    node = re.search(r"node-\d{4}", text)
    node = node.group(0) if node else "node-0000"
    if "root_cause" in text:
        return json.dumps({
            "root_cause": f"stub root cause on {node} ({digest[:8]})",
            "confidence": 0.7,
            "affected_scope": "node",
            "tenant_types": ["training"],
            "cross_tenant_impact": "none",
            "causal_chain": [f"{node} anomaly", "stub inference"],
            "recommended_actions": [f"inspect {node}"],
            "priority": "P2",
        }, sort_keys=True)
    if "classification" in text:
        return json.dumps({
            "classification": "real_anomaly",
            "scope": "node",
            "tenant_type": "training",
            "confidence": 0.8,
            "rationale": f"stub answer for {node} ({digest[:8]})",
        }, sort_keys=True)
    return (f"# Shift handoff (stub {digest[:8]})\n\n"
            f"## Active incidents\n- {node}: under watch.\n\n"
            "## Resolved incidents\n- none\n\n"
            "## SLA status\nAll tenants within budget.\n\n"
            "## Training health\nAll jobs nominal.\n\n"
            "## Emerging risks\n- none beyond the above\n\n"
            "## Next-shift recommendations\n- keep watching the above\n")


def tokens(s):
    return max(1, len(s) // 4)


def envelope(api, req, rid, content, prompt):
    model = req.get("model", "stub")
    if api == "anthropic":
        return {"id": f"msg_{rid}", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": content}],
                "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": tokens(prompt), "output_tokens": tokens(content)}}
    pt, ct = tokens(prompt), tokens(content)
    return {"id": f"chatcmpl-{rid}", "object": "chat.completion", "created": CREATED,
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}}


ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
               403: "permission_error", 404: "not_found_error", 408: "timeout_error",
               409: "conflict_error", 413: "request_too_large", 422: "invalid_request_error",
               429: "rate_limit_error", 529: "overloaded_error"}


def error_body(api, status, message):
    etype = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    if api == "anthropic":
        return {"type": "error", "error": {"type": etype, "message": message}}
    return {"error": {"message": message, "type": etype, "param": None, "code": None}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "llm-stub/1"

    def setup(self):
        super().setup()
        # Headers and body go out as separate writes: without this, Nagle's
        # algorithm and the client's delayed ACK add 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):  # quiet unless asked; never headers
        if VERBOSE:
            sys.stderr.write("stub: " + (fmt % args) + "\n")

    def send(self, status, body, ctype="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body, separators=(",", ":")).encode()
        elif isinstance(body, str):
            body = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    def do_GET(self):
        if self.path.split("?")[0] in ("/stats", "/stats/"):
            with LOCK:
                snap = json.loads(json.dumps(STATS))
            self.send(200, snap)
        elif self.path == "/healthz":
            self.send(200, {"ok": True})
        elif self.path.split("?")[0].rstrip("/") == "/v1/models":
            if self.key_refused():
                return
            self.send(200, {"object": "list", "data": [
                {"id": "stub", "object": "model", "created": CREATED, "owned_by": "fleetsim-tests"}]})
        else:
            self.send(404, {"error": {"message": "not found", "type": "not_found_error"}})

    def do_POST(self):
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self.send(411, {"error": {"message": "Content-Length required"}})
            return
        raw = self.rfile.read(int(length))
        others = enter()
        try:
            self.answer(raw, others)
        finally:
            leave()

    def answer(self, raw, others):
        name, arg, api_path = parse_mode(self.path, self.headers.get("X-Test-Mode"))
        spec = name if arg is None else f"{name}/{arg}"
        key = self.headers.get("X-Test-Key", "")
        if api_path.rstrip("/").endswith("/chat/completions"):
            api = "openai"
        elif api_path.rstrip("/").endswith("/messages"):
            api = "anthropic"
        else:
            record(key, spec, self.path, None, self.headers.keys())
            self.send(404, error_body("openai", 404, f"no such endpoint: {api_path}"))
            return
        try:
            req = json.loads(raw.decode("utf-8"))
            if not isinstance(req, dict):
                raise ValueError("body is not a JSON object")
        except (ValueError, UnicodeDecodeError) as e:
            record(key, spec, self.path, None, self.headers.keys())
            self.send(400, error_body(api, 400, f"invalid JSON body: {e}"))
            return
        record(key, spec, self.path, req, self.headers.keys())

        if api == "openai" and self.key_refused():
            return
        missing = [f for f in ("model", "messages") if f not in req]
        if api == "anthropic":
            if not self.headers.get("x-api-key"):
                self.send(401, error_body(api, 401, "x-api-key header is required"))
                return
            if not self.headers.get("anthropic-version"):
                self.send(400, error_body(api, 400, "anthropic-version header is required"))
                return
            if "max_tokens" not in req:
                missing.append("max_tokens")
        if missing:
            self.send(400, error_body(api, 400, "missing field(s): " + ", ".join(missing)))
            return

        n = count_call(key, spec)
        if name.endswith("-then-ok"):
            base = name[: -len("-then-ok")]
            limit = arg if arg is not None else 1
            name, arg = (base, None) if n < limit else ("ok", None)
        elif name.startswith("ok-then-"):
            base = name[len("ok-then-"):]
            limit = arg if arg is not None else 1
            name, arg = ("ok", None) if n < limit else (base, None)
        self.behave(api, req, raw, name, arg, n, others)

    def key_refused(self):
        """With --api-key-env: a 401 for a request without the bearer key."""
        if API_KEY is None or self.headers.get("Authorization") == "Bearer " + API_KEY:
            return False
        self.send(401, error_body("openai", 401, "missing or wrong API key"))
        return True

    def behave(self, api, req, raw, name, arg, n, others):
        prompt = prompt_text(api, req)
        rid = self.headers.get("X-Echo") or hashlib.sha256(raw).hexdigest()[:24]
        digest = hashlib.sha256(raw).hexdigest()

        def ok(content=None):
            c = answer_content(prompt, digest) if content is None else content
            self.send(200, envelope(api, req, rid, c, prompt))

        if name == "ok":
            ok()
        elif name == "slow":
            time.sleep((arg if arg is not None else 1000) / 1000.0)
            ok()
        elif name == "load":
            base = arg if arg is not None else 100
            time.sleep((base + LOAD_MS_PER_REQUEST * others) / 1000.0)
            ok()
        elif name == "hang":
            time.sleep((arg if arg is not None else 600000) / 1000.0)
            ok()
        elif name == "429":
            if n < (arg if arg is not None else 1):
                self.send(429, error_body(api, 429, "rate limited (stub)"),
                          headers=[("Retry-After", "1")])
            else:
                ok()
        elif name == "429-ms":
            if n < 1:
                ms = arg if arg is not None else 250
                self.send(429, error_body(api, 429, "rate limited (stub)"),
                          headers=[("retry-after-ms", str(ms))])
            else:
                ok()
        elif name == "429-date":
            if n < 1:
                when = email.utils.formatdate(time.time() + (arg if arg is not None else 2),
                                              usegmt=True)
                self.send(429, error_body(api, 429, "rate limited (stub)"),
                          headers=[("Retry-After", when)])
            else:
                ok()
        elif name == "500-noretry":
            self.send(500, error_body(api, 500, "internal error (stub), do not retry"),
                      headers=[("x-should-retry", "false")])
        elif re.fullmatch(r"[1-5]\d\d", name):
            status = int(name)
            self.send(status, error_body(api, status, f"stub error {status}"))
        elif name == "html":
            self.send(200, "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
                      "<body><h1>Bad Gateway</h1><p>stub proxy page</p></body></html>\n",
                      ctype="text/html")
        elif name == "garbage":
            self.send(200, b"\x89PNG\r\n\x1a\n\x00\xff\xfe garbage {not json" + bytes(range(256)))
        elif name == "empty":
            self.send(200, b"")
        elif name == "offschema":
            ok(json.dumps({"answer": "probably fine", "certainty": "high"}))
        elif name == "prose":
            ok("I think this looks like a thermal problem, but I am not sure.")
        elif name == "big":
            size = arg if arg is not None else 5 << 20
            ok("x" * size)
        elif name == "bigheader":
            size = arg if arg is not None else 200 << 10
            body = envelope(api, req, rid, answer_content(prompt, digest), prompt)
            self.send(200, body, headers=[("X-Padding", "p" * size)])
        elif name in ("echo-auth", "echo-auth-ok"):
            creds = f"Authorization: {self.headers.get('Authorization')}; " \
                    f"x-api-key: {self.headers.get('x-api-key')}"
            if name == "echo-auth":
                self.send(500, error_body(api, 500, f"upstream failed for request with {creds}"))
            else:
                ok(answer_content(prompt, digest).replace("stub", f"stub ({creds})", 1))
        elif name == "close":
            self.close_connection = True  # no answer at all: "empty reply"
        else:
            self.send(400, error_body(api, 400, f"unknown stub mode {name!r}"))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many concurrent connects from one client


def main():
    global VERBOSE, API_KEY, LOAD_MS_PER_REQUEST
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    ap.add_argument("--lifetime", type=float, default=120.0,
                    help="seconds before the server exits by itself (default 120)")
    ap.add_argument("--verbose", action="store_true", help="log requests (never headers)")
    ap.add_argument("--api-key-env", metavar="NAME",
                    help="require 'Authorization: Bearer $NAME' on OpenAI requests")
    ap.add_argument("--load-ms-per-request", type=float, default=50.0,
                    help="mode load: ms added per other request in flight (default 50)")
    args = ap.parse_args()
    VERBOSE = args.verbose
    if args.api_key_env:
        API_KEY = os.environ.get(args.api_key_env)
        if not API_KEY:
            ap.error(f"--api-key-env {args.api_key_env}: the variable is not set or empty")
    if not args.load_ms_per_request >= 0:
        ap.error("--load-ms-per-request must be >= 0")
    LOAD_MS_PER_REQUEST = args.load_ms_per_request
    if not args.lifetime > 0:
        ap.error("--lifetime must be > 0")

    # SIGALRM's default action ends the process even if handler threads hang.
    signal.alarm(max(1, int(args.lifetime + 0.999)))

    srv = Server(("127.0.0.1", args.port), Handler)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
