"""Env files hold secrets (``var/platform.env`` the signing keys): their owner
alone may read them, however permissive the umask of the process that wrote
them, and a file written world-readable before is narrowed."""

import os
import stat
import subprocess
import sys

from shared_events.configuration import REPO_DIR, write_env_value
from stack.environment import GENERATED_SECRETS

ENSURE_SECRETS = "from stack import environment; environment.ensure_local_secrets()"


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def ensure_local_secrets(var_dir) -> None:
    """``ensure_local_secrets`` in a process of its own, under umask 022."""
    env = {k: v for k, v in os.environ.items() if k not in GENERATED_SECRETS}
    env["PLATFORM_VAR_DIR"] = str(var_dir)
    env["PLATFORM_DOTENV"] = str(var_dir / "no-such.env")
    subprocess.run(
        [sys.executable, "-c", ENSURE_SECRETS],
        cwd=REPO_DIR,
        env=env,
        check=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )


def test_generated_secrets_are_written_for_their_owner_only(tmp_path):
    ensure_local_secrets(tmp_path)

    written = tmp_path / "platform.env"
    assert mode(written) == 0o600
    keys = {line.split("=", 1)[0] for line in written.read_text().splitlines()}
    assert {"DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"} <= keys


def test_a_world_readable_platform_env_is_narrowed(tmp_path):
    ensure_local_secrets(tmp_path)
    written = tmp_path / "platform.env"
    written.chmod(0o644)
    before = written.read_text()

    ensure_local_secrets(tmp_path)  # nothing left to generate

    assert mode(written) == 0o600
    assert written.read_text() == before


def test_writing_a_value_narrows_an_existing_env_file(tmp_path):
    path = tmp_path / "learner.env"
    path.write_text("ARCHITECTURE_APPROACH=shared_db\n")
    path.chmod(0o644)

    write_env_value(path, "CUSTOMER_DATABASE_URL", "postgres://app:secret@db/customer")

    assert mode(path) == 0o600
    assert path.read_text().splitlines() == [
        "ARCHITECTURE_APPROACH=shared_db",
        "CUSTOMER_DATABASE_URL=postgres://app:secret@db/customer",
    ]
