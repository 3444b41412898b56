"""A streaming agent: the handler returns a generator, and every value it yields reaches the
caller as one Server-Sent Event (``data: <json>\\n\\n``) as soon as it is produced.

It uses berth_agent (sdk/python), Berth's standard-library port of AgentCore's
``BedrockAgentCoreApp``; vendor it next to this file before deploying (see README.md).

Payload: ``{"prompt": "some words", "delay_ms": 50}``. Answer, as SSE events:

    {"type": "start", "words": 2, "session": "<runtime session id>"}
    {"type": "token", "index": 0, "text": "SOME"}
    {"type": "token", "index": 1, "text": "WORDS"}
    {"type": "end", "text": "SOME WORDS"}
"""
import time

from berth_agent import BedrockAgentCoreApp, HTTPException

app = BedrockAgentCoreApp()


@app.entrypoint
def invoke(payload, context):
    if not isinstance(payload, dict):
        raise HTTPException(400, 'the payload must be a JSON object such as {"prompt": "hello"}')
    words = str(payload.get("prompt") or "hello from a streaming agent").split()
    delay = max(0, min(int(payload.get("delay_ms", 50)), 2000)) / 1000

    def events():
        # Runs in the SDK's thread pool, so blocking here keeps /ping answering.
        yield {"type": "start", "words": len(words), "session": context.session_id}
        out = []
        for i, word in enumerate(words):
            time.sleep(delay)  # stands in for a model producing its next token
            out.append(word.upper())
            yield {"type": "token", "index": i, "text": out[-1]}
        yield {"type": "end", "text": " ".join(out)}

    return events()


if __name__ == "__main__":
    app.run()
