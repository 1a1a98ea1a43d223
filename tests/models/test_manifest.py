"""Content manifests of built folders: fingerprint and verification, on a tiny folder."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from xret.models.manifest import MANIFEST_NAME, FolderMismatch, verify_manifest, write_manifest

RECIPE = "tiny/1"


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "model"
    (root / "sub").mkdir(parents=True)
    (root / "weights.bin").write_bytes(bytes(range(256)) * 4)
    (root / "sub" / "config.json").write_text('{"a": 1}\n')
    return root


def test_fingerprint_is_the_sha256_of_the_sorted_hash_lines(folder):
    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    config_sha, weights_sha = sha(b'{"a": 1}\n'), sha(bytes(range(256)) * 4)
    lines = f"{config_sha}  sub/config.json\n{weights_sha}  weights.bin\n"
    assert write_manifest(folder, RECIPE) == sha(lines.encode())
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert manifest["files"]["weights.bin"]["size"] == 1024
    assert manifest["recipe"] == RECIPE


def test_verified_folder_gives_its_fingerprint_wherever_it_lies(folder, tmp_path):
    fingerprint = write_manifest(folder, RECIPE)
    assert verify_manifest(folder, RECIPE) == fingerprint
    moved = shutil.copytree(folder, tmp_path / "elsewhere")
    assert verify_manifest(moved, RECIPE) == fingerprint


def _flip_a_byte(folder):
    data = bytearray((folder / "weights.bin").read_bytes())
    data[500] ^= 0x01
    (folder / "weights.bin").write_bytes(bytes(data))


def _edit_manifest(folder):
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    manifest["files"]["weights.bin"]["sha256"] = "0" * 64
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))


DAMAGE = {
    "flipped byte": (_flip_a_byte, "weights.bin: sha256 differs"),
    "truncated file": (
        lambda f: (f / "weights.bin").write_bytes(b"\0" * 1000),
        "weights.bin: size differs",
    ),
    "deleted file": (
        lambda f: (f / "sub" / "config.json").unlink(),
        r"missing files \['sub/config.json'\]",
    ),
    "extra file": (
        lambda f: (f / "sub" / "stray.txt").write_text("x"),
        r"unexpected files \['sub/stray.txt'\]",
    ),
    "no manifest": (lambda f: (f / MANIFEST_NAME).unlink(), "no readable"),
    "broken manifest": (lambda f: (f / MANIFEST_NAME).write_text('{"files": '), "no readable"),
    "edited manifest": (_edit_manifest, "does not match its own fingerprint"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damage_is_detected(folder, damage):
    write_manifest(folder, RECIPE)
    do, message = DAMAGE[damage]
    do(folder)
    with pytest.raises(FolderMismatch, match=message):
        verify_manifest(folder, RECIPE)


def test_folder_of_another_recipe_is_refused(folder):
    write_manifest(folder, RECIPE)
    with pytest.raises(FolderMismatch, match="recipe 'tiny/1', expected 'tiny/2'"):
        verify_manifest(folder, "tiny/2")


def test_absent_folder_is_a_mismatch(tmp_path):
    with pytest.raises(FolderMismatch, match="no readable"):
        verify_manifest(tmp_path / "absent", RECIPE)
