"""A WebSocket chat agent: ``GET /ws`` holds a conversation, streaming each reply word by
word as JSON text frames; ``POST /invocations`` returns the conversation so far.

It uses berth_agent (sdk/python), Berth's standard-library port of AgentCore's
``BedrockAgentCoreApp``; vendor it next to this file before deploying (see README.md).

On connect the agent sends ``{"type": "hello", "session": "<id>", "turns": <n>}``. Every
text frame the client sends is one user message; the agent answers with
``{"type": "token", "text": "<word>"}`` frames and then ``{"type": "done", "turn": <n>,
"reply": "<the whole reply>"}``. The message ``/bye`` closes the socket (code 1000).

The conversation lives in the agent's memory: Berth runs one sandbox per session, so a
client that reconnects with the same session id carries on where it left off.
"""
from berth_agent import BedrockAgentCoreApp

app = BedrockAgentCoreApp()

HISTORY = []  # [{"user": ..., "agent": ...}], this session's conversation


def answer(message, turn):
    """Stands in for a model: a reply that shows the agent remembers the conversation."""
    words = len(message.split())
    return f"You said {message!r} ({words} word{'s' if words != 1 else ''}); that is message {turn} in this session."


@app.websocket
async def chat(websocket, context):
    await websocket.accept()
    await websocket.send_json({"type": "hello", "session": context.session_id, "turns": len(HISTORY)})
    async for message in websocket.iter_text():
        if message.strip() == "/bye":
            await websocket.close(1000, "bye")
            return
        reply = answer(message, len(HISTORY) + 1)
        HISTORY.append({"user": message, "agent": reply})
        for word in reply.split(" "):
            await websocket.send_json({"type": "token", "text": word})
        await websocket.send_json({"type": "done", "turn": len(HISTORY), "reply": reply})


@app.entrypoint
def invoke(payload, context):
    return {"session": context.session_id, "turns": len(HISTORY), "history": HISTORY}


if __name__ == "__main__":
    app.run()
