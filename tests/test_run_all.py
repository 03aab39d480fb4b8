"""`make run` (scripts/run-all.sh) on a busy port says so, names PORT and starts nothing."""

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def test_a_busy_port_is_named_with_the_way_out():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "PORT": str(port), "VENV": str(Path(sys.executable).parent.parent)}
        # Its own session, so that whatever a broken check started can be stopped with it.
        process = subprocess.Popen(
            ["scripts/run-all.sh"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
    assert process.returncode == 1
    assert f"Port {port} is in use; run `make run PORT={port + 1}`" in stderr
    assert "SOPGate is running" not in stdout


def test_make_run_hands_port_to_the_script():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=8123", "VENV=.venv-dry-run"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "PORT=8123 scripts/run-all.sh" in dry_run
