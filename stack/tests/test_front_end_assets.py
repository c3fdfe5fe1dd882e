"""The vendored browser libraries: fetched by npm from the lock, copied once.

Each test vendors into a folder of its own (``VENDOR_DIR`` and its stamp
pointed at ``tmp_path``), so the real ``service_kit/static/vendor/`` that
running services read is left alone; ``npm ci`` itself runs for real.
"""

from __future__ import annotations

import hashlib

import pytest

from stack import front_end_assets
from stack.front_end_assets import (
    VENDORED_FILES,
    FrontEndAssetsUnavailable,
    ensure_front_end_assets,
    locked_versions,
)


@pytest.fixture
def vendor_dir(tmp_path, monkeypatch):
    folder = tmp_path / "vendor"
    monkeypatch.setattr(front_end_assets, "VENDOR_DIR", folder)
    monkeypatch.setattr(front_end_assets, "STAMP", folder / ".package-lock.sha256")
    return folder


def lock_hash() -> str:
    return hashlib.sha256(front_end_assets.LOCK_FILE.read_bytes()).hexdigest()


def modification_times(folder) -> dict[str, int]:
    return {
        file.name: (folder / file.name).stat().st_mtime_ns for file in VENDORED_FILES
    }


def test_ensure_vendors_the_locked_versions_and_then_does_nothing(vendor_dir):
    assert ensure_front_end_assets() is True

    for file in VENDORED_FILES:
        assert (vendor_dir / file.name).stat().st_size > 0, file.name
    versions = locked_versions()
    htmx = (vendor_dir / "htmx.min.js").read_text()
    chart = (vendor_dir / "chart.umd.min.js").read_text()
    assert f'version:"{versions["htmx.org"]}"' in htmx
    assert f"Chart.js v{versions['chart.js']}\n" in chart[:200]
    assert (vendor_dir / ".package-lock.sha256").read_text().strip() == lock_hash()

    modified = modification_times(vendor_dir)
    assert ensure_front_end_assets() is False
    assert modification_times(vendor_dir) == modified


def test_a_changed_lock_or_a_missing_file_vendors_again(vendor_dir):
    ensure_front_end_assets()
    stamp = vendor_dir / ".package-lock.sha256"

    stamp.write_text("the hash of an older lock\n")
    assert ensure_front_end_assets() is True
    assert stamp.read_text().strip() == lock_hash()

    (vendor_dir / "htmx.min.js").unlink()
    assert ensure_front_end_assets() is True
    assert (vendor_dir / "htmx.min.js").exists()


def test_without_npm_the_error_says_what_to_install(vendor_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder with no npm in it

    with pytest.raises(FrontEndAssetsUnavailable, match="npm is not on PATH") as error:
        ensure_front_end_assets()
    assert "Node.js" in str(error.value)
    assert not vendor_dir.exists()


def test_the_folder_the_services_serve_holds_the_locked_versions():
    """The real ``service_kit/static/vendor/``, as ``make`` leaves it."""
    ensure_front_end_assets()

    folder = front_end_assets.VENDOR_DIR
    assert (folder / ".package-lock.sha256").read_text().strip() == lock_hash()
    htmx = (folder / "htmx.min.js").read_text()
    assert f'version:"{locked_versions()["htmx.org"]}"' in htmx
