"""What a result records about where and how it was produced."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import xret

_LIBRARIES = (
    "torch",
    "sentence-transformers",
    "transformers",
    "faiss-cpu",
    "pytrec-eval-terrier",
    "numpy",
)


def git_commit(root: Path | None = None) -> str | None:
    """The commit of the xret checkout in use (None when installed from a wheel)."""
    root = root or Path(xret.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    # --no-optional-locks: status must not refresh the user's index, whose lock a timeout (or a
    # killed run) would otherwise leave behind, failing their next git command.
    git = ["git", "--no-optional-locks", "-C", str(root)]
    try:
        out = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip() or None
    return f"{commit}+dirty" if commit and dirty.stdout.strip() else commit


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict:
    return {
        "xret_version": xret.__version__,
        "git_commit": git_commit(),
        "created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "libraries": {dist: _version(dist) for dist in _LIBRARIES},
    }
