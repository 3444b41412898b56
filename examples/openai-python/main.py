"""An agent that calls an OpenAI-compatible chat-completions API (OpenAI, or any server that
speaks the same protocol: vLLM, llama.cpp, Ollama, LiteLLM, ...) with nothing but the
standard library's urllib.

It uses berth_agent (sdk/python), Berth's standard-library port of AgentCore's
``BedrockAgentCoreApp``; vendor it next to this file before deploying (see README.md).

Configuration, from the runtime's environment variables (``berth deploy --env K=V``):

    OPENAI_BASE_URL   the API's base URL (default https://api.openai.com/v1)
    OPENAI_API_KEY    sent as "Authorization: Bearer <key>" (required)
    OPENAI_MODEL      the model (default gpt-4o-mini)
    SYSTEM_PROMPT     the system message (default: a short helpful-assistant prompt)

Payload: ``{"prompt": "...", "stream": false}``. The answer is
``{"answer": "...", "model": "...", "turn": n, "usage": {...}}``; with ``"stream": true`` it
is a stream of Server-Sent Events relaying the model's tokens as they arrive:
``{"type": "token", "text": "..."}`` ... then ``{"type": "end", "answer": "...", "turn": n}``.

The conversation is kept in the agent's memory: Berth runs one sandbox per session, so
every session is its own conversation.
"""
import json
import os
import urllib.error
import urllib.request

from berth_agent import BedrockAgentCoreApp, HTTPException

app = BedrockAgentCoreApp()

HISTORY = []  # this session's conversation: [{"role": ..., "content": ...}]
TIMEOUT_SECONDS = 120


def _config():
    key = os.environ.get("OPENAI_API_KEY", "")
    if not key:
        raise HTTPException(500, "OPENAI_API_KEY is not set: deploy with --env OPENAI_API_KEY=<key>")
    base = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")
    model = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
    return base, key, model


def _post(base, key, body):
    """POSTs to {base}/chat/completions and returns the open response. urllib honours
    HTTPS_PROXY / HTTP_PROXY, which Berth sets for runtimes with an egressAllowlist."""
    req = urllib.request.Request(
        base + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        return urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS)  # noqa: S310 - the URL is the operator's
    except urllib.error.HTTPError as e:
        detail = e.read(1000).decode("utf-8", "replace")
        raise HTTPException(502, f"the model API answered HTTP {e.code}: {detail}") from e
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise HTTPException(502, f"cannot reach the model API at {base}: {reason}") from e


def _stream_tokens(resp):
    """Yields the text deltas of a chat-completions SSE stream."""
    for raw in resp:
        line = raw.decode("utf-8").strip()
        if not line.startswith("data:"):
            continue
        data = line[len("data:"):].strip()
        if data == "[DONE]":
            return
        chunk = json.loads(data)
        for choice in chunk.get("choices") or []:
            text = (choice.get("delta") or {}).get("content")
            if text:
                yield text


@app.entrypoint
def invoke(payload):
    if not isinstance(payload, dict) or not str(payload.get("prompt") or "").strip():
        raise HTTPException(400, 'the payload needs a prompt, e.g. {"prompt": "Say hello"}')
    base, key, model = _config()
    system = os.environ.get("SYSTEM_PROMPT", "You are a helpful assistant. Answer briefly.")
    question = {"role": "user", "content": str(payload["prompt"])}
    body = {"model": model, "messages": [{"role": "system", "content": system}, *HISTORY, question]}

    if not payload.get("stream"):
        with _post(base, key, body) as resp:
            reply = json.load(resp)
        try:
            answer = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as e:
            raise HTTPException(502, f"unexpected answer from the model API: {json.dumps(reply)[:500]}") from e
        HISTORY.extend([question, {"role": "assistant", "content": answer}])
        return {"answer": answer, "model": reply.get("model", model), "turn": len(HISTORY) // 2, "usage": reply.get("usage")}

    body["stream"] = True
    resp = _post(base, key, body)  # errors here still become an HTTP error answer

    def events():
        parts = []
        with resp:
            for text in _stream_tokens(resp):
                parts.append(text)
                yield {"type": "token", "text": text}
        answer = "".join(parts)
        HISTORY.extend([question, {"role": "assistant", "content": answer}])
        yield {"type": "end", "answer": answer, "turn": len(HISTORY) // 2}

    return events()


if __name__ == "__main__":
    app.run()
