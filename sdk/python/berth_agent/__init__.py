"""berth_agent: write agents for Berth (and AWS Bedrock AgentCore) with the standard library.

The package serves AgentCore's HTTP protocol contract on one port: ``POST /invocations``
(JSON or Server-Sent Events responses), ``GET /ping`` (``Healthy`` / ``HealthyBusy``) and
``GET /ws`` (WebSocket). Its API mirrors ``bedrock_agentcore.BedrockAgentCoreApp``, so an
agent ports by changing one import::

    from berth_agent import BedrockAgentCoreApp   # was: from bedrock_agentcore import ...

    app = BedrockAgentCoreApp()

    @app.entrypoint
    def invoke(payload, context):
        return {"result": f"Hello, {payload.get('prompt')}!", "session": context.session_id}

    if __name__ == "__main__":
        app.run()

It needs Python 3.10 or newer and nothing outside the standard library. Limits: HTTP/1.1
only (no HTTP/2, no TLS: the platform terminates TLS), no Starlette middleware, request
bodies are read whole before the handler runs (up to ``max_body_bytes``, 100 MB by
default), WebSocket without compression extensions.
"""

from ._running import RunningServer
from .app import App, BedrockAgentCoreApp
from .context import BedrockAgentCoreContext, RequestContext
from .models import PingStatus, is_forwardable_header
from .responses import HTTPException, JSONResponse, Response, StreamingResponse
from .websocket import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = [
    "App",
    "BedrockAgentCoreApp",
    "BedrockAgentCoreContext",
    "HTTPException",
    "JSONResponse",
    "PingStatus",
    "RequestContext",
    "Response",
    "RunningServer",
    "StreamingResponse",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketState",
    "is_forwardable_header",
]

__version__ = "0.1.0"
