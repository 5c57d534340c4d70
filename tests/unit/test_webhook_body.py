"""The front door every platform webhook shares (bot.conversation.inbound.webhook_body):
authentication header first, then a size limit, over real HTTP on loopback."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.conversation.inbound import MAX_WEBHOOK_BYTES, webhook_body
from harness.helpers import serve

SECRET = "s3cret-token"


async def with_secret(request: Request) -> Response:
    got = await webhook_body(request, "x-secret", SECRET)
    return got if isinstance(got, Response) else JSONResponse({"header": got[0], "bytes": len(got[1])})


async def any_header(request: Request) -> Response:
    got = await webhook_body(request, "x-signature")
    return got if isinstance(got, Response) else JSONResponse({"header": got[0], "bytes": len(got[1])})


@pytest.fixture(scope="module")
def url():
    app = Starlette(routes=[Route("/secret", with_secret, methods=["POST"]),
                            Route("/signed", any_header, methods=["POST"])])
    with serve(app) as u:
        yield u


@pytest.mark.parametrize("headers", [{}, {"X-Secret": ""}, {"X-Secret": "wrong"}, {"X-Secret": SECRET[:-1]},
                                     {"X-Secret": SECRET + "x"}, {"X-Other": SECRET}])
def test_a_missing_or_wrong_secret_is_403(url, headers):
    r = httpx.post(f"{url}/secret", content=b"{}", headers=headers)
    assert (r.status_code, r.json()) == (403, {"error": "forbidden"})


def test_the_right_secret_gets_the_body_and_too_large_is_413(url):
    ok = httpx.post(f"{url}/secret", content=b"x" * MAX_WEBHOOK_BYTES, headers={"X-Secret": SECRET})
    assert ok.json() == {"header": SECRET, "bytes": MAX_WEBHOOK_BYTES}
    big = httpx.post(f"{url}/secret", content=b"x" * (MAX_WEBHOOK_BYTES + 1), headers={"X-Secret": SECRET})
    assert (big.status_code, big.json()) == (413, {"error": "too large"})


def test_without_a_secret_only_a_present_header_is_required(url):
    assert httpx.post(f"{url}/signed", content=b"{}").status_code == 403
    r = httpx.post(f"{url}/signed", content=b"{}", headers={"X-Signature": "mac=abc"})
    assert r.json() == {"header": "mac=abc", "bytes": 2}


def test_a_streamed_body_over_the_limit_is_refused_without_reading_it(url):
    """No Content-Length (chunked): refused once the limit is passed while it
    streams in, and the connection closed, so the sender cannot push the rest."""
    sent = 0

    def chunks():
        nonlocal sent
        for _ in range(512):
            sent += 65536
            yield b"x" * 65536

    try:
        r = httpx.post(f"{url}/secret", content=chunks(), headers={"X-Secret": SECRET}, timeout=30)
        assert (r.status_code, r.json()) == (413, {"error": "too large"})
    except httpx.HTTPError:
        pass  # refused and closed while the client was still sending
    assert sent < MAX_WEBHOOK_BYTES + 8 * 1024 * 1024, sent
