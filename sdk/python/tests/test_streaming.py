"""Generators and async generators become Server-Sent Events, flushed as produced."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading

from berth_agent import StreamingResponse

from .support import TIMEOUT, ServerTest, new_app, read_head


def read_event(r: http.client.HTTPResponse) -> bytes:
    """Reads one SSE event (up to and including its blank line)."""
    lines = []
    while True:
        line = r.readline()
        if not line:
            raise EOFError("stream ended")
        lines.append(line)
        if line == b"\n":
            return b"".join(lines)


class StreamingTest(ServerTest):
    def make_app(self):
        app = new_app()
        self.release = threading.Event()  # lets the generator past its first event
        self.finished = threading.Event()  # set when the generator ran to its end or was closed
        self.closed_early = threading.Event()
        self.async_release = None

        @app.entrypoint
        def handler(payload, context):
            kind = payload["kind"]
            if kind == "sync":
                return self._sync_gen()
            if kind == "async":
                return self._async_gen()
            if kind == "boom":
                return self._failing_gen()
            if kind == "forever":
                return self._endless_gen()
            if kind == "raw":
                return StreamingResponse(iter([b"one,", "two"]), media_type="text/csv")
            raise AssertionError(kind)

        return app

    def _sync_gen(self):
        yield {"n": 1, "text": "héllo"}
        if not self.release.wait(TIMEOUT):
            raise TimeoutError("test never released the generator")
        yield "second"
        yield [3]
        self.finished.set()

    async def _async_gen(self):
        yield {"async": 1}
        # Waits for the test without blocking the worker loop.
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, TIMEOUT)
        yield {"async": 2}
        self.finished.set()

    def _failing_gen(self):
        yield "ok"
        raise KeyError("missing tool")

    def _endless_gen(self):
        try:
            i = 0
            while True:
                i += 1
                yield {"i": i}
        finally:
            self.closed_early.set()

    def _start(self, kind: str) -> http.client.HTTPResponse:
        c = self.conn()
        c.request("POST", "/invocations", body=json.dumps({"kind": kind}))
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/event-stream; charset=utf-8")
        return r

    def test_sync_generator_events_arrive_as_produced(self):
        r = self._start("sync")
        first = read_event(r)
        # The generator is still blocked on `release`: the event was flushed before it finished.
        self.assertFalse(self.release.is_set())
        self.assertFalse(self.finished.is_set())
        self.assertEqual(first, 'data: {"n": 1, "text": "héllo"}\n\n'.encode("utf-8"))
        self.release.set()
        self.assertEqual(r.read(), b'data: "second"\n\ndata: [3]\n\n')
        self.assertTrue(self.finished.is_set())

    def test_async_generator_events_arrive_as_produced(self):
        r = self._start("async")
        self.assertEqual(read_event(r), b'data: {"async": 1}\n\n')
        self.assertFalse(self.finished.is_set())
        self.release.set()
        self.assertEqual(r.read(), b'data: {"async": 2}\n\n')
        self.assertTrue(self.finished.is_set())

    def test_error_mid_stream_is_last_event(self):
        r = self._start("boom")
        self.assertEqual(read_event(r), b'data: "ok"\n\n')
        last = read_event(r)
        self.assertTrue(last.startswith(b"data: "))
        self.assertEqual(json.loads(last[len(b"data: "):]), {
            "error": "'missing tool'", "error_type": "KeyError", "message": "An error occurred during streaming"})
        self.assertEqual(r.read(), b"")

    def test_client_disconnect_closes_generator(self):
        s = self.raw_socket()
        body = b'{"kind": "forever"}'
        s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        status, headers, _ = read_head(s)
        self.assertEqual(status, 200)
        self.assertEqual(headers["transfer-encoding"], "chunked")
        s.close()
        self.assertTrue(self.closed_early.wait(TIMEOUT), "generator was not closed after the client left")

    def test_streaming_response_passthrough(self):
        c = self.conn()
        c.request("POST", "/invocations", body=json.dumps({"kind": "raw"}))
        r = c.getresponse()
        self.assertEqual(r.getheader("Content-Type"), "text/csv")
        self.assertEqual(r.read(), b"one,two")
        # The chunked stream ended cleanly, so the connection is reusable.
        c.request("GET", "/ping")
        self.assertEqual(c.getresponse().status, 200)
