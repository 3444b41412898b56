"""A minimal AgentCore-contract agent using only the Python standard library.

It serves the HTTP protocol contract on 0.0.0.0:8080:
  GET  /ping         -> {"status": "Healthy", "time_of_last_update": <epoch seconds>}
  POST /invocations  -> echoes the JSON payload with a greeting
"""
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STARTED = int(time.time())


class Agent(BaseHTTPRequestHandler):
    def _send(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        if self.path == "/ping":
            self._send(200, {"status": "Healthy", "time_of_last_update": STARTED})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/invocations":
            self._send(404, {"error": "not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        session = self.headers.get("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", "")
        greeting = os.environ.get("GREETING", "Hello")
        self._send(200, {"result": f"{greeting}, {payload.get('prompt', 'world')}!", "session": session})

    def log_message(self, fmt, *args):  # keep stdout for the agent's own logs
        print(fmt % args, flush=True)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Agent).serve_forever()
