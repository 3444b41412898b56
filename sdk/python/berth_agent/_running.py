"""Serving an App on a background thread, for tests and embedding."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any, Optional, Tuple

if TYPE_CHECKING:
    from .app import App


class RunningServer:
    """An ``App`` serving on a background thread: ``host``, ``port``, ``url``, ``stop()``."""

    def __init__(self, app: "App", host: str, port: int):
        self.app = app
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stop: Optional[asyncio.Event] = None
        self.host, self.port = host, port
        self._thread = threading.Thread(target=self._main, args=(host, port), name="berth-agent-server", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        if not self._ready.is_set():
            raise TimeoutError("berth_agent server did not start in 10s")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _main(self, host: str, port: int) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def ready(addr: Tuple[str, int]) -> None:
                self.host, self.port = addr
                self._ready.set()

            await self.app._serve(host, port, self._stop, ready)

        try:
            asyncio.run(main())
        except BaseException as e:  # noqa: BLE001 - surfaced to the starting thread
            self._error = e
            self._ready.set()

    def stop(self) -> None:
        """Stops serving and waits for the server thread to finish."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:
                pass
        self._thread.join(10)

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
