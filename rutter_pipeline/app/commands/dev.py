"""`rutter-pipeline dev`: the Dagster UI and daemon on the prepared runtime, optionally receiving webhooks."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import IO

from rutter_pipeline.app.commands.common import EXIT_OK, SANDBOX_HELP, port, prepare_dbt
from rutter_pipeline.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add `dev` and its arguments to the command line."""
    parser = commands.add_parser("dev", help="start the Dagster UI and daemon")
    parser.add_argument("--port", type=port, default=3000, help="UI port (default 3000)")
    parser.add_argument("--sandbox", action="store_true", help=SANDBOX_HELP)
    parser.add_argument("--webhooks-port", type=port, help="also receive Rutter webhooks on this port; they start runs")
    parser.add_argument(
        "--webhooks-host", default="127.0.0.1", help="interface the receiver listens on (default 127.0.0.1)"
    )
    parser.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run `dagster dev` until Ctrl-C or SIGTERM, then stop every process it started."""
    from rutter_pipeline.app.commands.db import connect_lines
    from rutter_pipeline.app.commands.webhooks import receiving
    from rutter_pipeline.app.runtime import prepared
    from rutter_pipeline.sandbox.sandbox import DEFAULT_CLIENT_SECRET

    webhooks_host, webhooks_port = args.webhooks_host, args.webhooks_port
    # The built-in sandbox posts its webhooks to the receiver; its secret is accepted only when it is in use.
    sandbox_webhooks = f"http://127.0.0.1:{webhooks_port}/" if webhooks_port else None
    with prepared(settings, webhook_url=sandbox_webhooks) as runtime, ExitStack() as receiver:
        prepare_dbt(runtime.settings)
        if runtime.sandbox_url:
            print(f"The built-in sandbox serves {runtime.sandbox_url}", flush=True)
        if not settings.warehouse_url:
            from rutter_pipeline.warehouse.embedded import EmbeddedPostgres

            # The same server the runtime holds (one handle per process): not stopped here.
            print(
                connect_lines(EmbeddedPostgres(settings.data_dir)) + "\n  (or run `rutter-pipeline db` in another "
                "terminal)",
                flush=True,
            )
        if webhooks_port:
            secret = DEFAULT_CLIENT_SECRET if runtime.sandbox_url else runtime.settings.client_secret
            assert secret is not None  # the settings hold both credentials, or the sandbox's
            url = receiver.enter_context(receiving(runtime.settings, webhooks_host, webhooks_port, secret))
            print(f"Receiving Rutter webhooks at {url}", flush=True)
        workspace = (
            ["-w", "workspace.yaml"] if Path("workspace.yaml").exists() else ["-m", "rutter_pipeline.definitions"]
        )
        # Dagster's own processes log warnings only; runs keep every event in the UI (see defs' console logger).
        command = [
            sys.executable,
            "-W",
            "ignore",
            "-m",
            "dagster",
            "dev",
            *workspace,
            "--port",
            str(args.port),
            "--log-level",
            "warning",
        ]
        print(f"Dagster UI: http://127.0.0.1:{args.port} (Ctrl-C stops it)", flush=True)
        # Its own session: a Ctrl-C reaches this process only, which then stops Dagster's processes in order.
        ui = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert ui.stdout is not None  # stdout=PIPE
        output = _Forward(ui.stdout)
        # From here Ctrl-C and SIGTERM are waited for, not raised, so they cannot interrupt the cleanup.
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT, signal.SIGTERM])
        asked_to_stop = False
        try:
            while ui.poll() is None and not asked_to_stop:
                asked_to_stop = signal.sigtimedwait([signal.SIGINT, signal.SIGTERM], 1) is not None
        finally:
            # Runs interrupted by the stop report it with a stack trace: the UI keeps it, the terminal need not.
            output.silence()
            _stop_dagster(ui)
            if not settings.warehouse_url:
                _forget_dead_handles(settings.data_dir)
        print("Stopped.", flush=True)
        return EXIT_OK if asked_to_stop else ui.returncode


class _Forward:
    """Copies a child's output to ours line by line, until silenced (then it only drains the pipe)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._silenced = threading.Event()
        threading.Thread(target=self._copy, daemon=True).start()

    def _copy(self) -> None:
        for line in iter(self._stream.readline, b""):
            if not self._silenced.is_set():
                sys.stdout.buffer.write(line)
                sys.stdout.flush()

    def silence(self) -> None:
        """Stop copying; keep reading so no writer blocks on a full pipe."""
        self._silenced.set()


def _stop_dagster(ui: subprocess.Popen[bytes], *, grace_seconds: float = 5) -> None:
    """Stop `dagster dev` and every process it started (webserver, daemon, code servers, runs).

    `dagster dev` is asked first (SIGINT, its own way to stop); whatever is left of its process group after
    `grace_seconds` (a run in flight, a hung daemon thread) is killed, so the command ends within seconds.
    """
    if ui.poll() is None:
        ui.send_signal(signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            ui.wait(timeout=grace_seconds)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(ui.pid, sig)
        except ProcessLookupError:
            break
        time.sleep(1)
    ui.wait()


def _forget_dead_handles(data_dir: Path) -> None:
    """Drop the pids of killed processes from the embedded server's list of users.

    The server stops when its last user releases it; a process killed outright (a code server, a run) never
    releases it, and would keep it running for good after `dev` ends.
    """
    handles = data_dir.resolve() / "pgdata" / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text() or "[]")
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if _alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a killed process not reaped yet is a zombie: it holds nothing
