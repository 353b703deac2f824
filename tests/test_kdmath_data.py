"""kdmath.data: the IDX reader, checksum verification, atomic downloads, and the shared MNIST copy."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import pytest
import torch

from kdmath import data

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def _idx_bytes(array: torch.Tensor) -> bytes:
    header = bytes([0, 0, 0x08, array.dim()]) + struct.pack(f">{array.dim()}I", *array.shape)
    return header + bytes(array.flatten().tolist())


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, compress):
    array = torch.randint(0, 256, (3, 4, 5), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    raw = _idx_bytes(array)
    path = tmp_path / ("x.idx.gz" if compress else "x.idx")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    assert torch.equal(data.read_idx(path), array)


@pytest.mark.parametrize(
    "payload, match",
    [
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "magic"),
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 1) + b"\x00", "not supported"),
        (b"\x00\x00\x08\x02" + struct.pack(">I", 2), "truncated"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 5) + b"\x00\x01", "announces 5"),
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path, payload, match):
    path = tmp_path / "bad.idx"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=match):
        data.read_idx(path)


def test_read_idx_errors_name_the_argument(tmp_path):
    with pytest.raises(TypeError, match="path"):
        data.read_idx(3)
    with pytest.raises(FileNotFoundError, match="path"):
        data.read_idx(tmp_path / "missing")


def test_mnist_dir_order(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "from-env"))
    assert data.mnist_dir(tmp_path / "arg") == tmp_path / "arg"
    assert data.mnist_dir() == tmp_path / "from-env"
    monkeypatch.delenv(data.ENV_VAR)
    if SHARED.is_dir():
        assert data.mnist_dir() == SHARED
    with pytest.raises(TypeError, match="data_dir"):
        data.mnist_dir(42)


def test_load_mnist_reports_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_dir"):
        data.load_mnist(tmp_path)
    with pytest.raises(TypeError, match="download"):
        data.load_mnist(tmp_path, download="yes")


def _fake_mirror(tmp_path, monkeypatch, corrupt=None):
    """A local 'mirror' of tiny files, with MNIST_FILES patched to their checksums."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    files = {}
    for i, name in enumerate(data.MNIST_FILES):
        raw = _idx_bytes(torch.full((2, 3), i, dtype=torch.uint8))
        files[name] = (len(raw), hashlib.sha256(raw).hexdigest())
        (mirror / f"{name}.gz").write_bytes(gzip.compress(raw if name != corrupt else raw[:-1] + b"\xff"))
    monkeypatch.setattr(data, "MNIST_FILES", files)
    return mirror.as_uri() + "/"


def test_download_writes_verified_files(tmp_path, monkeypatch):
    mirror = _fake_mirror(tmp_path, monkeypatch)
    target = tmp_path / "data"
    data.download_mnist(target, mirrors=("file:///nonexistent/", mirror))
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{n}.gz" for n in data.MNIST_FILES)
    loaded = data.load_mnist(target)
    assert loaded.train_images.shape == (2, 3) and loaded.test_labels.dtype == torch.int64


def test_load_with_download_uses_the_mirrors_named_in_the_environment(tmp_path, monkeypatch):
    mirror = _fake_mirror(tmp_path, monkeypatch)
    monkeypatch.setenv(data.MIRRORS_ENV_VAR, f"file:///nonexistent/, {mirror}")
    assert data.default_mirrors() == ("file:///nonexistent/", mirror)
    loaded = data.load_mnist(tmp_path / "data", download=True)
    assert loaded.test_images.shape == (2, 3)
    monkeypatch.setenv(data.MIRRORS_ENV_VAR, "  ")
    assert data.default_mirrors() == data.MIRRORS


def test_download_of_a_corrupted_file_leaves_nothing_behind(tmp_path, monkeypatch):
    corrupt = "t10k-images-idx3-ubyte"
    mirror = _fake_mirror(tmp_path, monkeypatch, corrupt=corrupt)
    target = tmp_path / "data"
    with pytest.raises(RuntimeError, match=corrupt):
        data.download_mnist(target, mirrors=(mirror,))
    names = sorted(p.name for p in target.iterdir())
    assert f"{corrupt}.gz" not in names and not any(n.endswith(".part") for n in names)


def test_verify_file_rejects_a_wrong_checksum(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(b"\x00" * 60_008)
    with pytest.raises(ValueError, match="checksum mismatch"):
        data.verify_file(path)
    with pytest.raises(ValueError, match="name"):
        data.verify_file(path, "mnist.zip")


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared MNIST copy is not beside the repository")
def test_shared_mnist_copy():
    mnist = data.load_mnist(SHARED)
    assert mnist.train_images.shape == (60_000, 28, 28) and mnist.test_images.shape == (10_000, 28, 28)
    assert mnist.train_images.dtype == torch.uint8
    # the label counts stated in the data's README
    assert torch.bincount(mnist.train_labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert torch.bincount(mnist.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
