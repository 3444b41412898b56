"""Berth's Python test agent for code-zip runtimes (standard library only).

POST /invocations with {"op": "incr"} increments an in-memory counter (session state);
{"op": "env"} returns the environment, the request headers and the interpreter version;
{"op": "write", "name": …, "content": …} writes a file in the working directory.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNT = 0


class Agent(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        if self.path == "/ping":
            self._send(200, {"status": "Healthy"})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self):
        global COUNT
        length = int(self.headers.get("Content-Length") or 0)
        req = json.loads(self.rfile.read(length) or b"{}")
        if req.get("op") == "incr":
            COUNT += 1
            self._send(200, {"count": COUNT, "pid": os.getpid()})
        elif req.get("op") == "env":
            self._send(200, {"env": dict(os.environ), "headers": dict(self.headers), "python": sys.version, "cwd": os.getcwd()})
        elif req.get("op") == "write":
            with open(req["name"], "w") as f:
                f.write(req["content"])
            self._send(200, {"written": req["name"]})
        else:
            self._send(400, {"error": "unknown op"})

    def log_message(self, fmt, *args):
        print(fmt % args, flush=True)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Agent).serve_forever()
