"""Google's batch endpoint, `POST /batch/<api>/<version>`: many API calls in one multipart/mixed
request, as gcloud sends them when one command names several resources (`gcloud compute instances
create w1 w2`, `gcloud compute health-checks delete a b`).

Invariant: each part is answered as if it had come alone (routed, faulted, logged and counted as
a call of its own), in the order sent, and its reply is the response's part of the same position,
under the request's Content-ID prefixed `response-`.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import attrs
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

# "You're limited to 1000 calls in a single batch request" (Google's batch documentation).
MAX_CALLS = 1000

_PARSER = email.parser.BytesParser(policy=email.policy.compat32)


class BatchError(ValueError):
    """A batch body that cannot be read as calls: answered 400, no call made."""


@attrs.frozen
class Part:
    """One call of a batch: its Content-ID and the HTTP request it carries."""

    content_id: str | None
    method: str
    target: str  # path and query, as the request line gives them
    headers: tuple[tuple[str, str], ...]
    body: bytes


def calls(content_type: str, body: bytes) -> list[Part]:
    """The calls of a batch body, in order; BatchError says what is wrong with it."""
    if not content_type.lower().startswith("multipart/mixed"):
        raise BatchError(f"a batch request is multipart/mixed, not {content_type or 'untyped'}")
    message = _PARSER.parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise BatchError("the batch body has no parts (is its boundary right?)")
    parts = message.get_payload()
    if len(parts) > MAX_CALLS:
        raise BatchError(f"a batch holds at most {MAX_CALLS} calls, not {len(parts)}")
    return [_part(index, part) for index, part in enumerate(parts, 1)]


def _part(index: int, part: Any) -> Part:
    raw = part.get_payload(decode=True) or b""
    request_line, _, rest = raw.lstrip(b"\r\n").partition(b"\n")
    words = request_line.decode("latin-1").split()
    if len(words) != 3 or not words[2].startswith("HTTP/") or not words[1].startswith("/"):
        raise BatchError(f"part {index} does not start with a request line ('GET /path HTTP/1.1')")
    inner = _PARSER.parsebytes(rest)
    payload = inner.get_payload(decode=True)
    return Part(
        content_id=part["Content-ID"],
        method=words[0].upper(),
        target=words[1],
        # The length is the body's, once the part's line ends are off it.
        headers=tuple((k, str(v)) for k, v in inner.items() if k.lower() != "content-length"),
        body=payload.strip(b"\r\n") if isinstance(payload, bytes) else b"",
    )


def environ_of(part: Part, outer: dict[str, Any]) -> dict[str, Any]:
    """The WSGI environ of a call, as the server would have built it had the call come alone."""
    path, _, query = part.target.partition("?")
    environ = EnvironBuilder(
        path=path, query_string=query, method=part.method, headers=part.headers, data=part.body
    ).get_environ()
    environ["REQUEST_URI"] = environ["RAW_URI"] = part.target
    for key in ("REMOTE_ADDR", "SERVER_NAME", "SERVER_PORT", "HTTP_HOST", "werkzeug.socket"):
        if key in outer:
            environ[key] = outer[key]
    return environ


def answer(request: Request, run: Callable[[dict[str, Any]], Response]) -> Response:
    """Run each call of a batch through `run` and gather the replies into one response."""
    try:
        batch = calls(request.headers.get("Content-Type", ""), request.get_data(cache=False))
    except BatchError as exc:
        error = {"code": 400, "message": f"Failed to parse batch request: {exc}"}
        return Response(
            json.dumps({"error": {**error, "status": "INVALID_ARGUMENT"}}),
            status=400,
            mimetype="application/json",
        )
    boundary = f"batch_{uuid.uuid4().hex}"
    out: list[bytes] = []
    for part in batch:
        reply = run(environ_of(part, request.environ))
        head = ["Content-Type: application/http"]
        if part.content_id:
            head.append(f"Content-ID: {_response_id(part.content_id)}")
        data = reply.get_data()
        status = HTTPStatus(reply.status_code)
        lines = [f"HTTP/1.1 {status.value} {status.phrase}"]
        lines += [
            f"{key}: {value}"
            for key, value in reply.headers.items()
            if key.lower() not in ("content-length", "connection")
        ]
        lines.append(f"Content-Length: {len(data)}")
        out.append(
            f"--{boundary}\r\n".encode()
            + "\r\n".join(head).encode()
            + b"\r\n\r\n"
            + "\r\n".join(lines).encode("latin-1")
            + b"\r\n\r\n"
            + data
            + b"\r\n"
        )
    out.append(f"--{boundary}--\r\n".encode())
    return Response(b"".join(out), status=200, content_type=f"multipart/mixed; boundary={boundary}")


def _response_id(content_id: str) -> str:
    """`<x+1>` answered as `<response-x+1>`, as Google does."""
    inner = content_id.strip()
    if inner.startswith("<") and inner.endswith(">"):
        return f"<response-{inner[1:-1]}>"
    return f"response-{inner}"
