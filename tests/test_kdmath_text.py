"""kdmath.text: where Tiny Shakespeare is found, checksums, atomic downloads, the fixed split, the tokens."""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path

import pytest
import torch

from kdmath import bpe, text

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare"
needs_shared = pytest.mark.skipif(
    not (SHARED / "input.txt").is_file(), reason="no Tiny Shakespeare beside the repository"
)


@pytest.fixture
def source(tmp_path, monkeypatch):
    """The bytes a mirror serves: the real file where there is a local copy, else a small stand-in
    with the recorded size and checksum patched to its own."""
    if (SHARED / "input.txt").is_file():
        return (SHARED / "input.txt").read_bytes()
    fake = b"First Citizen:\nSpeak, speak.\n" * 100
    monkeypatch.setattr(text, "SHAKESPEARE_BYTES", len(fake))
    monkeypatch.setattr(text, "SHAKESPEARE_SHA256", hashlib.sha256(fake).hexdigest())
    return fake


def _mirror(tmp_path, content: bytes, name: str = "mirror") -> str:
    directory = tmp_path / name
    directory.mkdir()
    (directory / "input.txt").write_bytes(content)
    return directory.as_uri() + "/"


def test_shakespeare_dir_order(tmp_path, monkeypatch):
    monkeypatch.setenv(text.ENV_VAR, str(tmp_path / "from-env"))
    assert text.shakespeare_dir(tmp_path / "arg") == tmp_path / "arg"
    assert text.shakespeare_dir(str(tmp_path / "arg")) == tmp_path / "arg"
    assert text.shakespeare_dir() == tmp_path / "from-env"
    monkeypatch.delenv(text.ENV_VAR)
    if SHARED.is_dir():
        assert text.shakespeare_dir() == SHARED
    else:
        assert text.shakespeare_dir() == Path.home() / ".cache" / "kdbook" / "tinyshakespeare"
    with pytest.raises(TypeError, match="data_dir"):
        text.shakespeare_dir(42)


def test_download_from_a_file_mirror_after_a_missing_one(tmp_path, source):
    mirror = _mirror(tmp_path, source)
    target = tmp_path / "data"
    assert text.download_shakespeare(target, mirrors=("file:///nonexistent/", mirror)) == target
    assert [p.name for p in target.iterdir()] == ["input.txt"]
    assert (target / "input.txt").read_bytes() == source
    assert text.load_shakespeare(target) == source.decode("utf-8")
    # a second call finds the verified file and fetches nothing (the only mirror is gone)
    text.download_shakespeare(target, mirrors=("file:///nonexistent/",))


def test_a_corrupted_download_is_refused_and_leaves_nothing(tmp_path, source):
    flipped = bytearray(source)
    flipped[len(flipped) // 2] ^= 1
    corrupted, truncated = _mirror(tmp_path, bytes(flipped), "bad"), _mirror(tmp_path, source[:-1], "short")
    target = tmp_path / "data"
    mirrors = (corrupted, truncated, "file:///nonexistent/")
    with pytest.raises(RuntimeError) as raised:
        text.download_shakespeare(target, mirrors=mirrors)
    message = str(raised.value)
    assert all(mirror + "input.txt" in message for mirror in mirrors) and "checksum mismatch" in message
    assert list(target.iterdir()) == []  # no input.txt, no .part file


def test_load_with_download_uses_the_mirrors_named_in_the_environment(tmp_path, monkeypatch, source):
    mirror = _mirror(tmp_path, source)
    monkeypatch.setenv(text.MIRRORS_ENV_VAR, f"file:///nonexistent/, {mirror}")
    assert text.default_mirrors() == ("file:///nonexistent/", mirror)
    assert text.load_shakespeare(tmp_path / "data", download=True) == source.decode("utf-8")
    monkeypatch.setenv(text.MIRRORS_ENV_VAR, "  ")
    assert text.default_mirrors() == text.MIRRORS


def test_missing_file_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_dir"):
        text.load_shakespeare(tmp_path)
    with pytest.raises(FileNotFoundError, match="download=True"):
        text.load_shakespeare_tokens(tmp_path)
    with pytest.raises(TypeError, match="download"):
        text.load_shakespeare(tmp_path, download="yes")
    with pytest.raises(ValueError, match="mirrors"):
        text.download_shakespeare(tmp_path, mirrors="file:///x/")
    with pytest.raises(ValueError, match="mirrors"):
        text.download_shakespeare(tmp_path, mirrors=())
    with pytest.raises(ValueError, match="timeout"):
        text.download_shakespeare(tmp_path, mirrors=("file:///x/",), timeout=0)


def test_a_wrong_file_is_refused(tmp_path):
    path = tmp_path / "input.txt"
    path.write_bytes(b"x" * text.SHAKESPEARE_BYTES)  # the right size, the wrong content
    with pytest.raises(ValueError, match="checksum mismatch"):
        text.load_shakespeare(tmp_path)
    with pytest.raises(ValueError, match="checksum mismatch"):
        text.download_shakespeare(tmp_path, mirrors=("file:///nonexistent/",))  # kept files are verified too


@pytest.mark.parametrize(
    "sample, fraction, expected",
    [
        ("a\nb\nc\nd\n", 0.5, ("a\nb\nc\n", "d\n")),  # start 4 is "c": cut after the newline at 5
        ("a\nb\nc\nd\n", 0.625, ("a\nb\n", "c\nd\n")),  # start 0.375 * 8 = 3 is a newline: kept in train
        ("ab\ncd\nef", 0.5, ("ab\ncd\n", "ef")),  # the last line needs no newline
    ],
)
def test_split_text_examples(sample, fraction, expected):
    assert text.split_text(sample, fraction) == expected


def test_split_text_errors():
    with pytest.raises(ValueError, match="no line"):
        text.split_text("no newline at all", 0.1)
    with pytest.raises(ValueError, match="no line"):
        text.split_text("ends\n", 0.5)
    for fraction in (0.0, 1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="validation_fraction"):
            text.split_text("a\nb\n", fraction)
    with pytest.raises(TypeError, match="validation_fraction"):
        text.split_text("a\nb\n", "0.1")
    with pytest.raises(TypeError, match="text"):
        text.split_text(b"a\nb\n")


@needs_shared
def test_the_shared_copy_and_its_split():
    corpus = text.load_shakespeare(SHARED)
    assert len(corpus) == text.SHAKESPEARE_BYTES and corpus.startswith("First Citizen:\n")
    assert hashlib.sha256(corpus.encode()).hexdigest() == text.SHAKESPEARE_SHA256
    train, validation = text.split_text(corpus)
    start = math.floor(0.9 * len(corpus))
    assert train + validation == corpus and train.endswith("\n")
    # the cut is the first newline at or after 90%
    assert start <= len(train) - 1 and "\n" not in corpus[start : len(train) - 1]
    assert (len(train), len(validation)) == (1_003_856, 111_538)


@needs_shared
def test_tokens_of_the_shared_copy():
    started = time.perf_counter()
    split = text.load_shakespeare_tokens(SHARED)
    first = time.perf_counter() - started
    assert split.tokenizer is bpe.shakespeare_tokenizer() and split.tokenizer.vocab_size == 2048
    assert split.train.dtype == torch.int64 and split.train.dim() == 1 and split.validation.dim() == 1
    train, validation = text.split_text(text.load_shakespeare(SHARED))
    assert split.tokenizer.decode(split.train) == train
    assert split.tokenizer.decode(split.validation) == validation
    assert (split.train.numel(), split.validation.numel()) == (350_455, 43_921)  # measured when committed
    assert int(split.train.max()) < 2048 and int(split.train.min()) >= 0

    split.train[:10] = 0  # the cache hands out copies
    started = time.perf_counter()
    again = text.load_shakespeare_tokens(str(SHARED) + "/")  # the same resolved path: cached
    second = time.perf_counter() - started
    assert torch.equal(again.validation, split.validation)
    assert split.tokenizer.decode(again.train) == train
    assert second < max(0.05, first / 5)
