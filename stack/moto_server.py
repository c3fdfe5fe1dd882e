"""The local AWS endpoint: a ``moto`` server in its own process.

moto can also run as a thread inside the test process (``ThreadedMotoServer``), but
the platform starts the real ``moto.server`` program as a subprocess instead:

* Stopping or killing it is a real broker outage. Every client sees "connection
  refused", exactly what a producer would see if Amazon SQS were unreachable, and
  nothing in the calling process is touched. :meth:`MotoServer.kill` (SIGKILL) is the
  demo's "pull the plug".
* It can outlive the command that started it. :func:`ensure_moto_daemon` leaves one
  running for the embedded default, and later commands (the web servers, the
  workers, the relay, tests) find it through ``<state_dir>/moto.json``.

Things a learner should notice:

* "The process started" is not "the endpoint is ready". We wait until the server
  answers an HTTP request, with a deadline, and show the log tail if it never does.
* moto keeps everything in memory. A stopped server forgets every queue, topic and
  message, so whoever starts one must create the messaging topology again
  (``shared_events.transport.ensure_topology`` does, idempotently).
* This module needs neither Django nor boto3: it only starts, probes and stops a
  process, so a test or a Lambda-style script can use it on its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from stack.file_lock import exclusive_lock
from stack.loopback import HOST, free_port, port_is_free
from stack.process_state import running

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
STATE_FILE_NAME = "moto.json"
LOG_FILE_NAME = "moto.log"
LOCK_FILE_NAME = "moto.lock"

#: An endpoint of moto's own API that is cheap to answer: used as the health probe.
_PROBE_PATH = "/moto-api/config"
_RESET_PATH = "/moto-api/reset"
_LOG_TAIL_LINES = 30

#: Daemons started by this process, kept so that stopping one also reaps it (and so
#: that Python does not warn about a child it lost track of).
_daemons: dict[int, subprocess.Popen[bytes]] = {}


class MotoServerError(RuntimeError):
    """The moto server could not be started or did not answer in time."""


@dataclass
class MotoServer:
    """A running ``moto.server`` process on ``127.0.0.1:<port>``.

    ``pid`` is also its process group id (it runs in a session of its own), so a
    signal reaches anything it may have spawned as well.
    """

    port: int
    pid: int
    log_path: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _delete_log_on_exit: bool = field(default=False, repr=False)

    @property
    def endpoint_url(self) -> str:
        """What boto3 needs as ``endpoint_url`` (any region and credentials work)."""
        return f"http://{HOST}:{self.port}"

    def running(self) -> bool:
        """Is the process still alive (a zombie does not count)?"""
        if self._process is not None:
            return self._process.poll() is None
        return running(self.pid)

    def answers(self, *, timeout: float = 1.0) -> bool:
        """Does a moto server answer on our port right now?"""
        return _answers(self.port, timeout=timeout)

    def reset(self) -> None:
        """Forget every resource and message (``POST /moto-api/reset``).

        Much faster than a restart; tests call it between cases.
        """
        request = urllib.request.Request(
            self.endpoint_url + _RESET_PATH, data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self, *, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM the process group and wait; SIGKILL whatever is left."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            if not self._wait_exited(timeout):
                self.kill()
                return
        self._reap()

    def kill(self) -> None:
        """SIGKILL the process group: an abrupt outage, nothing gets to clean up."""
        # Only signal a live process: an exited one's pid may belong to someone else.
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self._wait_exited(STOP_TIMEOUT)
        self._reap()

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        return _log_tail(self.log_path, lines)

    def __enter__(self) -> MotoServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """``with start_moto_server() as server:`` stops it however the block ends."""
        self.stop()

    def _wait_exited(self, timeout: float) -> bool:
        if self._process is not None:
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout
        while running(self.pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _reap(self) -> None:
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=STOP_TIMEOUT)
        if self._delete_log_on_exit and not self.running():
            self.log_path.unlink(missing_ok=True)


def start_moto_server(
    *, port: int | None = None, log_path: Path | None = None
) -> MotoServer:
    """Start ``python -m moto.server`` on 127.0.0.1 and wait until it answers.

    With ``port=None`` a free loopback port is chosen (and another one if some other
    program takes it before moto binds it). The server runs in its own process group
    with its output in ``log_path``; by default in a temporary file that stopping
    the server deletes (kept if the server fails to start). It is not tied to this
    process: call :meth:`MotoServer.stop` when you are done.
    """
    attempts = 3 if port is None else 1
    for attempt in range(1, attempts + 1):
        chosen = port if port is not None else free_port()
        server = _spawn(chosen, log_path or _temporary_log(chosen))
        server._delete_log_on_exit = log_path is None
        try:
            _wait_ready(server, timeout=START_TIMEOUT)
        except MotoServerError:
            lost_race = "Address already in use" in server.log_tail()
            server._delete_log_on_exit = False  # the error message points to it
            server.kill()
            if lost_race and attempt < attempts:
                continue
            raise
        return server
    raise AssertionError("unreachable")  # pragma: no cover


def ensure_moto_daemon(*, state_dir: Path) -> str:
    """Return the endpoint URL of the platform's moto daemon, starting it if needed.

    The daemon's pid and port are recorded in ``<state_dir>/moto.json`` and its log
    is ``<state_dir>/moto.log``. A recorded server is reused only if that pid is still
    a live ``moto.server`` process *and* it answers on that port (one that is alive
    but does not answer is killed). Otherwise a new one is started, on the remembered
    port when it is free, so URLs written into environment files keep working.
    Concurrent callers are serialised by a lock file and get the same server.
    """
    state_dir = Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(state_dir / LOCK_FILE_NAME):
        recorded = _read_state(state_dir)
        if recorded is not None:
            pid, port = recorded
            recorded_server = MotoServer(port, pid, state_dir / LOG_FILE_NAME)
            if _is_moto_process(pid):
                if _answers(port, timeout=2.0):
                    return recorded_server.endpoint_url
                # Alive but mute (hung, or still starting after a crash?): replace it.
                recorded_server.kill()
        preferred = None
        if recorded is not None and port_is_free(recorded[1]):
            preferred = recorded[1]
        server = start_moto_server(port=preferred, log_path=state_dir / LOG_FILE_NAME)
        if server._process is not None:
            _daemons[server.pid] = server._process
        _write_state(state_dir, pid=server.pid, port=server.port)
        return server.endpoint_url


def daemon_pid(*, state_dir: Path) -> int | None:
    """The pid of the daemon recorded in ``state_dir`` if it is running, else None."""
    recorded = _read_state(Path(state_dir).resolve())
    if recorded is None or not _is_moto_process(recorded[0]):
        return None
    return recorded[0]


def stop_moto_daemon(*, state_dir: Path) -> bool:
    """Stop the daemon recorded in ``state_dir``. True if one was running.

    ``moto.json`` is kept (with the port) so the next start can reuse the port.
    Remember that a stopped moto forgets everything it held.
    """
    state_dir = Path(state_dir).resolve()
    if not (state_dir / STATE_FILE_NAME).exists():
        return False
    with exclusive_lock(state_dir / LOCK_FILE_NAME):
        recorded = _read_state(state_dir)
        if recorded is None:
            return False
        pid, port = recorded
        if not _is_moto_process(pid):
            return False
        process = _daemons.pop(pid, None)
        MotoServer(port, pid, state_dir / LOG_FILE_NAME, _process=process).stop()
        return True


# --- process plumbing -----------------------------------------------------------


def _spawn(port: int, log_path: Path) -> MotoServer:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # A session of its own: a new process group (so killpg reaches all of
            # it) and no controlling terminal (Ctrl-C in the caller does not hit it).
            start_new_session=True,
            close_fds=True,
        )
    return MotoServer(port=port, pid=process.pid, log_path=log_path, _process=process)


def _temporary_log(port: int) -> Path:
    descriptor, name = tempfile.mkstemp(prefix=f"moto-server-{port}-", suffix=".log")
    os.close(descriptor)
    return Path(name)


def _wait_ready(server: MotoServer, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not server.answers(timeout=0.5):
        if not server.running():
            raise MotoServerError(
                f"moto server on port {server.port} exited while starting; "
                f"log {server.log_path}:\n{server.log_tail()}"
            )
        if time.monotonic() > deadline:
            raise MotoServerError(
                f"moto server on port {server.port} did not answer within "
                f"{timeout:.0f}s; log {server.log_path}:\n{server.log_tail()}"
            )
        time.sleep(0.05)


def _answers(port: int, *, timeout: float) -> bool:
    """True when moto's own API answers on the port (not just any open socket)."""
    url = f"http://{HOST}:{port}{_PROBE_PATH}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return isinstance(json.loads(response.read()), dict)
    except (OSError, ValueError):  # URLError, timeouts, resets and bad JSON
        return False


def _is_moto_process(pid: int) -> bool:
    """Is ``pid`` a live ``moto.server``? A recycled pid belongs to someone else."""
    if not running(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"moto.server" in argv


def _log_tail(log_path: Path, lines: int) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


# --- state file -----------------------------------------------------------------


def _read_state(state_dir: Path) -> tuple[int, int] | None:
    """(pid, port) from ``moto.json``, or None when missing or unreadable."""
    try:
        state = json.loads((state_dir / STATE_FILE_NAME).read_text())
        return int(state["pid"]), int(state["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_state(state_dir: Path, *, pid: int, port: int) -> None:
    # Write then rename, so a reader never sees half a file.
    target = state_dir / STATE_FILE_NAME
    partial = target.with_suffix(".json.partial")
    partial.write_text(json.dumps({"pid": pid, "port": port}) + "\n")
    partial.replace(target)
