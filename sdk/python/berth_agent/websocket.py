"""Server side of the WebSocket protocol (RFC 6455) on asyncio streams, with an API shaped
like Starlette's ``WebSocket`` so handlers written for ``bedrock_agentcore`` port unchanged.

Supported: the opening handshake (version 13, optional subprotocol), text and binary
messages (fragmented or not), ping (answered with pong automatically), pong, and the close
handshake with status codes. Client frames must be masked. Not supported: extensions
(permessage-deflate is not negotiated), automatic keep-alive pings.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import hashlib
import json
from typing import Any, AsyncIterator, Dict, List, Mapping, Optional, Tuple

from . import _http

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_NO_STATUS = 1005
CLOSE_ABNORMAL = 1006
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011


class WebSocketDisconnect(Exception):
    """Raised by the receive methods when the peer closed (or broke) the connection."""

    def __init__(self, code: int = CLOSE_NORMAL, reason: Optional[str] = None):
        super().__init__(code, reason or "")
        self.code = code
        self.reason = reason or ""


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _GUID).digest()).decode("ascii")  # nosec - RFC 6455


def check_upgrade(req: "_http.Request") -> Optional[str]:
    """Returns why ``req`` is not a valid WebSocket opening handshake, or None if it is."""
    h = req.headers
    if req.method != "GET" or req.version != "HTTP/1.1":
        return "WebSocket upgrade needs GET and HTTP/1.1"
    if "websocket" not in [t.strip().lower() for t in h.get("upgrade", "").split(",")]:
        return "missing Upgrade: websocket"
    if "upgrade" not in [t.strip().lower() for t in h.get("connection", "").split(",")]:
        return "missing Connection: Upgrade"
    if h.get("sec-websocket-version", "") != "13":
        return "unsupported Sec-WebSocket-Version (need 13)"
    key = h.get("sec-websocket-key", "")
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return "invalid Sec-WebSocket-Key"
    except ValueError:
        return "invalid Sec-WebSocket-Key"
    return None


def _unmask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return b""
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


def _frame_header(opcode: int, n: int) -> bytes:
    b0 = 0x80 | opcode
    if n < 126:
        return bytes((b0, n))
    if n < 1 << 16:
        return bytes((b0, 126)) + n.to_bytes(2, "big")
    return bytes((b0, 127)) + n.to_bytes(8, "big")


class _ProtocolError(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


class WebSocket:
    """One server-side WebSocket connection on ``/ws``.

    Call ``accept()`` first (until then nothing has been answered; returning without
    accepting rejects the upgrade with HTTP 403). Receive methods raise
    ``WebSocketDisconnect`` when the client closes. Sends are safe from several tasks of
    the same event loop.
    """

    def __init__(
        self,
        request: "_http.Request",
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        max_message_bytes: int,
    ):
        self.request = request
        self.headers = request.headers
        self.path = request.path
        self.query_string = request.query_string
        self.client = request.client
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING
        self._reader = reader
        self._writer = writer
        self._max = max_message_bytes
        self._send_lock = asyncio.Lock()
        self._close_sent = False
        self._close_received = False
        self.close_code: Optional[int] = None

    @property
    def subprotocols(self) -> List[str]:
        """Subprotocols the client offered, in its order of preference."""
        out: List[str] = []
        for v in self.headers.getlist("sec-websocket-protocol"):
            out.extend(p.strip() for p in v.split(",") if p.strip())
        return out

    async def accept(self, subprotocol: Optional[str] = None, headers: Optional[Mapping[str, str]] = None) -> None:
        """Completes the opening handshake (HTTP 101)."""
        if self.application_state != WebSocketState.CONNECTING:
            raise RuntimeError("WebSocket already accepted or closed")
        hdrs: List[Tuple[str, str]] = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", accept_key(self.headers["sec-websocket-key"])),
        ]
        if subprotocol is not None:
            hdrs.append(("Sec-WebSocket-Protocol", subprotocol))
        hdrs.extend((headers or {}).items())
        self._writer.write(_http.head_bytes(101, hdrs))
        await self._writer.drain()
        self.application_state = WebSocketState.CONNECTED
        self.client_state = WebSocketState.CONNECTED

    # ---- sending -------------------------------------------------------------------------

    async def _send_frame(self, opcode: int, payload: bytes) -> None:
        if self.application_state == WebSocketState.CONNECTING:
            raise RuntimeError('WebSocket not accepted: call "accept()" first')
        async with self._send_lock:
            if self._close_sent:
                raise RuntimeError("cannot send after the close frame")
            if opcode == OP_CLOSE:
                self._close_sent = True
            self._writer.writelines((_frame_header(opcode, len(payload)), payload))
            try:
                await self._writer.drain()
            except (ConnectionError, RuntimeError) as e:
                self.client_state = WebSocketState.DISCONNECTED
                raise WebSocketDisconnect(CLOSE_ABNORMAL, str(e)) from None

    async def send_text(self, data: str) -> None:
        await self._send_frame(OP_TEXT, data.encode("utf-8"))

    async def send_bytes(self, data: bytes) -> None:
        await self._send_frame(OP_BINARY, bytes(data))

    async def send_json(self, data: Any, mode: str = "text") -> None:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "binary":
            await self.send_bytes(text.encode("utf-8"))
        else:
            await self.send_text(text)

    async def send(self, message: Dict[str, Any]) -> None:
        """Starlette-style ASGI message: websocket.accept / websocket.send / websocket.close."""
        kind = message.get("type")
        if kind == "websocket.accept":
            await self.accept(message.get("subprotocol"), dict(message.get("headers") or {}))
        elif kind == "websocket.send":
            if message.get("bytes") is not None:
                await self.send_bytes(message["bytes"])
            else:
                await self.send_text(message.get("text") or "")
        elif kind == "websocket.close":
            await self.close(message.get("code", CLOSE_NORMAL), message.get("reason"))
        else:
            raise ValueError(f"unknown WebSocket message type {kind!r}")

    async def ping(self, data: bytes = b"") -> None:
        """Sends a ping frame (the client's pong is consumed by the receive methods)."""
        await self._send_frame(OP_PING, data[:125])

    async def close(self, code: int = CLOSE_NORMAL, reason: Optional[str] = None) -> None:
        """Sends a close frame. Before ``accept()`` this rejects the upgrade (HTTP 403)."""
        if self.application_state == WebSocketState.CONNECTING:
            self._close_sent = True
            self.application_state = WebSocketState.DISCONNECTED
            self.close_code = code
            return
        if self._close_sent:
            return
        payload = code.to_bytes(2, "big") + (reason or "").encode("utf-8")[:123]
        try:
            await self._send_frame(OP_CLOSE, payload)
        except WebSocketDisconnect:
            pass
        self.application_state = WebSocketState.DISCONNECTED
        self.close_code = code

    # ---- receiving -----------------------------------------------------------------------

    async def _read_frame(self) -> Tuple[bool, int, bytes]:
        b0, b1 = await self._reader.readexactly(2)
        fin, rsv, opcode = bool(b0 & 0x80), b0 & 0x70, b0 & 0x0F
        masked, length = bool(b1 & 0x80), b1 & 0x7F
        if rsv:
            raise _ProtocolError(CLOSE_PROTOCOL_ERROR, "reserved bits set")
        if not masked:
            raise _ProtocolError(CLOSE_PROTOCOL_ERROR, "client frame not masked")
        if opcode >= 0x8 and (not fin or length > 125):
            raise _ProtocolError(CLOSE_PROTOCOL_ERROR, "invalid control frame")
        if length == 126:
            length = int.from_bytes(await self._reader.readexactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await self._reader.readexactly(8), "big")
            if length >> 63:
                raise _ProtocolError(CLOSE_PROTOCOL_ERROR, "invalid frame length")
        if length > self._max:
            raise _ProtocolError(CLOSE_TOO_BIG, "message too big")
        mask = await self._reader.readexactly(4)
        payload = await self._reader.readexactly(length) if length <= 65536 else await _read_exact(self._reader, length)
        return fin, opcode, _unmask(payload, mask)

    async def _receive_message(self) -> Dict[str, Any]:
        kind: Optional[int] = None
        parts: List[bytes] = []
        size = 0
        while True:
            fin, opcode, payload = await self._read_frame()
            if opcode == OP_PING:
                if not self._close_sent:
                    await self._send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                return self._on_close_frame(payload)
            if opcode in (OP_TEXT, OP_BINARY):
                if kind is not None:
                    raise _ProtocolError(CLOSE_PROTOCOL_ERROR, "new message inside a fragmented one")
                kind = opcode
            elif opcode == OP_CONT:
                if kind is None:
                    raise _ProtocolError(CLOSE_PROTOCOL_ERROR, "continuation without a message")
            else:
                raise _ProtocolError(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode}")
            size += len(payload)
            if size > self._max:
                raise _ProtocolError(CLOSE_TOO_BIG, "message too big")
            parts.append(payload)
            if fin:
                data = parts[0] if len(parts) == 1 else b"".join(parts)
                if kind == OP_TEXT:
                    try:
                        return {"type": "websocket.receive", "text": data.decode("utf-8")}
                    except UnicodeDecodeError:
                        raise _ProtocolError(CLOSE_INVALID_DATA, "text message is not UTF-8") from None
                return {"type": "websocket.receive", "bytes": data}

    def _on_close_frame(self, payload: bytes) -> Dict[str, Any]:
        self._close_received = True
        self.client_state = WebSocketState.DISCONNECTED
        if len(payload) == 1:
            raise _ProtocolError(CLOSE_PROTOCOL_ERROR, "invalid close payload")
        code = int.from_bytes(payload[:2], "big") if payload else CLOSE_NO_STATUS
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise _ProtocolError(CLOSE_INVALID_DATA, "close reason is not UTF-8") from None
        self.close_code = code
        return {"type": "websocket.disconnect", "code": code, "reason": reason, "echo": True}

    async def receive(self) -> Dict[str, Any]:
        """The next message as a dict: ``{"type": "websocket.receive", "text"|"bytes": ...}``
        or ``{"type": "websocket.disconnect", "code": ...}``."""
        if self.application_state == WebSocketState.CONNECTING:
            raise RuntimeError('WebSocket not accepted: call "accept()" first')
        if self.client_state == WebSocketState.DISCONNECTED:
            raise RuntimeError('Cannot call "receive" once a disconnect message has been received.')
        try:
            msg = await self._receive_message()
        except _ProtocolError as e:
            self.client_state = WebSocketState.DISCONNECTED
            await self.close(e.code, e.reason)
            return {"type": "websocket.disconnect", "code": e.code, "reason": e.reason}
        except (asyncio.IncompleteReadError, ConnectionError):
            self.client_state = WebSocketState.DISCONNECTED
            self.close_code = CLOSE_ABNORMAL
            return {"type": "websocket.disconnect", "code": CLOSE_ABNORMAL, "reason": ""}
        if msg.pop("echo", False) and not self._close_sent:
            code = msg["code"]
            await self.close(CLOSE_NORMAL if code == CLOSE_NO_STATUS else code)
        return msg

    async def _receive_data(self) -> Dict[str, Any]:
        msg = await self.receive()
        if msg["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(msg["code"], msg.get("reason"))
        return msg

    async def receive_text(self) -> str:
        msg = await self._receive_data()
        if "text" in msg:
            return msg["text"]
        return msg["bytes"].decode("utf-8")

    async def receive_bytes(self) -> bytes:
        msg = await self._receive_data()
        if "bytes" in msg:
            return msg["bytes"]
        return msg["text"].encode("utf-8")

    async def receive_json(self, mode: str = "text") -> Any:
        msg = await self._receive_data()
        if mode == "binary":
            return json.loads(msg["bytes"] if "bytes" in msg else msg["text"].encode("utf-8"))
        return json.loads(msg["text"] if "text" in msg else msg["bytes"].decode("utf-8"))

    async def iter_text(self) -> AsyncIterator[str]:
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    async def _finish(self, timeout: float) -> None:
        """After the handler: complete the close handshake, waiting briefly for the client."""
        if self.application_state == WebSocketState.CONNECTING:
            return
        if not self._close_sent:
            await self.close(CLOSE_NORMAL)
        if self._close_received or self.client_state == WebSocketState.DISCONNECTED:
            return

        async def drain_until_close() -> None:
            while not self._close_received:
                _, opcode, _ = await self._read_frame()
                if opcode == OP_CLOSE:
                    self._close_received = True

        try:
            await asyncio.wait_for(drain_until_close(), timeout)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, _ProtocolError):
            pass


async def _read_exact(reader: asyncio.StreamReader, n: int) -> bytes:
    pieces = []
    while n:
        piece = await reader.read(min(n, 1 << 20))
        if not piece:
            raise asyncio.IncompleteReadError(b"".join(pieces), n)
        pieces.append(piece)
        n -= len(piece)
    return b"".join(pieces)
