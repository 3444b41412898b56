"""Shared helpers for the berth_agent tests: a quiet app factory, a running server per
test, and minimal raw-socket HTTP and WebSocket clients."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import socket
import unittest
from typing import Any, Dict, Optional, Tuple

from berth_agent import App

TIMEOUT = 10.0


def quiet_logger() -> logging.Logger:
    logger = logging.getLogger("berth_agent.tests")
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger


def new_app(**kwargs: Any) -> App:
    kwargs.setdefault("logger", quiet_logger())
    return App(**kwargs)


class ServerTest(unittest.TestCase):
    """Starts ``self.app`` (built by ``make_app``) on a free loopback port per test."""

    def make_app(self) -> App:
        raise NotImplementedError

    def setUp(self) -> None:
        self.app = self.make_app()
        self.server = self.app.start("127.0.0.1", 0)
        self.addCleanup(self.server.stop)

    def conn(self) -> http.client.HTTPConnection:
        c = http.client.HTTPConnection(self.server.host, self.server.port, timeout=TIMEOUT)
        self.addCleanup(c.close)
        return c

    def post(self, payload: Any, headers: Optional[Dict[str, str]] = None, raw: Optional[bytes] = None
             ) -> Tuple[int, Dict[str, str], bytes]:
        c = self.conn()
        body = raw if raw is not None else json.dumps(payload).encode()
        c.request("POST", "/invocations", body=body, headers={"Content-Type": "application/json", **(headers or {})})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()

    def ping(self) -> Dict[str, Any]:
        c = self.conn()
        c.request("GET", "/ping")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "application/json")
        return json.loads(r.read())

    def raw_socket(self) -> socket.socket:
        s = socket.create_connection((self.server.host, self.server.port), timeout=TIMEOUT)
        self.addCleanup(s.close)
        return s


def read_head(s: socket.socket) -> Tuple[int, Dict[str, str], bytes]:
    """Reads a response head from a raw socket; returns status, headers, bytes read past it."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before the response head: {buf!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, rest


class WSClient:
    """A minimal RFC 6455 client on a raw socket (masks every frame it sends)."""

    def __init__(self, host: str, port: int, path: str = "/ws", headers: Optional[Dict[str, str]] = None):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.sock.sendall(
            (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Key: {self.key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode()
        )
        self.status, self.headers, self._buf = read_head(self.sock)

    def close_socket(self) -> None:
        self.sock.close()

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True, mask: bool = True) -> None:
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            head = bytes((b0, mbit | n))
        elif n < 65536:
            head = bytes((b0, mbit | 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((b0, mbit | 127)) + n.to_bytes(8, "big")
        if mask:
            key = os.urandom(4)
            if payload:
                n = len(payload)
                mask_int = int.from_bytes((key * (n // 4 + 1))[:n], "big")
                payload = (int.from_bytes(payload, "big") ^ mask_int).to_bytes(n, "big")
            head += key
        self.sock.sendall(head + payload)

    def _recv_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def recv_frame(self) -> Tuple[bool, int, bytes]:
        b0, b1 = self._recv_exact(2)
        if b1 & 0x80:
            raise AssertionError("server frames must not be masked")
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(self._recv_exact(2), "big")
        elif n == 127:
            n = int.from_bytes(self._recv_exact(8), "big")
        return bool(b0 & 0x80), b0 & 0x0F, self._recv_exact(n)

    def recv_close(self) -> Tuple[int, str]:
        """Reads frames until a close frame; returns its code and reason."""
        while True:
            _, op, payload = self.recv_frame()
            if op == 0x8:
                code = int.from_bytes(payload[:2], "big") if payload else 1005
                return code, payload[2:].decode()

