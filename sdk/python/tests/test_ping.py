"""GET /ping: status shape, HealthyBusy while async work is tracked, custom ping, and
responsiveness while handlers block."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time

from berth_agent import PingStatus

from .support import TIMEOUT, ServerTest, new_app


def wait_for_status(test: ServerTest, want: str) -> dict:
    """Polls /ping until it reports ``want`` (the HTTP endpoint is the only observable)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        got = test.ping()
        if got["status"] == want or time.monotonic() > deadline:
            test.assertEqual(got["status"], want)
            return got
        time.sleep(0.01)


class PingTest(ServerTest):
    def make_app(self):
        app = new_app()
        self.work_release = threading.Event()
        self.work_started = threading.Event()

        @app.async_task
        async def background_job():
            self.work_started.set()
            await asyncio.get_running_loop().run_in_executor(None, self.work_release.wait, TIMEOUT)

        @app.entrypoint
        async def handler(payload):
            if payload.get("start"):
                asyncio.create_task(background_job())
                return {"status": "started"}
            return {"status": "idle"}

        return app

    def test_healthy_shape(self):
        got = self.ping()
        self.assertEqual(set(got), {"status", "time_of_last_update"})
        self.assertEqual(got["status"], "Healthy")
        self.assertIsInstance(got["time_of_last_update"], int)
        self.assertLessEqual(got["time_of_last_update"], time.time())
        # No status change, no new timestamp: an advancing value would defeat idle timeouts.
        self.assertEqual(self.ping()["time_of_last_update"], got["time_of_last_update"])

    def test_head_ping(self):
        c = self.conn()
        c.request("HEAD", "/ping")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.read(), b"")

    def test_async_task_decorator_reports_busy(self):
        status, _, body = self.post({"start": True})
        self.assertEqual((status, json.loads(body)), (200, {"status": "started"}))
        self.assertTrue(self.work_started.wait(TIMEOUT))
        self.assertEqual(self.ping()["status"], "HealthyBusy")
        self.assertEqual(self.app.get_async_task_info()["active_count"], 1)
        self.assertEqual(self.app.get_async_task_info()["running_jobs"][0]["name"], "background_job")
        self.work_release.set()
        wait_for_status(self, "Healthy")
        self.assertEqual(self.app.get_async_task_info(), {"active_count": 0, "running_jobs": []})

    def test_add_and_complete_async_task(self):
        first = self.app.add_async_task("indexing", {"file": "a.csv"})
        second = self.app.add_async_task("embedding")
        self.assertNotEqual(first, second)
        self.assertEqual(self.ping()["status"], "HealthyBusy")
        self.assertTrue(self.app.complete_async_task(first))
        self.assertEqual(self.ping()["status"], "HealthyBusy")
        self.assertTrue(self.app.complete_async_task(second))
        self.assertEqual(self.ping()["status"], "Healthy")
        self.assertFalse(self.app.complete_async_task(second))

    def test_forced_status_wins(self):
        self.app.force_ping_status(PingStatus.HEALTHY_BUSY)
        self.assertEqual(self.ping()["status"], "HealthyBusy")
        self.app.clear_forced_ping_status()
        self.assertEqual(self.ping()["status"], "Healthy")


class CustomPingTest(ServerTest):
    def make_app(self):
        app = new_app()
        self.answer = "HealthyBusy"

        @app.ping
        def status():
            if self.answer == "raise":
                raise RuntimeError("probe failed")
            return self.answer

        return app

    def test_ping_override(self):
        self.assertEqual(self.ping()["status"], "HealthyBusy")
        self.answer = PingStatus.HEALTHY
        self.assertEqual(self.ping()["status"], "Healthy")
        # A failing custom function falls back to the automatic status.
        self.app.add_async_task("job")
        self.answer = "raise"
        self.assertEqual(self.ping()["status"], "HealthyBusy")


class ResponsivenessTest(ServerTest):
    """/ping must answer while handlers block their thread or even the worker event loop."""

    def make_app(self):
        app = new_app()
        self.entered = threading.Event()
        self.release = threading.Event()

        @app.entrypoint
        def handler(payload):
            if payload.get("async"):
                return self._blocking_coroutine()
            self.entered.set()
            self.release.wait(TIMEOUT)
            return {"done": "sync"}

        return app

    async def _blocking_coroutine(self):
        self.entered.set()
        self.release.wait(TIMEOUT)  # blocks the worker loop on purpose
        return {"done": "async"}

    def _check(self, payload, want):
        result = {}

        def invoke():
            c = http.client.HTTPConnection(self.server.host, self.server.port, timeout=TIMEOUT)
            c.request("POST", "/invocations", body=json.dumps(payload))
            result["body"] = json.loads(c.getresponse().read())
            c.close()

        t = threading.Thread(target=invoke)
        t.start()
        self.addCleanup(t.join, TIMEOUT)
        self.addCleanup(self.release.set)
        self.assertTrue(self.entered.wait(TIMEOUT))
        for _ in range(3):
            t0 = time.monotonic()
            self.assertEqual(self.ping()["status"], "Healthy")
            self.assertLess(time.monotonic() - t0, 1.0)
        self.assertTrue(t.is_alive(), "the handler finished before the pings")
        self.release.set()
        t.join(TIMEOUT)
        self.assertEqual(result["body"], want)

    def test_ping_during_slow_sync_handler(self):
        self._check({}, {"done": "sync"})

    def test_ping_during_blocking_coroutine(self):
        self._check({"async": True}, {"done": "async"})
