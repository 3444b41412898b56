"""GET /ws: RFC 6455 handshake, echo of text and binary messages, fragmentation,
ping/pong, the close handshake, and error closes — all with a raw-socket client."""

from __future__ import annotations

import base64
import hashlib
import json

from berth_agent import WebSocketDisconnect

from .support import ServerTest, WSClient, new_app

SESSION = "ws-session-0123456789-0123456789-abcdef"


class WebSocketTest(ServerTest):
    def make_app(self):
        app = new_app(max_ws_message_bytes=1 << 20)
        self.disconnect_codes = []

        @app.websocket
        async def handler(websocket, context):
            first = websocket.headers.get("x-mode")
            if first == "reject":
                await websocket.close()
                return
            if first == "raise-before":
                raise RuntimeError("not ready")
            await websocket.accept()
            if first == "raise":
                await websocket.receive_text()
                raise RuntimeError("handler bug")
            if first == "hello":
                await websocket.send_json({"session": context.session_id, "request": context.request_id})
                return
            try:
                while True:
                    msg = await websocket.receive()
                    if msg["type"] == "websocket.disconnect":
                        self.disconnect_codes.append(msg["code"])
                        return
                    if "text" in msg:
                        await websocket.send_text("echo:" + msg["text"])
                    else:
                        await websocket.send_bytes(msg["bytes"][::-1])
            except WebSocketDisconnect as e:
                self.disconnect_codes.append(e.code)

        return app

    def ws(self, **headers) -> WSClient:
        c = WSClient(self.server.host, self.server.port, headers=headers)
        self.addCleanup(c.close_socket)
        return c

    def test_handshake(self):
        c = self.ws()
        self.assertEqual(c.status, 101)
        self.assertEqual(c.headers["upgrade"].lower(), "websocket")
        want = base64.b64encode(hashlib.sha1(c.key.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        self.assertEqual(c.headers["sec-websocket-accept"], want.decode())

    def test_echo_text_binary_and_close(self):
        c = self.ws()
        c.send_frame(0x1, "héllo".encode())
        self.assertEqual(c.recv_frame(), (True, 0x1, "echo:héllo".encode()))
        c.send_frame(0x2, b"\x00\x01\x02")
        self.assertEqual(c.recv_frame(), (True, 0x2, b"\x02\x01\x00"))
        big = bytes(range(256)) * 300  # 76,800 bytes: 64-bit length form
        c.send_frame(0x2, big)
        self.assertEqual(c.recv_frame(), (True, 0x2, big[::-1]))
        c.send_frame(0x8, (1000).to_bytes(2, "big") + b"bye")
        self.assertEqual(c.recv_close(), (1000, ""))
        self.assertEqual(c.sock.recv(10), b"")  # server closed the TCP connection
        self.assertEqual(self.disconnect_codes, [1000])

    def test_fragments_and_ping(self):
        c = self.ws()
        c.send_frame(0x1, b"frag", fin=False)
        c.send_frame(0x9, b"are you there")  # control frame between fragments
        c.send_frame(0x0, b"men", fin=False)
        c.send_frame(0x0, b"ted", fin=True)
        self.assertEqual(c.recv_frame(), (True, 0xA, b"are you there"))
        self.assertEqual(c.recv_frame(), (True, 0x1, b"echo:fragmented"))

    def test_context_on_upgrade(self):
        c = self.ws(**{"x-mode": "hello", "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": SESSION,
                       "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id": "r-1"})
        fin, op, payload = c.recv_frame()
        self.assertEqual((fin, op), (True, 0x1))
        self.assertEqual(json.loads(payload), {"session": SESSION, "request": "r-1"})
        self.assertEqual(c.recv_close()[0], 1000)  # handler returned: normal close

    def test_handler_error_closes_1011(self):
        c = self.ws(**{"x-mode": "raise"})
        c.send_frame(0x1, b"trigger")
        self.assertEqual(c.recv_close()[0], 1011)

    def test_rejections(self):
        self.assertEqual(self.ws(**{"x-mode": "reject"}).status, 403)
        self.assertEqual(self.ws(**{"x-mode": "raise-before"}).status, 500)

    def test_protocol_errors(self):
        c = self.ws()
        c.send_frame(0x1, b"unmasked", mask=False)
        self.assertEqual(c.recv_close()[0], 1002)
        c = self.ws()
        c.send_frame(0x1, b"\xff\xfe")
        self.assertEqual(c.recv_close()[0], 1007)
        c = self.ws()
        # Only the header of an oversized frame: the server must refuse on the length alone.
        c.sock.sendall(bytes((0x82, 0x80 | 127)) + ((1 << 20) + 1).to_bytes(8, "big") + b"mask")
        self.assertEqual(c.recv_close()[0], 1009)
        c = self.ws()
        c.send_frame(0x2, b"y" * (1 << 19), fin=False)
        c.send_frame(0x0, b"y" * ((1 << 19) + 1))  # fragments add up past the limit
        self.assertEqual(c.recv_close()[0], 1009)

    def test_plain_get_is_refused(self):
        conn = self.conn()
        conn.request("GET", "/ws")
        r = conn.getresponse()
        self.assertEqual(r.status, 426)
        self.assertIn("error", json.loads(r.read()))


class NoWebSocketHandlerTest(ServerTest):
    def make_app(self):
        return new_app()

    def test_no_handler_rejects_upgrade(self):
        c = WSClient(self.server.host, self.server.port)
        self.addCleanup(c.close_socket)
        self.assertEqual(c.status, 403)
