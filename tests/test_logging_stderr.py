"""What a server at log_level "debug" writes to stderr: its own lines, not every message.

Editors read the server's stderr at their own pace (some not at all); a pipe that fills stops
the server in the middle of a write. The per-message dumps of pygls and httpx go to the log
file only.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import server_env


def test_debug_dumps_go_to_the_log_file_and_not_to_stderr(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    script = textwrap.dedent(
        f"""
        import logging
        from pathlib import Path
        from codestral_ls.logging_setup import setup_logging
        setup_logging("debug", Path({str(log)!r}), to_stderr=False)
        logging.getLogger("pygls.protocol.json_rpc").info("Sending data: " + "x" * 500)
        logging.getLogger("httpx").info("HTTP Request: POST http://127.0.0.1/v1")
        logging.getLogger("codestral_ls.engine").info("loaded the model")
        logging.getLogger("pygls.server").warning("a client error")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=server_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Sending data" not in done.stderr and "HTTP Request" not in done.stderr
    assert "loaded the model" in done.stderr and "a client error" in done.stderr
    written = log.read_text()
    assert "Sending data" in written and "HTTP Request" in written
