"""A small HTTP/1.1 server-side codec on asyncio streams.

It parses one request at a time from a connection (request line, headers, a body framed by
Content-Length or chunked transfer coding, ``Expect: 100-continue``) and writes responses
with a Content-Length or as a chunked stream. Bodies are read in pieces and joined once, so
a 100 MB body costs two copies, not a quadratic number. It is not a general web server: no
pipelining beyond handling requests in order, no request trailers exposed, no HTTP/2.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Dict, Iterator, List, Mapping, Optional, Tuple

MAX_HEAD_BYTES = 64 * 1024
_READ_PIECE = 1 << 20


class HTTPError(Exception):
    """A malformed or unacceptable request; answered with ``status`` and the connection closed."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Headers(Mapping[str, str]):
    """Request headers: case-insensitive lookup, original names and order kept.

    ``headers[name]`` and ``get`` return the first value; ``getlist`` returns all of them;
    ``items()`` yields every (name, value) pair as received.
    """

    __slots__ = ("_raw", "_index")

    def __init__(self, raw: List[Tuple[str, str]]):
        self._raw = raw
        self._index: Dict[str, List[str]] = {}
        for name, value in raw:
            self._index.setdefault(name.lower(), []).append(value)

    def __getitem__(self, name: str) -> str:
        return self._index[name.lower()][0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        seen = set()
        for name, _ in self._raw:
            if name.lower() not in seen:
                seen.add(name.lower())
                yield name

    def __len__(self) -> int:
        return len(self._index)

    def getlist(self, name: str) -> List[str]:
        """Every value of the header, in order."""
        return list(self._index.get(name.lower(), ()))

    def items(self):  # type: ignore[override]
        """Every (name, value) pair as received, duplicates included."""
        return list(self._raw)

    def __repr__(self) -> str:
        return f"Headers({self._raw!r})"


class Request:
    """One parsed HTTP request. ``body`` is the whole decoded body (bytes)."""

    __slots__ = ("method", "target", "path", "query_string", "version", "headers", "body", "client")

    def __init__(self, method, target, version, headers, client):
        self.method: str = method
        self.target: str = target
        path, _, query = target.partition("?")
        self.path: str = path
        self.query_string: str = query
        self.version: str = version
        self.headers: Headers = headers
        self.body: bytes = b""
        self.client: Optional[Tuple[str, int]] = client

    def json(self):
        """The body parsed as JSON (raises ValueError subclasses on bad input)."""
        return json.loads(self.body)

    def keep_alive(self) -> bool:
        """Whether the client wants the connection kept open after this exchange."""
        tokens = _tokens(self.headers.get("connection", ""))
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


def _tokens(value: str) -> List[str]:
    return [t.strip().lower() for t in value.split(",") if t.strip()]


async def read_head(reader: asyncio.StreamReader, client) -> Optional[Request]:
    """Reads a request line and headers. Returns None on a clean end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial.strip():
            return None
        raise HTTPError(400, "incomplete request head") from None
    except asyncio.LimitOverrunError:
        raise HTTPError(431, "request head too large") from None
    if len(head) > MAX_HEAD_BYTES:
        raise HTTPError(431, "request head too large")
    # Tolerate empty lines before the request line (RFC 9112 section 2.2).
    lines = head.lstrip(b"\r\n").split(b"\r\n")
    try:
        method, target, version = lines[0].decode("ascii").split(" ")
    except (UnicodeDecodeError, ValueError):
        raise HTTPError(400, "malformed request line") from None
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HTTPError(505, "HTTP version not supported")
    raw: List[Tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            raise HTTPError(400, "obsolete header folding")
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise HTTPError(400, "malformed header line")
        raw.append((name, value.strip(" \t")))
    return Request(method, target, version, Headers(raw), client)


async def read_body(
    req: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_bytes: int
) -> None:
    """Reads the request body into ``req.body`` (answering ``Expect: 100-continue`` first)."""
    te = _tokens(req.headers.get("transfer-encoding", ""))
    cl_values = req.headers.getlist("content-length")
    if te and cl_values:
        raise HTTPError(400, "both Transfer-Encoding and Content-Length")
    if te:
        if te != ["chunked"]:
            raise HTTPError(501, "unsupported transfer coding")
        await _continue(req, writer)
        req.body = await _read_chunked(reader, max_bytes)
        return
    if not cl_values:
        return
    if len(set(cl_values)) != 1 or not cl_values[0].isdigit():
        raise HTTPError(400, "invalid Content-Length")
    length = int(cl_values[0])
    if length > max_bytes:
        raise HTTPError(413, f"request body larger than {max_bytes} bytes")
    if length:
        await _continue(req, writer)
        req.body = await _read_exact(reader, length)


async def _continue(req: Request, writer: asyncio.StreamWriter) -> None:
    if req.version == "HTTP/1.1" and req.headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()


async def _read_exact(reader: asyncio.StreamReader, n: int) -> bytes:
    pieces = []
    left = n
    while left:
        piece = await reader.read(min(left, _READ_PIECE))
        if not piece:
            raise HTTPError(400, "request body ended early")
        pieces.append(piece)
        left -= len(piece)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


async def _read_chunked(reader: asyncio.StreamReader, max_bytes: int) -> bytes:
    pieces = []
    total = 0
    while True:
        line = await _readline(reader)
        if not line.endswith(b"\n"):
            raise HTTPError(400, "request body ended early")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise HTTPError(400, "invalid chunk size") from None
        if size < 0 or size_text.startswith((b"-", b"+", b"0x", b"0X")):
            raise HTTPError(400, "invalid chunk size")
        if size == 0:
            break
        total += size
        if total > max_bytes:
            raise HTTPError(413, f"request body larger than {max_bytes} bytes")
        pieces.append(await _read_exact(reader, size))
        if await _readline(reader) not in (b"\r\n", b"\n"):
            raise HTTPError(400, "missing CRLF after chunk")
    while True:  # trailer section, discarded
        line = await _readline(reader)
        if line in (b"\r\n", b"\n"):
            break
        if not line:
            raise HTTPError(400, "request body ended early")
    return b"".join(pieces)


async def _readline(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readline()
    except ValueError:  # line longer than the reader's limit
        raise HTTPError(400, "chunk line too long") from None


def status_line(status: int) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    return f"HTTP/1.1 {status} {reason}\r\n".encode("ascii")


def head_bytes(status: int, headers: List[Tuple[str, str]]) -> bytes:
    """The status line and header block of a response."""
    out = [status_line(status)]
    for name, value in headers:
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r} contains a line break")
        out.append(f"{name}: {value}\r\n".encode("latin-1"))
    out.append(b"\r\n")
    return b"".join(out)
