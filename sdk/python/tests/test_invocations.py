"""POST /invocations: JSON responses, context, errors, request framing."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid

from berth_agent import BedrockAgentCoreContext, HTTPException, JSONResponse, Response

from .support import ServerTest, new_app, read_head

SESSION = "6f1c0a2e-1b2c-4d3e-9f40-0123456789ab-session"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class InvocationTest(ServerTest):
    def make_app(self):
        app = new_app(max_body_bytes=150 * 1000 * 1000)
        self.seen = {}

        @app.entrypoint
        def handler(payload, context):
            kind = payload.get("kind") if isinstance(payload, dict) else None
            if kind == "context":
                return {
                    "session_id": context.session_id,
                    "request_id": context.request_id,
                    "workload_access_token": context.workload_access_token,
                    "oauth2_callback_url": context.oauth2_callback_url,
                    "request_headers": context.request_headers,
                    "header_lookup": context.headers.get("x-anything"),
                    "var_session": BedrockAgentCoreContext.get_session_id(),
                    "var_request": BedrockAgentCoreContext.get_request_id(),
                    "var_token": BedrockAgentCoreContext.get_workload_access_token(),
                }
            if kind == "raise":
                raise RuntimeError("model exploded")
            if kind == "value_error":
                raise ValueError("bad prompt")
            if kind == "http":
                raise HTTPException(422, "prompt too short")
            if kind == "response":
                return Response("plain text", status_code=201, headers={"X-Custom": "1"}, media_type="text/plain")
            if kind == "json_response":
                return JSONResponse({"accepted": True}, status_code=202)
            if kind == "dataclass":
                return {"point": Point(1, 2), "tags": {"a"}, "unicode": "héllo ✓"}
            if kind == "size":
                return {"len": len(payload["blob"])}
            return {"echo": payload}

        return app

    def test_json_round_trip(self):
        status, headers, body = self.post({"prompt": "hi"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(int(headers["content-length"]), len(body))
        self.assertEqual(json.loads(body), {"echo": {"prompt": "hi"}})

    def test_context_from_headers(self):
        status, _, body = self.post(
            {"kind": "context"},
            headers={
                "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": SESSION,
                "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id": "req-123",
                "WorkloadAccessToken": "wat-abc",
                "OAuth2CallbackUrl": "https://cb.example/return",
                "Authorization": "Bearer jwt",
                "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant": "t1",
                "X-Amzn-Trace-Id": "Root=1-abc",
                "X-Anything": "visible",
                "User-Agent": "restricted",
            },
        )
        self.assertEqual(status, 200, body)
        got = json.loads(body)
        self.assertEqual(got["session_id"], SESSION)
        self.assertEqual(got["request_id"], "req-123")
        self.assertEqual(got["workload_access_token"], "wat-abc")
        self.assertEqual(got["oauth2_callback_url"], "https://cb.example/return")
        self.assertEqual(got["header_lookup"], "visible")
        self.assertEqual(got["var_session"], SESSION)
        self.assertEqual(got["var_request"], "req-123")
        self.assertEqual(got["var_token"], "wat-abc")
        rh = got["request_headers"]
        self.assertEqual(rh["Authorization"], "Bearer jwt")
        self.assertEqual(rh["X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant"], "t1")
        self.assertEqual(rh["X-Anything"], "visible")
        self.assertNotIn("X-Amzn-Trace-Id", rh)  # x-amzn-* other than the custom prefix
        self.assertNotIn("User-Agent", rh)  # restricted
        self.assertNotIn("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", rh)

    def test_context_defaults(self):
        _, _, body = self.post({"kind": "context"}, headers={"X-Amz-Bedrock-AgentCore-Identity-WAT": "upstream",
                                                              "WorkloadAccessToken": "platform"})
        got = json.loads(body)
        self.assertIsNone(got["session_id"])
        uuid.UUID(got["request_id"])  # generated
        self.assertEqual(got["workload_access_token"], "upstream")  # the propagated WAT wins

    def test_handler_exception_is_500_json(self):
        status, headers, body = self.post({"kind": "raise"})
        self.assertEqual(status, 500)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(json.loads(body), {"error": "model exploded"})
        # ValueError from the handler is a server error too (bedrock_agentcore behaves the same).
        status, _, body = self.post({"kind": "value_error"})
        self.assertEqual((status, json.loads(body)), (500, {"error": "bad prompt"}))

    def test_http_exception_status(self):
        status, _, body = self.post({"kind": "http"})
        self.assertEqual((status, json.loads(body)), (422, {"error": "prompt too short"}))

    def test_invalid_json_is_400(self):
        status, _, body = self.post(None, raw=b"{not json")
        self.assertEqual(status, 400)
        got = json.loads(body)
        self.assertEqual(got["error"], "Invalid JSON")
        self.assertIn("details", got)
        status, _, body = self.post(None, raw=b"\xff\xfe\xfa")
        self.assertEqual(status, 400)
        self.assertIn(json.loads(body)["error"], ("Invalid encoding", "Invalid JSON"))

    def test_response_passthrough(self):
        status, headers, body = self.post({"kind": "response"})
        self.assertEqual((status, body), (201, b"plain text"))
        self.assertEqual(headers["content-type"], "text/plain")
        self.assertEqual(headers["x-custom"], "1")
        status, headers, body = self.post({"kind": "json_response"})
        self.assertEqual((status, json.loads(body)), (202, {"accepted": True}))

    def test_non_json_values_are_converted(self):
        status, _, body = self.post({"kind": "dataclass"})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body.decode("utf-8")), {"point": {"x": 1, "y": 2}, "tags": ["a"],
                                                            "unicode": "héllo ✓"})
        self.assertIn("héllo ✓".encode("utf-8"), body)  # ensure_ascii=False, as in bedrock_agentcore

    def test_keep_alive_reuses_connection(self):
        c = self.conn()
        for i in range(3):
            c.request("POST", "/invocations", body=json.dumps({"n": i}))
            r = c.getresponse()
            self.assertEqual(json.loads(r.read()), {"echo": {"n": i}})
            self.assertFalse(r.will_close)
        sock = c.sock
        c.request("GET", "/ping")
        c.getresponse().read()
        self.assertIs(c.sock, sock)

    def test_chunked_request_body(self):
        s = self.raw_socket()
        body = json.dumps({"prompt": "chunked body"}).encode()
        parts = [body[:5], body[5:11], body[11:]]
        wire = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\nX-Trailer: t\r\n\r\n"
        s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + wire)
        status, headers, rest = read_head(s)
        self.assertEqual(status, 200)
        while len(rest) < int(headers["content-length"]):
            rest += s.recv(65536)
        self.assertEqual(json.loads(rest), {"echo": {"prompt": "chunked body"}})

    def test_expect_continue(self):
        s = self.raw_socket()
        body = json.dumps({"prompt": "after continue"}).encode()
        s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
                  % len(body))
        status, _, rest = read_head(s)
        self.assertEqual(status, 100)
        self.assertEqual(rest, b"")
        s.sendall(body)
        status, headers, rest = read_head(s)
        self.assertEqual(status, 200)
        while len(rest) < int(headers["content-length"]):
            rest += s.recv(65536)
        self.assertEqual(json.loads(rest), {"echo": {"prompt": "after continue"}})

    def test_large_body_100mb(self):
        n = 100 * 1000 * 1000 - 100
        raw = b'{"kind": "size", "blob": "' + b"x" * n + b'"}'
        t0 = time.monotonic()
        status, _, body = self.post(None, raw=raw)
        elapsed = time.monotonic() - t0
        self.assertEqual(status, 200, body[:200])
        self.assertEqual(json.loads(body), {"len": n})
        self.assertLess(elapsed, 10, "100 MB body took too long (quadratic copying?)")

    def test_malformed_requests(self):
        for wire, want in [
            (b"POST /invocations HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            (b"POST /invocations HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
            (b"GARBAGE\r\n\r\n", 400),
            (b"POST /invocations HTTP/2.0\r\n\r\n", 505),
        ]:
            s = self.raw_socket()
            s.sendall(wire)
            status, _, _ = read_head(s)
            self.assertEqual(status, want, wire)

    def test_unknown_path_and_method(self):
        c = self.conn()
        c.request("GET", "/nope")
        r = c.getresponse()
        self.assertEqual(r.status, 404)
        r.read()
        c.request("GET", "/invocations")
        r = c.getresponse()
        self.assertEqual(r.status, 405)
        self.assertEqual(json.loads(r.read()), {"error": "Method Not Allowed"})

    def test_http10_client(self):
        s = self.raw_socket()
        s.sendall(b'POST /invocations HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}')
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK\r\n"), data)
        self.assertTrue(data.endswith(b'{"echo": {}}'), data)


class BodyLimitTest(ServerTest):
    def make_app(self):
        app = new_app(max_body_bytes=1000)
        app.entrypoint(lambda payload: payload)
        return app

    def test_too_large_is_413(self):
        c = self.conn()
        c.request("POST", "/invocations", body=b"[" + b"1," * 1000 + b"1]")
        r = c.getresponse()
        self.assertEqual(r.status, 413)
        self.assertIn("error", json.loads(r.read()))


class PayloadOnlyTest(ServerTest):
    def make_app(self):
        app = new_app()

        @app.entrypoint
        def handler(payload):  # no context parameter
            return payload["prompt"].upper()

        return app

    def test_handler_without_context(self):
        status, _, body = self.post({"prompt": "shout"})
        self.assertEqual((status, json.loads(body)), (200, "SHOUT"))


class AsyncHandlerTest(ServerTest):
    def make_app(self):
        app = new_app()

        @app.entrypoint
        async def handler(payload, context):
            return {"session": BedrockAgentCoreContext.get_session_id(), "n": payload["n"] * 2}

        return app

    def test_async_function(self):
        status, _, body = self.post({"n": 21}, headers={"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": SESSION})
        self.assertEqual((status, json.loads(body)), (200, {"session": SESSION, "n": 42}))


class NoEntrypointTest(ServerTest):
    def make_app(self):
        return new_app()

    def test_missing_entrypoint_is_500(self):
        status, _, body = self.post({})
        self.assertEqual((status, json.loads(body)), (500, {"error": "No entrypoint defined"}))


class DebugActionsTest(ServerTest):
    def make_app(self):
        app = new_app(debug=True)
        app.entrypoint(lambda payload: {"handled": True})
        return app

    def test_debug_actions(self):
        self.assertEqual(json.loads(self.post({"_agent_core_app_action": "force_busy"})[2]),
                         {"forced_status": "HealthyBusy"})
        self.assertEqual(self.ping()["status"], "HealthyBusy")
        self.assertEqual(json.loads(self.post({"_agent_core_app_action": "job_status"})[2]),
                         {"active_count": 0, "running_jobs": []})
        self.post({"_agent_core_app_action": "clear_forced_status"})
        self.assertEqual(self.ping()["status"], "Healthy")
        status, _, _ = self.post({"_agent_core_app_action": "bogus"})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(self.post({"prompt": 1})[2]), {"handled": True})


