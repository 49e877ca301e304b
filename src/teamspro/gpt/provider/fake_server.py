"""A fake OpenAI-compatible server that speaks the real wire protocol, for tests and benchmarks.

Shipped in the package (as httpx ships MockTransport) so that tests, benchmarks and anyone
trying TeamsPro without a model can run a provider locally. The *model* name picks a
behaviour: ``echo`` (default), ``instant``, ``slow``, ``markdown``, ``tools``, ``error-500``,
``error-429``, ``drop`` (the connection breaks mid-answer) and ``hang`` (never answers).

It also answers ``/v1/embeddings`` with deterministic bag-of-words vectors (model
``slow-N``: after N seconds).

    python -m teamspro.gpt.provider.fake_server --port 9400
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

BEHAVIOURS = [
    "echo",
    "instant",
    "slow",
    "markdown",
    "tools",
    "error-500",
    "error-429",
    "drop",
    "cut",  # a clean end mid-answer: no finish_reason, no [DONE]
    "garbage",  # 200 with a body that is not OpenAI's
    "hang",
    "cite",  # quotes the first numbered source of the system prompt and cites it as [1]
    "tools-loop",  # asks for a tool call every time, never answering
]


class Dropped(Exception):
    """Raised inside a streamed body: the server closes the connection mid-answer."""


def _reply(model: str, messages: list[dict[str, Any]]) -> str:
    last: dict[str, Any] = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    content = last.get("content") or ""
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content)
    if model.startswith("instant"):
        return "Hello!"
    if model.startswith("markdown"):
        return "**Bold** answer with a [link](https://example.com) <script>alert(1)</script>"
    if model.startswith("slow"):
        return " ".join(f"word{i}" for i in range(40))
    if model.startswith("tools") and messages and messages[-1].get("role") == "tool":
        return f"The tool said: {messages[-1].get('content')}"
    if model.startswith("cite"):
        system = next((str(m.get("content")) for m in messages if m.get("role") == "system"), "")
        source = system.split("Sources:\n[1] ", 1)[-1].split("\n", 2)
        quoted = " ".join(source[1].split()[:25]) if len(source) > 1 else ""
        return f"According to the sources: {quoted} [1]" if quoted else "I found no source."
    return f"You said: {content}"


def _words(text: str) -> list[str]:
    pieces = text.split(" ")
    return [p + (" " if i < len(pieces) - 1 else "") for i, p in enumerate(pieces)]


def _usage(messages: list[dict[str, Any]], reply: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) + 4 for m in messages)
    completion = len(reply.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return JSONResponse(body, status_code=status, headers=headers)


def _calls_tool(model: str, body: dict[str, Any]) -> bool:
    """``tools`` asks for a tool until it has a result; ``tools-loop`` never stops asking."""
    if model.startswith("tools-loop"):
        return True
    messages = body.get("messages") or []
    return model.startswith("tools") and not (messages and messages[-1].get("role") == "tool")


def _tool_call(body: dict[str, Any], messages: list[dict[str, Any]]) -> tuple[str, str]:
    """The tool to call and its arguments (sent in pieces, as OpenAI streams them): the one
    the person's JSON message names as ``{"tool": name, "arguments": {...}}``, else the first
    tool offered with the whole message as its arguments."""
    offered = body.get("tools") or [{"function": {"name": "lookup"}}]
    last: dict[str, Any] = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    arguments = str(last.get("content") or "{}")
    try:
        asked = json.loads(arguments)
    except ValueError:
        asked = None
    if isinstance(asked, dict) and isinstance(asked.get("tool"), str):
        return asked["tool"], json.dumps(asked.get("arguments") or {})
    return str(offered[0]["function"]["name"]), arguments


async def models(request: Request) -> Response:
    if request.headers.get("authorization") == "Bearer rejected-key":
        return _error(401, "Incorrect API key provided.", "invalid_request_error")
    data = [{"id": b, "object": "model", "created": 0, "owned_by": "fake"} for b in BEHAVIOURS]
    return JSONResponse({"object": "list", "data": data})


async def completions(request: Request) -> Response:
    body = await request.json()
    request.app.state.requests.append(body)
    model = str(body.get("model") or "echo")
    messages = body.get("messages") or []
    if model.startswith("error-500"):
        return _error(500, "The server had an error while processing your request.", "server_error")
    if model.startswith("error-429"):
        return _error(429, "Rate limit reached.", "requests", headers={"retry-after": "7"})
    if model.startswith("hang"):
        await asyncio.sleep(3600)
    if model.startswith("garbage"):
        return JSONResponse({"status": "ok", "result": "not a completion"})
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    reply = _reply(model, messages)
    usage = _usage(messages, reply)
    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": reply}
        return JSONResponse(
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": usage,
            }
        )
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    delay = 0.05 if model.startswith("slow") else 0.0

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        data = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(data)}\n\n".encode()

    async def events() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": ""})
        if _calls_tool(model, body):
            name, arguments = _tool_call(body, messages)
            call = {
                "index": 0,
                "id": f"call_{uuid.uuid4().hex[:8]}",
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            yield chunk({"tool_calls": [call]})
            half = len(arguments) // 2
            for piece in (arguments[:half], arguments[half:]):
                yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            yield chunk({}, "tool_calls")
        else:
            for i, word in enumerate(_words(reply)):
                if model.startswith("drop") and i == 3:
                    raise Dropped("connection dropped on purpose")
                if model.startswith("cut") and i == 3:
                    return
                if delay:
                    await asyncio.sleep(delay)
                yield chunk({"content": word})
            yield chunk({}, "stop")
        if include_usage:
            data = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            yield f"data: {json.dumps(data)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


EMBED_DIM = 64


def _bag_of_words(text: str) -> list[float]:
    """A deterministic embedding: hashed word counts, normalised (shared words, close)."""
    vector = [0.0] * EMBED_DIM
    for word in re.findall(r"\w+", text.lower()):
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % EMBED_DIM] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


async def embeddings(request: Request) -> Response:
    body = await request.json()
    request.app.state.requests.append(body)
    model = str(body.get("model", ""))
    if model.startswith("slow-"):  # e.g. slow-5: a provider that takes 5 s to answer
        await asyncio.sleep(float(model.removeprefix("slow-") or 5))
    inputs = body.get("input")
    texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
    if not texts:
        return _error(400, "input must not be empty", "invalid_request_error")
    data = [
        {"object": "embedding", "index": i, "embedding": _bag_of_words(t)}
        for i, t in enumerate(texts)
    ]
    tokens = sum(len(t.split()) for t in texts)
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "model": body.get("model", "bag"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def create_app() -> Starlette:
    app = Starlette(
        routes=[
            Route("/v1/models", models),
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
        ]
    )
    app.state.requests = []
    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9400)
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
