"""Execution machinery behind ``App``: the connection loop, response writing, and the two
places handler code runs so that the serving event loop never blocks.

* The serving loop (``asyncio.start_server``) parses requests, answers ``/ping`` and writes
  responses.
* Sync handlers and sync generators run in a thread pool (one ``next()`` per hop).
* Coroutine handlers and async generators run on a dedicated worker event loop in its own
  thread; tasks they spawn (``asyncio.create_task``) keep running there after the request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from typing import Any, Awaitable, Callable, List, Optional, Tuple

from . import _http

_END = object()


def _next_encoded(it: Any, encode: Callable[[Any], bytes]) -> Any:
    try:
        item = next(it)
    except StopIteration:
        return _END
    return encode(item)


class Workers:
    """The thread pool and the worker event loop."""

    def __init__(self, max_workers: int):
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix="berth-agent")
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="berth-agent-worker-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def call_sync(self, cv: contextvars.Context, fn: Callable[..., Any], *args: Any) -> Any:
        """Runs ``fn(*args)`` in the pool inside ``cv`` and awaits its result."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, cv.run, fn, *args)

    def submit(self, cv: contextvars.Context, coro: Awaitable[Any]) -> "concurrent.futures.Future[Any]":
        """Schedules ``coro`` on the worker loop with ``cv``'s variables set."""

        async def runner() -> Any:
            for var, value in cv.items():
                var.set(value)
            return await coro

        return asyncio.run_coroutine_threadsafe(runner(), self.loop)

    async def call_async(self, cv: contextvars.Context, coro: Awaitable[Any]) -> Any:
        """Runs ``coro`` on the worker loop and awaits its result from the serving loop."""
        return await asyncio.wrap_future(self.submit(cv, coro))

    def close(self, timeout: float = 2.0) -> None:
        """Cancels what still runs on the worker loop, stops it, and shuts the pool down."""

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)

        if self.loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(timeout + 1)
            except (concurrent.futures.TimeoutError, RuntimeError):
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()
        self.pool.shutdown(wait=False, cancel_futures=True)


class SyncSource:
    """Items of a sync iterator, each ``next()`` (and the item's encoding) run in the pool
    inside the request context."""

    def __init__(self, workers: Workers, cv: contextvars.Context, iterator: Any, encode: Callable[[Any], bytes]):
        self._workers = workers
        self._cv = cv
        self._it = iterator
        self._encode = encode
        self._busy = False

    async def next(self) -> Any:
        """The next encoded item, or ``_END``."""
        self._busy = True
        try:
            item = await self._workers.call_sync(self._cv, _next_encoded, self._it, self._encode)
        finally:
            self._busy = False
        return item

    async def close(self) -> None:
        close = getattr(self._it, "close", None)
        if close is not None and not self._busy:
            try:
                await self._workers.call_sync(self._cv, close)
            except Exception:  # noqa: BLE001 - the generator's own cleanup failed; nothing to tell
                pass


class AsyncSource:
    """Items of an async iterator consumed by one long-lived task on the worker loop, so the
    iterator's code keeps one task (and one context) for its whole life. Items are handed
    over one at a time, on request, already encoded: a slow client slows the generator down."""

    def __init__(self, workers: Workers, cv: contextvars.Context, aiterator: Any, encode: Callable[[Any], bytes]):
        self._loop = workers.loop
        self._requests: "asyncio.Queue[Optional[concurrent.futures.Future[Any]]]" = asyncio.Queue()
        self._it = aiterator
        self._encode = encode
        self._pump = workers.submit(cv, self._run())

    async def _run(self) -> None:
        try:
            while True:
                want = await self._requests.get()
                if want is None:
                    return
                try:
                    item = self._encode(await self._it.__anext__())
                except StopAsyncIteration:
                    item = _END
                except asyncio.CancelledError:
                    raise
                except BaseException as e:  # noqa: BLE001 - delivered to the serving loop
                    if not want.done():
                        want.set_exception(e)
                    return
                if not want.done():
                    want.set_result(item)
                if item is _END:
                    return
        finally:
            aclose = getattr(self._it, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:  # noqa: BLE001
                    pass

    async def next(self) -> Any:
        want: "concurrent.futures.Future[Any]" = concurrent.futures.Future()
        self._loop.call_soon_threadsafe(self._requests.put_nowait, want)
        try:
            return await asyncio.wrap_future(want)
        except asyncio.CancelledError:
            self._pump.cancel()
            raise

    async def close(self) -> None:
        if self._pump.done():
            return
        self._loop.call_soon_threadsafe(self._requests.put_nowait, None)
        try:
            await asyncio.wait_for(asyncio.wrap_future(self._pump), 5)
        except (asyncio.TimeoutError, Exception):  # noqa: BLE001
            self._pump.cancel()


class Conn:
    """Response writing for one request on one connection."""

    def __init__(self, req: "_http.Request", writer: asyncio.StreamWriter):
        self.req = req
        self.writer = writer
        self.keep_alive = req.keep_alive()
        self._chunked = False

    def _conn_headers(self) -> List[Tuple[str, str]]:
        if self.keep_alive:
            return [("Connection", "keep-alive")] if self.req.version == "HTTP/1.0" else []
        return [("Connection", "close")]

    async def send(self, status: int, headers: List[Tuple[str, str]], body: bytes) -> None:
        """A complete response with a Content-Length."""
        hdrs = [(k, v) for k, v in headers if k.lower() not in ("content-length", "transfer-encoding", "connection")]
        hdrs.append(("Content-Length", str(len(body))))
        hdrs.extend(self._conn_headers())
        head = _http.head_bytes(status, hdrs)
        if self.req.method == "HEAD" or not body:
            self.writer.write(head)
        else:
            self.writer.writelines((head, body))
        await self.writer.drain()

    async def start_stream(self, status: int, headers: List[Tuple[str, str]]) -> None:
        """Begins a streamed response: chunked on HTTP/1.1, close-delimited on HTTP/1.0."""
        hdrs = [(k, v) for k, v in headers if k.lower() not in ("content-length", "transfer-encoding", "connection")]
        if self.req.version == "HTTP/1.1":
            self._chunked = True
            hdrs.append(("Transfer-Encoding", "chunked"))
        else:
            self.keep_alive = False
        hdrs.extend(self._conn_headers())
        self.writer.write(_http.head_bytes(status, hdrs))
        await self.writer.drain()

    async def write(self, data: bytes) -> None:
        """Writes one piece of a streamed response and flushes it to the socket."""
        if not data:
            return
        if self._chunked:
            self.writer.writelines((b"%x\r\n" % len(data), data, b"\r\n"))
        else:
            self.writer.write(data)
        await self.writer.drain()

    async def end_stream(self) -> None:
        if self._chunked:
            self.writer.write(b"0\r\n\r\n")
            await self.writer.drain()


class Listener:
    """The asyncio server and its open connections."""

    def __init__(self, dispatch: Callable[..., Awaitable[bool]], error_body: Callable[[str], bytes],
                 max_body_bytes: int, idle_timeout: float, on_error: Callable[[BaseException], None]):
        self._dispatch = dispatch
        self._error_body = error_body
        self._max_body = max_body_bytes
        self._idle = idle_timeout
        self._on_error = on_error
        self._conns: "set[asyncio.Task[Any]]" = set()
        self.server: Optional[asyncio.AbstractServer] = None

    async def start(self, host: str, port: int) -> Tuple[str, int]:
        self.server = await asyncio.start_server(self._serve, host, port, limit=_http.MAX_HEAD_BYTES, reuse_address=True)
        addr = self.server.sockets[0].getsockname()
        return addr[0], addr[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for t in list(self._conns):
            t.cancel()
        if self._conns:
            await asyncio.wait(list(self._conns), timeout=2)
        if self.server is not None:
            try:
                await asyncio.wait_for(self.server.wait_closed(), 2)
            except asyncio.TimeoutError:
                pass

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        client = writer.get_extra_info("peername")
        try:
            while True:
                try:
                    req = await asyncio.wait_for(_http.read_head(reader, client), self._idle)
                    if req is None:
                        return
                    await _http.read_body(req, reader, writer, self._max_body)
                except _http.HTTPError as e:
                    await self._reject(writer, e)
                    return
                except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    return
                if not await self._dispatch(req, reader, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Shutdown cancels connections. Ending normally keeps Python 3.11's
            # StreamReaderProtocol callback from logging the cancellation as an error.
            return
        except Exception as e:  # noqa: BLE001 - a bug in the server; log it, drop the connection
            self._on_error(e)
        finally:
            self._conns.discard(task)
            writer.close()

    async def _reject(self, writer: asyncio.StreamWriter, e: "_http.HTTPError") -> None:
        body = self._error_body(e.message)
        head = _http.head_bytes(e.status, [("Content-Type", "application/json"),
                                           ("Content-Length", str(len(body))), ("Connection", "close")])
        try:
            writer.writelines((head, body))
            await writer.drain()
        except ConnectionError:
            pass
