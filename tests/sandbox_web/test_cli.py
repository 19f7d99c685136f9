"""``rpbot sandbox`` as a person runs it: a taken port, and Ctrl-C stopping everything."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from rpbot.cli import app
from rpbot.sandbox.web import SeedSnapshot
from rpbot.sandbox.web.snapshot import copy_database


def test_a_taken_port_is_one_clear_line_and_exit_code_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            app, ["sandbox", "--port", str(port), "--db", str(tmp_path / "s.db")]
        )
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert f"Port {port} on 127.0.0.1 is already in use" in lines[0]
    assert not (tmp_path / "s.db").exists()  # nothing was started


def test_the_sandbox_runs_and_ctrl_c_stops_it_cleanly(
    tmp_path: Path, demo_database: SeedSnapshot | None
) -> None:
    code = "import sys; from rpbot.cli import app; sys.argv[0] = 'rpbot'; app()"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    database = tmp_path / "s.db"
    options = ["--port", "0", "--db", str(database)]
    if demo_database is not None:  # seeding takes a while: start from the seeded copy
        copy_database(demo_database.path, database)
        options.append("--keep")
    process = subprocess.Popen(
        [sys.executable, "-c", code, "sandbox", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("rpbot sandbox: open http://127.0.0.1:"), first
        url = first.split("open ", 1)[1].split()[0]
        for line in process.stdout:  # wait until it says it is ready (or ends)
            if "ready:" in line:
                break
        with urllib.request.urlopen(url + "/api/personas", timeout=10) as response:
            personas = json.load(response)["result"]
        assert [p["key"] for p in personas] == ["parent", "child", "practitioner"]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert process.stderr is not None
        errors = process.stderr.read()
        assert "Traceback" not in errors, errors
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
