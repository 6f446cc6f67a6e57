"""A loopback stand-in for a model host: a real http.server on 127.0.0.1 serving files with
HTTP Range support, able to cut a transfer short or to ignore ranges like a plain server."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


@dataclass
class ModelHost:
    """What the server serves and what it saw. ``files`` maps URL paths to files on disk."""

    files: dict[str, Path] = field(default_factory=dict)
    #: Close the connection after this many body bytes of the next response (then reset).
    cut_after: int | None = None
    honour_ranges: bool = True
    #: (path, Range header or "", status, body bytes sent) for every request.
    log: list[tuple[str, str, int, int]] = field(default_factory=list)
    url: str = ""


def _handler(host: ModelHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            source = host.files.get(self.path)
            asked = self.headers.get("Range", "")
            if source is None:
                self._empty(404, asked)
                return
            data = source.read_bytes()
            start, end, status = 0, len(data) - 1, 200
            match = _RANGE.match(asked)
            if match and host.honour_ranges:
                start = int(match.group(1))
                end = int(match.group(2)) if match.group(2) else len(data) - 1
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    host.log.append((self.path, asked, 416, 0))
                    return
                status = 206
            body = data[start : end + 1]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            self.end_headers()
            cut, host.cut_after = host.cut_after, None
            sent = body if cut is None else body[:cut]
            self.wfile.write(sent)
            self.wfile.flush()
            host.log.append((self.path, asked, status, len(sent)))
            if cut is not None:
                self.close_connection = True

        def _empty(self, status: int, asked: str) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            host.log.append((self.path, asked, status, 0))

    return Handler


@contextmanager
def model_host() -> Iterator[ModelHost]:
    host = ModelHost()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(host))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
