"""Per-request context: the object an entrypoint receives as ``context`` and the
``BedrockAgentCoreContext`` accessors backed by context variables.

Context variables are set for the handler's own execution (thread-pool thread or worker
event loop) and are inherited by tasks it creates, so library code deep in the call
stack can read the session id or workload access token without threading it through.
"""

from __future__ import annotations

import contextvars
from typing import Any, Dict, Optional

from . import models
from ._http import Headers


class RequestContext:
    """Metadata about one invocation (or one WebSocket connection).

    Attributes:
        session_id: value of ``X-Amzn-Bedrock-AgentCore-Runtime-Session-Id`` (None if absent).
        request_id: value of ``X-Amzn-Bedrock-AgentCore-Runtime-Request-Id``, or a new UUID.
        request_headers: the headers AgentCore forwards to agents (allow-list rules, with
            ``Authorization`` under its canonical name), or None when there are none —
            the same shape as ``bedrock_agentcore``'s ``RequestContext.request_headers``.
        headers: every request header, case-insensitive (``headers.get("x-foo")``).
        workload_access_token: from ``X-Amz-Bedrock-AgentCore-Identity-WAT`` or
            ``WorkloadAccessToken`` (None if absent).
        oauth2_callback_url: from ``OAuth2CallbackUrl`` (None if absent).
        request: the parsed HTTP request (method, path, query_string, headers, body, client).
    """

    __slots__ = (
        "session_id",
        "request_id",
        "request_headers",
        "headers",
        "workload_access_token",
        "oauth2_callback_url",
        "request",
    )

    def __init__(
        self,
        session_id: Optional[str] = None,
        request_id: Optional[str] = None,
        request_headers: Optional[Dict[str, str]] = None,
        headers: Optional[Headers] = None,
        workload_access_token: Optional[str] = None,
        oauth2_callback_url: Optional[str] = None,
        request: Any = None,
    ):
        self.session_id = session_id
        self.request_id = request_id
        self.request_headers = request_headers
        self.headers = headers if headers is not None else Headers([])
        self.workload_access_token = workload_access_token
        self.oauth2_callback_url = oauth2_callback_url
        self.request = request

    def __repr__(self) -> str:
        return f"RequestContext(session_id={self.session_id!r}, request_id={self.request_id!r})"


_workload_access_token: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar(
    "berth_agent_workload_access_token", default=None
)
_oauth2_callback_url: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar(
    "berth_agent_oauth2_callback_url", default=None
)
_request_id: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar(
    "berth_agent_request_id", default=None
)
_session_id: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar(
    "berth_agent_session_id", default=None
)
_request_headers: contextvars.ContextVar[Optional[Dict[str, str]]] = contextvars.ContextVar(
    "berth_agent_request_headers", default=None
)


class BedrockAgentCoreContext:
    """Accessors for the current request's metadata (None outside a request)."""

    @classmethod
    def get_workload_access_token(cls) -> Optional[str]:
        """The workload access token sent with this request."""
        return _workload_access_token.get()

    @classmethod
    def set_workload_access_token(cls, token: str) -> None:
        """Overrides the workload access token for the rest of this request."""
        _workload_access_token.set(token)

    @classmethod
    def get_oauth2_callback_url(cls) -> Optional[str]:
        """The OAuth2 callback URL sent with this request."""
        return _oauth2_callback_url.get()

    @classmethod
    def set_oauth2_callback_url(cls, url: str) -> None:
        """Overrides the OAuth2 callback URL for the rest of this request."""
        _oauth2_callback_url.set(url)

    @classmethod
    def get_request_id(cls) -> Optional[str]:
        """The request id of this invocation."""
        return _request_id.get()

    @classmethod
    def get_session_id(cls) -> Optional[str]:
        """The runtime session id of this invocation."""
        return _session_id.get()

    @classmethod
    def set_request_context(cls, request_id: str, session_id: Optional[str] = None) -> None:
        """Sets the request and session ids for the rest of this request."""
        _request_id.set(request_id)
        _session_id.set(session_id)

    @classmethod
    def get_request_headers(cls) -> Optional[Dict[str, str]]:
        """The forwardable request headers of this invocation."""
        return _request_headers.get()

    @classmethod
    def set_request_headers(cls, headers: Dict[str, str]) -> None:
        """Overrides the forwardable request headers for the rest of this request."""
        _request_headers.set(headers)


def build_context(request: Any, new_request_id: str) -> RequestContext:
    """Extracts the AgentCore fields from a parsed request."""
    h: Headers = request.headers
    request_headers: Dict[str, str] = {}
    for name, value in h.items():
        if name.lower() == models.AUTHORIZATION_HEADER.lower():
            request_headers[models.AUTHORIZATION_HEADER] = value
        elif models.is_forwardable_header(name):
            request_headers[name] = value
    return RequestContext(
        session_id=h.get(models.SESSION_HEADER),
        request_id=h.get(models.REQUEST_ID_HEADER)
        or h.get(models.LEGACY_REQUEST_ID_HEADER)
        or new_request_id,
        request_headers=request_headers or None,
        headers=h,
        workload_access_token=h.get(models.IDENTITY_WAT_HEADER) or h.get(models.ACCESS_TOKEN_HEADER),
        oauth2_callback_url=h.get(models.OAUTH2_CALLBACK_URL_HEADER),
        request=request,
    )


def bind(ctx: RequestContext) -> contextvars.Context:
    """Returns a fresh copy of the current context with ``ctx``'s fields set in it."""

    def setvars() -> None:
        _request_id.set(ctx.request_id)
        _session_id.set(ctx.session_id)
        _request_headers.set(ctx.request_headers)
        _workload_access_token.set(ctx.workload_access_token)
        _oauth2_callback_url.set(ctx.oauth2_callback_url)

    cv = contextvars.copy_context()
    cv.run(setvars)
    return cv
