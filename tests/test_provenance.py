"""Provenance reads the checkout's commit without writing to the user's git repository."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from xret.provenance import git_commit

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_the_commit_is_read_without_touching_the_index(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "f.txt").write_text("x\n")
    _git(tmp_path, "add", "f.txt")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    # Same content, new stat: a plain `git status` would rewrite the index to refresh it (taking
    # index.lock, which a timeout or a kill leaves behind).
    os.utime(tmp_path / "f.txt", (1_000_000_000, 1_000_000_000))
    index = tmp_path / ".git" / "index"
    before = index.read_bytes(), index.stat().st_mtime_ns

    commit = git_commit(tmp_path)

    assert commit is not None and len(commit) == 40  # clean: same content, no "+dirty"
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before
    assert not (tmp_path / ".git" / "index.lock").exists()
