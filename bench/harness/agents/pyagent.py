"""Berth's benchmark Python agent (standard library only).

GET /ping answers Healthy. POST /invocations answers a small JSON document: {"op": "info"}
returns the interpreter's executable and pid (the harness runs the same interpreter bare),
{"op": "incr"} a per-process counter; any other body is echoed back. SIGTERM ends it at
once, as it would a real agent's server: as PID 1 of a sandbox's PID namespace the default
action is to ignore it, and every stop would wait out the driver's grace period.
"""
# HEAVY-IMPORTS
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNT = 0


class Agent(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status, ctype, raw):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        if self.path == "/ping":
            self._send(200, "application/json", b'{"status": "Healthy"}')
        else:
            self._send(404, "application/json", b'{"error": "not found"}')

    def do_POST(self):
        global COUNT
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            self._send(200, self.headers.get("Content-Type") or "application/octet-stream", body)
            return
        req = json.loads(body or b"{}")
        op = req.get("op")
        if op == "info":
            out = {"executable": sys.executable, "pid": os.getpid(), "python": sys.version}
        elif op == "incr":
            COUNT += 1
            out = {"count": COUNT}
        else:
            out = {"ok": True}
        self._send(200, "application/json", json.dumps(out).encode())

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Agent).serve_forever()
