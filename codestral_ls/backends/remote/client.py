"""The httpx client every remote backend uses, and a send that survives being superseded.

One verified TLS context, HTTP/2 when the extra is installed, a small pool kept across typing
pauses, and no redirects (a key must not follow a redirect to another host).
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import ssl

import httpx

from ... import __version__


def http2_available() -> bool:
    return importlib.util.find_spec("h2") is not None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verified TLS context for every client: loading CA certificates costs ~0.1 s, and
    a backend is recreated on every configuration change."""
    return httpx.create_ssl_context()


def make_client(
    total_timeout: float, connect_timeout: float, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    """A client whose every wait is bounded by the request's budget."""
    return httpx.AsyncClient(
        http2=http2_available(),
        timeout=httpx.Timeout(total_timeout, connect=connect_timeout, pool=connect_timeout),
        # Keep the connection (and its TLS session) across typing pauses; a server that
        # closed it meanwhile costs one cheap retry (see HttpBackend._request).
        limits=httpx.Limits(max_connections=4, max_keepalive_connections=2, keepalive_expiry=30.0),
        headers={"User-Agent": f"codestral-ls/{__version__}"},
        follow_redirects=False,
        verify=_tls_context(),
        transport=transport,
    )


_CLOSING: set[asyncio.Task[None]] = set()


async def send_uncancelled(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """``client.send`` that is never cancelled half-way.

    httpcore leaks a pooled connection when a request is cancelled while it connects or sends
    (the connection stays NEW forever); after ``max_connections`` such leaks every request
    waits for the pool and the backend goes silent. Superseded requests are the normal case
    here (every keystroke), so a cancelled send finishes in the background (bounded by the
    client's own timeouts) and its response is closed at once.
    """
    task = asyncio.ensure_future(client.send(request, stream=True))
    try:
        return await asyncio.shield(task)
    except BaseException:

        def close(done: asyncio.Future[httpx.Response]) -> None:
            if not done.cancelled() and done.exception() is None:
                closing = asyncio.ensure_future(done.result().aclose())
                _CLOSING.add(closing)  # keep a reference until it is done
                closing.add_done_callback(_CLOSING.discard)

        task.add_done_callback(close)
        raise
