"""Constants of the AgentCore runtime contract: ping statuses and header names.

The header rules follow AgentCore's request-header allow-list: a header reaches agent code
unless it is on the restricted list, starts with ``x-amz-``, or starts with ``x-amzn-``
without the legacy ``X-Amzn-Bedrock-AgentCore-Runtime-Custom-`` prefix.
"""

from __future__ import annotations

from enum import Enum


class PingStatus(str, Enum):
    """Values of the ``status`` field of ``GET /ping`` (case-sensitive on the wire)."""

    HEALTHY = "Healthy"
    HEALTHY_BUSY = "HealthyBusy"


SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
REQUEST_ID_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"
# Older SDK releases used this name; it is read when the current one is absent.
LEGACY_REQUEST_ID_HEADER = "X-Amzn-Bedrock-AgentCore-Request-Id"
ACCESS_TOKEN_HEADER = "WorkloadAccessToken"  # nosec - a header name, not a secret
# A workload access token propagated by an upstream agent or gateway; preferred when present.
IDENTITY_WAT_HEADER = "X-Amz-Bedrock-AgentCore-Identity-WAT"  # nosec
OAUTH2_CALLBACK_URL_HEADER = "OAuth2CallbackUrl"
AUTHORIZATION_HEADER = "Authorization"
CUSTOM_HEADER_PREFIX = "X-Amzn-Bedrock-AgentCore-Runtime-Custom-"

TASK_ACTION_PING_STATUS = "ping_status"
TASK_ACTION_JOB_STATUS = "job_status"
TASK_ACTION_FORCE_HEALTHY = "force_healthy"
TASK_ACTION_FORCE_BUSY = "force_busy"
TASK_ACTION_CLEAR_FORCED_STATUS = "clear_forced_status"

# Headers the platform never forwards to agent code (lower case), from the AgentCore
# request-header allow-list documentation.
RESTRICTED_HEADERS = frozenset(
    h.lower()
    for h in (
        # authentication
        "Proxy-Authorization", "WWW-Authenticate",
        # content negotiation
        "Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Content-Type",
        "Content-Length", "Content-Encoding", "Content-Language", "Content-Location",
        "Content-Range",
        # caching
        "Cache-Control", "ETag", "Expires", "If-Match", "If-Modified-Since", "If-None-Match",
        "If-Range", "If-Unmodified-Since", "Last-Modified", "Pragma", "Vary",
        # connection management
        "Connection", "Keep-Alive", "Proxy-Connection", "Upgrade",
        # request context
        "Host", "User-Agent", "Referer", "From",
        # ranges and transfer
        "Range", "Accept-Ranges", "Transfer-Encoding", "TE", "Trailer", "Expect",
        # server information
        "Server", "Date", "Location", "Retry-After",
        # cookies
        "Set-Cookie", "Cookie",
        # security policies
        "Content-Security-Policy", "Content-Security-Policy-Report-Only",
        "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options",
        "X-XSS-Protection", "Referrer-Policy", "Permissions-Policy",
        "Cross-Origin-Embedder-Policy", "Cross-Origin-Opener-Policy",
        "Cross-Origin-Resource-Policy",
        # CORS
        "Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers", "Access-Control-Allow-Credentials",
        "Access-Control-Expose-Headers", "Access-Control-Max-Age",
        "Access-Control-Request-Method", "Access-Control-Request-Headers", "Origin",
        # client hints
        "Accept-CH", "Accept-CH-Lifetime", "DPR", "Width", "Viewport-Width", "Downlink", "ECT",
        "RTT", "Save-Data",
        # deprecated or experimental
        "Clear-Site-Data", "Feature-Policy", "Expect-CT", "Public-Key-Pins",
        "Public-Key-Pins-Report-Only",
        # proxies and client addresses
        "Via", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
        "X-Real-IP", "X-Requested-With", "X-CSRF-Token", "True-Client-IP", "X-Client-IP",
        "X-Cluster-Client-IP", "X-Originating-IP", "X-Source-IP", "X-Original-URL",
        "X-Original-Host", "X-Rewrite-URL", "CF-Ray", "CF-Connecting-IP", "X-Amz-Cf-Id",
        "X-Cache", "X-Served-By",
        # HTTP/2 pseudo-headers, server push
        ":method", ":path", ":scheme", ":authority", ":status", "Link",
        # WebSocket handshake
        "Sec-WebSocket-Key", "Sec-WebSocket-Accept", "Sec-WebSocket-Version",
        "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions",
    )
)


def is_forwardable_header(name: str) -> bool:
    """Reports whether AgentCore would forward a request header with this name to agent code."""
    lower = name.lower()
    if lower in RESTRICTED_HEADERS or lower.startswith("x-amz-"):
        return False
    if lower.startswith("x-amzn-") and not lower.startswith(CUSTOM_HEADER_PREFIX.lower()):
        return False
    return True
