"""JSON log lines with the request and session ids, like bedrock_agentcore's logs."""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Dict

from .context import BedrockAgentCoreContext


class JSONFormatter(logging.Formatter):
    """One JSON object per line with requestId/sessionId, like bedrock_agentcore's logs."""

    def format(self, record: logging.LogRecord) -> str:
        entry: Dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + ".%03dZ" % (record.msecs,),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        rid = BedrockAgentCoreContext.get_request_id()
        sid = BedrockAgentCoreContext.get_session_id()
        if rid:
            entry["requestId"] = rid
        if sid:
            entry["sessionId"] = sid
        if record.exc_info and record.exc_info[0] is not None:
            entry["errorType"] = record.exc_info[0].__name__
            entry["errorMessage"] = str(record.exc_info[1])
            entry["stackTrace"] = self.formatException(record.exc_info).splitlines()
            entry["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
        return json.dumps(entry, ensure_ascii=False)
