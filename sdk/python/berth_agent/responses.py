"""Response types a handler may return, the HTTP error it may raise, and the JSON/SSE
serialisation rules shared by every response path.

Serialisation matches ``bedrock_agentcore``: ``json.dumps(value, ensure_ascii=False)``;
values JSON cannot encode are converted (``model_dump()``, ``to_dict()``, dataclasses,
sets, bytes as UTF-8 text) and, failing that, turned into ``str(value)``; if even that
fails the body is ``{"error": "Serialization failed", "original_type": ...}``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, AsyncIterable, Dict, Iterable, Mapping, Optional, Union


class HTTPException(Exception):
    """Raise from a handler to answer with ``status_code`` and ``{"error": detail}``."""

    def __init__(self, status_code: int, detail: Any = None, headers: Optional[Mapping[str, str]] = None):
        if detail is None:
            try:
                from http import HTTPStatus

                detail = HTTPStatus(status_code).phrase
            except ValueError:
                detail = ""
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers or {})


class Response:
    """A response the handler controls completely: status, headers and body bytes."""

    media_type: Optional[str] = None

    def __init__(
        self,
        content: Union[bytes, str, None] = None,
        status_code: int = 200,
        headers: Optional[Mapping[str, str]] = None,
        media_type: Optional[str] = None,
    ):
        self.status_code = status_code
        self.headers: Dict[str, str] = dict(headers or {})
        if media_type is not None:
            self.media_type = media_type
        self.body = self.render(content)

    def render(self, content: Any) -> bytes:
        if content is None:
            return b""
        if isinstance(content, (bytes, bytearray, memoryview)):
            return bytes(content)
        return str(content).encode("utf-8")


class JSONResponse(Response):
    """A JSON response (``application/json``) with a chosen status code."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return to_json(content).encode("utf-8", "replace")


class StreamingResponse:
    """A streamed response: ``content`` is a sync or async iterable of bytes or str chunks,
    each written and flushed as it is produced (no SSE framing is added)."""

    def __init__(
        self,
        content: Union[Iterable[Any], AsyncIterable[Any]],
        status_code: int = 200,
        headers: Optional[Mapping[str, str]] = None,
        media_type: Optional[str] = None,
    ):
        self.body_iterator = content
        self.status_code = status_code
        self.headers: Dict[str, str] = dict(headers or {})
        self.media_type = media_type


def _convert(obj: Any) -> Any:
    for attr in ("model_dump", "to_dict", "dict"):
        fn = getattr(obj, attr, None)
        if callable(fn):
            try:
                return fn()
            except TypeError:
                pass
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj).decode("utf-8", errors="replace")
    return str(obj)


def to_json(obj: Any) -> str:
    """Serialises a handler value to JSON text, never raising."""
    try:
        return json.dumps(obj, ensure_ascii=False)
    except (TypeError, ValueError):
        pass
    try:
        return json.dumps(obj, ensure_ascii=False, default=_convert)
    except Exception:  # noqa: BLE001 - fall through to the next, weaker form
        pass
    try:
        return json.dumps(str(obj), ensure_ascii=False)
    except Exception:  # noqa: BLE001
        return json.dumps({"error": "Serialization failed", "original_type": type(obj).__name__})


def sse_event(obj: Any) -> bytes:
    """One Server-Sent Event carrying ``obj``: ``data: <json>\\n\\n``."""
    return b"data: " + to_json(obj).encode("utf-8", "replace") + b"\n\n"


def stream_error_event(exc: BaseException) -> bytes:
    """The last event of a stream whose generator raised."""
    return sse_event(
        {
            "error": str(exc),
            "error_type": type(exc).__name__,
            "message": "An error occurred during streaming",
        }
    )
