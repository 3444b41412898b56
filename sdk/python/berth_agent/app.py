"""``App``: an AgentCore HTTP-protocol agent server (``POST /invocations``, ``GET /ping``,
``GET /ws``) with the decorator API of ``bedrock_agentcore.BedrockAgentCoreApp``."""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import json
import logging
import os
import signal
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _http, _server, context as _context, models, responses
from ._logging import JSONFormatter
from ._running import RunningServer
from .models import PingStatus
from .websocket import WebSocket, WebSocketDisconnect, WebSocketState, check_upgrade

DEFAULT_MAX_BODY_BYTES = 100 * 1000 * 1000  # InvokeAgentRuntime's payload limit
DEFAULT_MAX_WS_MESSAGE_BYTES = 16 * 1024 * 1024
_INLINE_PARSE_BYTES = 256 * 1024
_UVICORN_KWARGS = {"log_level", "access_log", "workers", "reload", "timeout_keep_alive", "proxy_headers", "log_config"}


def _takes_context(fn: Callable[..., Any]) -> bool:
    """True if the handler's second parameter is named ``context`` (bedrock_agentcore's rule)."""
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False
    return len(params) >= 2 and params[1] == "context"


def _json_headers() -> List[Tuple[str, str]]:
    return [("Content-Type", "application/json")]


class App:
    """An agent server speaking AgentCore's HTTP protocol contract.

    Register the handler with ``@app.entrypoint`` and call ``app.run()``. The handler gets
    the JSON payload and, when its second parameter is named ``context``, a
    ``RequestContext``. What it returns decides the response: a value becomes JSON, a sync
    or async generator becomes a Server-Sent Events stream, a ``Response`` is sent as is.
    Sync handlers run in a thread pool and coroutines on a worker event loop, so ``/ping``
    answers while they run.

    Args:
        debug: enables the ``_agent_core_app_action`` debug payloads and access logging.
        lifespan: optional ``lifespan(app)`` async context manager around serving.
        middleware: Starlette middleware is not supported; passing any raises.
        max_body_bytes: largest accepted request body (default 100 MB); larger gets 413.
        max_workers: threads for sync handlers (default 64).
        max_ws_message_bytes: largest WebSocket message accepted (default 16 MiB).
        idle_timeout: seconds an idle keep-alive connection stays open (default 120).
        logger: logger to use (default ``berth_agent.app`` with JSON lines on stderr).
    """

    def __init__(
        self,
        debug: bool = False,
        lifespan: Optional[Callable[["App"], Any]] = None,
        middleware: Optional[List[Any]] = None,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_workers: int = 64,
        max_ws_message_bytes: int = DEFAULT_MAX_WS_MESSAGE_BYTES,
        idle_timeout: float = 120.0,
        logger: Optional[logging.Logger] = None,
    ):
        if middleware:
            raise NotImplementedError("berth_agent.App does not support Starlette middleware")
        self.debug = debug
        self.lifespan = lifespan
        self.max_body_bytes = max_body_bytes
        self.max_workers = max_workers
        self.max_ws_message_bytes = max_ws_message_bytes
        self.idle_timeout = idle_timeout
        self.handlers: Dict[str, Callable[..., Any]] = {}
        self._ping_handler: Optional[Callable[[], Any]] = None
        self._websocket_handler: Optional[Callable[..., Any]] = None
        self._active_tasks: Dict[int, Dict[str, Any]] = {}
        self._task_lock = threading.Lock()
        self._task_ids = itertools.count(1)
        self._forced_ping_status: Optional[PingStatus] = None
        self._last_known_status: Optional[PingStatus] = None
        self._last_status_update_time = time.time()
        self._workers: Optional[_server.Workers] = None
        if logger is None:
            logger = logging.getLogger("berth_agent.app")
            if not logger.handlers:
                h = logging.StreamHandler()
                h.setFormatter(JSONFormatter())
                logger.addHandler(h)
                logger.setLevel(logging.DEBUG if debug else logging.INFO)
        self.logger = logger

    # ---- registration --------------------------------------------------------------------

    def entrypoint(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Registers the invocation handler (``POST /invocations``)."""
        self.handlers["main"] = func
        func.run = lambda port=None, host=None: self.run(port, host)  # type: ignore[attr-defined]
        return func

    def ping(self, func: Callable[[], Any]) -> Callable[[], Any]:
        """Registers a function returning the ping status (a ``PingStatus`` or its string)."""
        self._ping_handler = func
        return func

    def websocket(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Registers the async ``(websocket, context)`` handler of ``GET /ws``."""
        if not inspect.iscoroutinefunction(func):
            raise ValueError("@app.websocket needs an async function")
        self._websocket_handler = func
        return func

    def async_task(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorates a function so ``/ping`` reports HealthyBusy while any call of it runs.

        Works on coroutine functions (as in bedrock_agentcore) and on plain functions (for
        work run in a thread).
        """
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                task_id = self.add_async_task(func.__name__)
                try:
                    return await func(*args, **kwargs)
                except Exception:
                    self.logger.exception("Async task failed: %s", func.__name__)
                    raise
                finally:
                    self.complete_async_task(task_id)

            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            task_id = self.add_async_task(func.__name__)
            try:
                return func(*args, **kwargs)
            except Exception:
                self.logger.exception("Async task failed: %s", func.__name__)
                raise
            finally:
                self.complete_async_task(task_id)

        return wrapper

    # ---- ping status and tasks -----------------------------------------------------------

    def add_async_task(self, name: str, metadata: Optional[Dict[str, Any]] = None) -> int:
        """Starts tracking background work; ``/ping`` says HealthyBusy until it completes."""
        with self._task_lock:
            task_id = next(self._task_ids)
            info: Dict[str, Any] = {"name": name, "start_time": time.time()}
            if metadata:
                info["metadata"] = metadata
            self._active_tasks[task_id] = info
        self.logger.info("Async task started: %s (ID: %s)", name, task_id)
        return task_id

    def complete_async_task(self, task_id: int) -> bool:
        """Stops tracking a task; False if the id is unknown."""
        with self._task_lock:
            info = self._active_tasks.pop(task_id, None)
        if info is None:
            self.logger.warning("Attempted to complete unknown task ID: %s", task_id)
            return False
        self.logger.info("Async task completed: %s (ID: %s, Duration: %.2fs)", info["name"], task_id,
                         time.time() - info["start_time"])
        return True

    def get_async_task_info(self) -> Dict[str, Any]:
        """``{"active_count": n, "running_jobs": [{"name", "duration"}]}``."""
        now = time.time()
        with self._task_lock:
            jobs = [{"name": t["name"], "duration": now - t["start_time"]} for t in self._active_tasks.values()]
        return {"active_count": len(jobs), "running_jobs": jobs}

    def force_ping_status(self, status: PingStatus) -> None:
        """Overrides every other source of the ping status until cleared."""
        self._forced_ping_status = PingStatus(status)

    def clear_forced_ping_status(self) -> None:
        self._forced_ping_status = None

    def get_current_ping_status(self) -> PingStatus:
        """Forced status, else the ``@app.ping`` function's, else Busy iff tasks are tracked."""
        status: Optional[PingStatus] = self._forced_ping_status
        if status is None and self._ping_handler is not None:
            try:
                status = PingStatus(self._ping_handler())
            except Exception as e:  # noqa: BLE001 - fall back to automatic, as bedrock_agentcore does
                self.logger.warning("Custom ping handler failed, falling back to automatic: %s: %s",
                                    type(e).__name__, e)
        if status is None:
            with self._task_lock:
                busy = bool(self._active_tasks)
            status = PingStatus.HEALTHY_BUSY if busy else PingStatus.HEALTHY
        if status != self._last_known_status:
            self._last_known_status = status
            self._last_status_update_time = time.time()
        return status

    def _ping_body(self) -> Dict[str, Any]:
        status = self.get_current_ping_status()
        return {"status": status.value, "time_of_last_update": int(self._last_status_update_time)}

    # ---- serving -------------------------------------------------------------------------

    def run(self, port: Optional[int] = None, host: Optional[str] = None, **kwargs: Any) -> None:
        """Serves until SIGINT/SIGTERM on ``host`` (default 0.0.0.0) and ``port`` (default
        ``$PORT`` or 8080). Uvicorn keyword arguments are accepted and ignored."""
        for k in kwargs:
            if k not in _UVICORN_KWARGS:
                self.logger.warning("run(): ignoring unknown argument %s", k)
        if port is None:
            port = int(os.environ.get("PORT") or 8080)
        if host is None:
            host = "0.0.0.0"  # nosec B104 - the runtime contract requires listening on all interfaces
        asyncio.run(self._serve_until_signal(host, port))

    async def _serve_until_signal(self, host: str, port: int) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        await self._serve(host, port, stop, None)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
        """Serves in a background thread (for tests); returns once the socket listens."""
        return RunningServer(self, host, port)

    async def _serve(self, host: str, port: int, stop: asyncio.Event,
                     ready: Optional[Callable[[Tuple[str, int]], None]]) -> None:
        self._workers = _server.Workers(self.max_workers)
        listener = _server.Listener(self._dispatch, _error_body, self.max_body_bytes, self.idle_timeout,
                                    lambda e: self.logger.error("Connection failed", exc_info=e))
        cm = self.lifespan(self) if self.lifespan is not None else None
        try:
            if cm is not None:
                await cm.__aenter__()
            addr = await listener.start(host, port)
            self.logger.info("Listening on %s:%d", addr[0], addr[1])
            if ready is not None:
                ready(addr)
            await stop.wait()
        finally:
            await listener.close()
            if cm is not None:
                await cm.__aexit__(None, None, None)
            await asyncio.get_running_loop().run_in_executor(None, self._workers.close)

    async def _dispatch(self, req: "_http.Request", reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> bool:
        """Handles one request; returns whether the connection may serve another."""
        conn = _server.Conn(req, writer)
        if self.debug:
            self.logger.info("%s %s", req.method, req.target)
        if req.path == "/ping":
            if req.method not in ("GET", "HEAD"):
                await conn.send(405, _json_headers() + [("Allow", "GET, HEAD")], _error_body("Method Not Allowed"))
            else:
                try:
                    body = self._ping_body()
                except Exception:  # noqa: BLE001 - never fail a health probe
                    self.logger.exception("Ping endpoint failed")
                    body = {"status": PingStatus.HEALTHY.value, "time_of_last_update": int(time.time())}
                await conn.send(200, _json_headers(), json.dumps(body).encode())
            return conn.keep_alive
        if req.path == "/invocations":
            if req.method != "POST":
                await conn.send(405, _json_headers() + [("Allow", "POST")], _error_body("Method Not Allowed"))
                return conn.keep_alive
            await self._invoke(req, conn)
            return conn.keep_alive
        if req.path == "/ws":
            await self._websocket(req, reader, writer, conn)
            return False
        await conn.send(404, _json_headers(), _error_body("Not Found"))
        return conn.keep_alive

    # ---- /invocations --------------------------------------------------------------------

    async def _invoke(self, req: "_http.Request", conn: "_server.Conn") -> None:
        ctx = _context.build_context(req, str(uuid.uuid4()))
        cv = _context.bind(ctx)
        log = functools.partial(cv.run, self._log)
        started = time.time()
        assert self._workers is not None
        try:
            if len(req.body) > _INLINE_PARSE_BYTES:  # keep the serving loop (and /ping) free
                payload = await self._workers.call_sync(cv, json.loads, req.body)
            else:
                payload = json.loads(req.body)
        except UnicodeDecodeError as e:
            log(logging.WARNING, "Invalid encoding in request: %s", e)
            await conn.send(400, _json_headers(), _json({"error": "Invalid encoding", "details": str(e)}))
            return
        except json.JSONDecodeError as e:
            log(logging.WARNING, "Invalid JSON in request: %s", e)
            await conn.send(400, _json_headers(), _json({"error": "Invalid JSON", "details": str(e)}))
            return
        if self.debug and isinstance(payload, dict) and payload.get("_agent_core_app_action"):
            status, body = self._debug_action(payload["_agent_core_app_action"])
            await conn.send(status, _json_headers(), _json(body))
            return
        handler = self.handlers.get("main")
        if handler is None:
            log(logging.ERROR, "No entrypoint defined")
            await conn.send(500, _json_headers(), _json({"error": "No entrypoint defined"}))
            return
        args = (payload, ctx) if _takes_context(handler) else (payload,)
        try:
            if inspect.iscoroutinefunction(handler):
                result = await self._workers.call_async(cv, handler(*args))
            elif inspect.isasyncgenfunction(handler):
                result = cv.run(handler, *args)
            else:
                result = await self._workers.call_sync(cv, handler, *args)
                if inspect.isawaitable(result):
                    result = await self._workers.call_async(cv, result)
        except responses.HTTPException as e:
            log(logging.WARNING, "Invocation failed with HTTP %d: %s", e.status_code, e.detail)
            await conn.send(e.status_code, _json_headers() + list(e.headers.items()), _json({"error": e.detail}))
            return
        except Exception as e:  # noqa: BLE001 - reported to the caller as a 500
            log(logging.ERROR, "Invocation failed (%.3fs)", time.time() - started, exc_info=e)
            await conn.send(500, _json_headers(), _json({"error": str(e)}))
            return
        await self._respond(result, conn, cv)
        log(logging.DEBUG, "Invocation completed (%.3fs)", time.time() - started)

    async def _respond(self, result: Any, conn: "_server.Conn", cv: Any) -> None:
        assert self._workers is not None
        if isinstance(result, responses.StreamingResponse):
            hdrs = list(result.headers.items())
            if result.media_type and not any(k.lower() == "content-type" for k, _ in hdrs):
                hdrs.append(("Content-Type", result.media_type))
            await self._stream(conn, result.status_code, hdrs, self._source(result.body_iterator, cv, _chunk_bytes), cv)
        elif isinstance(result, responses.Response):
            hdrs = list(result.headers.items())
            if result.media_type and not any(k.lower() == "content-type" for k, _ in hdrs):
                hdrs.append(("Content-Type", result.media_type))
            await conn.send(result.status_code, hdrs, result.body)
        elif inspect.isgenerator(result) or inspect.isasyncgen(result):
            sse = [("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache")]
            await self._stream(conn, 200, sse, self._source(result, cv, responses.sse_event), cv, sse_errors=True)
        else:
            # Serialised in the pool: a large result must not hold up the serving loop.
            body = await self._workers.call_sync(cv, _json_result, result)
            await conn.send(200, _json_headers(), body)

    def _source(self, it: Any, cv: Any, encode: Callable[[Any], bytes]) -> Any:
        assert self._workers is not None
        if hasattr(it, "__anext__") or hasattr(it, "__aiter__"):
            ait = it if hasattr(it, "__anext__") else it.__aiter__()
            return _server.AsyncSource(self._workers, cv, ait, encode)
        return _server.SyncSource(self._workers, cv, iter(it), encode)

    async def _stream(self, conn: "_server.Conn", status: int, headers: List[Tuple[str, str]], source: Any,
                      cv: Any, sse_errors: bool = False) -> None:
        """Writes each item as it is produced. An error after the headers went out can only
        be reported in-band (SSE) or by cutting the connection."""
        try:
            await conn.start_stream(status, headers)
            while True:
                try:
                    item = await source.next()
                except Exception as e:  # noqa: BLE001
                    cv.run(self._log, logging.ERROR, "Error in streaming response", exc_info=e)
                    if sse_errors:
                        await conn.write(responses.stream_error_event(e))
                        break
                    conn.keep_alive = False
                    return
                if item is _server._END:
                    break
                await conn.write(item)
            await conn.end_stream()
        except ConnectionError:
            conn.keep_alive = False
            cv.run(self._log, logging.INFO, "Client went away during a streaming response")
        finally:
            await source.close()

    def _debug_action(self, action: str) -> Tuple[int, Dict[str, Any]]:
        if action == models.TASK_ACTION_PING_STATUS:
            return 200, self._ping_body()
        if action == models.TASK_ACTION_JOB_STATUS:
            return 200, self.get_async_task_info()
        if action == models.TASK_ACTION_FORCE_HEALTHY:
            self.force_ping_status(PingStatus.HEALTHY)
            return 200, {"forced_status": "Healthy"}
        if action == models.TASK_ACTION_FORCE_BUSY:
            self.force_ping_status(PingStatus.HEALTHY_BUSY)
            return 200, {"forced_status": "HealthyBusy"}
        if action == models.TASK_ACTION_CLEAR_FORCED_STATUS:
            self.clear_forced_ping_status()
            return 200, {"forced_status": "Cleared"}
        return 400, {"error": f"Unknown action: {action}"}

    # ---- /ws -----------------------------------------------------------------------------

    async def _websocket(self, req: "_http.Request", reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter, conn: "_server.Conn") -> None:
        conn.keep_alive = False
        problem = check_upgrade(req)
        if problem is not None:
            status = 426 if "upgrade" not in req.headers else 400
            extra = [("Upgrade", "websocket")] if status == 426 else []
            await conn.send(status, _json_headers() + extra, _error_body(problem))
            return
        ctx = _context.build_context(req, str(uuid.uuid4()))
        cv = _context.bind(ctx)
        ws = WebSocket(req, reader, writer, self.max_ws_message_bytes)
        handler = self._websocket_handler
        if handler is None:
            cv.run(self._log, logging.ERROR, "No WebSocket handler defined")
            await conn.send(403, _json_headers(), _error_body("No WebSocket handler defined"))
            return
        args = (ws, ctx) if len(inspect.signature(handler).parameters) >= 2 else (ws,)
        try:
            await cv.run(asyncio.get_running_loop().create_task, handler(*args))
        except WebSocketDisconnect:
            pass
        except Exception as e:  # noqa: BLE001 - reported to the client as close 1011 / HTTP 500
            cv.run(self._log, logging.ERROR, "WebSocket handler failed", exc_info=e)
            if ws.application_state == WebSocketState.CONNECTING:
                await conn.send(500, _json_headers(), _error_body(str(e)))
                return
            await ws.close(1011)
        if ws.application_state == WebSocketState.CONNECTING or (ws.application_state == WebSocketState.DISCONNECTED
                                                                  and ws.client_state == WebSocketState.CONNECTING):
            await conn.send(403, _json_headers(), _error_body("WebSocket connection rejected"))
            return
        await ws._finish(2.0)

    def _log(self, level: int, msg: str, *args: Any, exc_info: Any = None) -> None:
        self.logger.log(level, msg, *args, exc_info=exc_info)


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def _error_body(message: str) -> bytes:
    return _json({"error": message})


def _json_result(result: Any) -> bytes:
    return responses.to_json(result).encode("utf-8", "replace")


def _chunk_bytes(item: Any) -> bytes:
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    return str(item).encode("utf-8")


BedrockAgentCoreApp = App
