"""Where Chromium comes from, and what the error says where it cannot."""

from __future__ import annotations

import threading

import pytest

from stack import chromium
from stack.chromium import (
    CHROMIUM_DEBIAN_VERSION,
    ChromiumUnavailable,
    chromium_version,
    ensure_chromium,
)
from stack.file_lock import exclusive_lock


def test_a_named_chromium_that_is_not_there_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "no-such-chromium"))

    with pytest.raises(ChromiumUnavailable, match="CHROMIUM_PATH=.*not an executable"):
        ensure_chromium()


def test_without_root_the_error_names_the_command_to_run(monkeypatch, tmp_path):
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setattr(chromium, "DEFAULT_PATH", tmp_path / "chromium")
    monkeypatch.setattr(chromium.os, "geteuid", lambda: 1000)
    # An apt-get on PATH (never run): only root is missing.
    apt_get = tmp_path / "apt-get"
    apt_get.write_text("#!/bin/sh\nexit 1\n")
    apt_get.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(ChromiumUnavailable) as error:
        ensure_chromium()
    said = str(error.value)
    assert "needs root" in said
    assert f"chromium={CHROMIUM_DEBIAN_VERSION}" in said
    assert "--no-install-recommends" in said
    assert "export CHROMIUM_PATH=" in said


def test_without_apt_the_error_says_to_name_a_chromium(monkeypatch, tmp_path):
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setattr(chromium, "DEFAULT_PATH", tmp_path / "chromium")
    monkeypatch.setenv("PATH", str(tmp_path))  # no apt-get in it

    with pytest.raises(ChromiumUnavailable, match="no apt-get"):
        ensure_chromium()


def test_the_installed_chromium_is_the_pinned_version(monkeypatch):
    """Installed here if it is not yet (under the lock the browser tests'
    install takes too: on a fresh machine they run side by side), skipped
    only where it cannot be installed, as the browser tests are."""
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    try:
        path = ensure_chromium()
    except ChromiumUnavailable as error:
        pytest.skip(f"Chromium cannot be installed here: {error}")

    upstream = CHROMIUM_DEBIAN_VERSION.split("-", 1)[0]
    assert upstream in chromium_version(path)


def test_a_chromium_being_installed_is_waited_for(monkeypatch, tmp_path):
    """dpkg unpacks /usr/bin/chromium before the browser: while another
    command of this checkout installs, the path alone is not an answer."""
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setattr(chromium, "DEFAULT_PATH", tmp_path / "chromium")
    monkeypatch.setattr(chromium, "LOCK_FILE", tmp_path / "install.lock")
    chromium.DEFAULT_PATH.touch()  # unpacked, the install not yet done
    found = []

    with exclusive_lock(chromium.LOCK_FILE):  # the other command's install
        waiting = threading.Thread(target=lambda: found.append(ensure_chromium()))
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive() and found == []

    waiting.join(timeout=10)
    assert found == [chromium.DEFAULT_PATH]
