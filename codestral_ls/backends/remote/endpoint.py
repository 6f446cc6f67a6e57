"""Where requests go and what may travel with them: URL joining, the plain-http rule, the key.

Code is as private as the key, so neither leaves the machine over plain ``http://`` unless the
server is on loopback or the user said the network is trusted; and the key is scrubbed from
every text a user or a log can see.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

REDACTED = "[redacted]"


def redact(text: str, secret: str) -> str:
    """``text`` with every occurrence of ``secret`` replaced; the key must never be shown."""
    if secret and secret in text:
        return text.replace(secret, REDACTED)
    return text


def is_loopback_host(host: str) -> bool:
    """True for addresses that never leave this machine (where a plain-HTTP key is safe)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(api_base: str, api_key: str, allow_insecure_http: bool) -> str | None:
    """Why ``api_base`` cannot be used, or None when it can: plain http only to loopback
    (code is as private as the key) unless the user explicitly allows it."""
    parts = urlsplit(api_base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"setting 'api_base' must be an http:// or https:// address, not {api_base!r}"
    if parts.scheme == "http" and not is_loopback_host(parts.hostname) and not allow_insecure_http:
        what = "the API key and your code" if api_key else "your code"
        return (
            f"refusing to send {what} over plain http:// to {parts.hostname}: use https:// "
            "in 'api_base', or set 'allow_insecure_http' to true if this network is trusted"
        )
    return None


def check_key(api_key: str) -> str | None:
    """Why ``api_key`` cannot be sent in an HTTP header, or None when it can."""
    if all(32 < ord(ch) < 127 for ch in api_key):
        return None
    return (
        "setting 'api_key' contains characters that cannot be sent in an HTTP header "
        "(spaces, line breaks or non-ASCII characters): check how it was copied"
    )


def strip_userinfo(url: str) -> str:
    """``url`` without ``user:password@``, for showing it."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def join_url(api_base: str, path: str) -> str:
    """``api_base`` + ``path``, accepting bases that already end in ``/v1`` (a common habit)."""
    base = api_base.rstrip("/")
    if path.startswith("/v1/") and base.endswith("/v1"):
        base = base[: -len("/v1")]
    return base + path
