r"""Tiny Shakespeare: one checksum-verified text file, its fixed split, and its tokens.

The corpus is ``input.txt`` of Karpathy's char-rnn (1 115 394 bytes of ASCII, plays in the public
domain), read the way :mod:`kdmath.data` reads MNIST. The file is verified against its size and
SHA-256 (:data:`SHAKESPEARE_SHA256`) before it is used, so a truncated or altered copy is refused.

Where it is looked for, in order: the ``data_dir`` argument; the environment variable
``KDBOOK_SHAKESPEARE_DIR``; ``../shared/data/tinyshakespeare`` beside the repository (the
development machines' copy); ``~/.cache/kdbook/tinyshakespeare``. With ``download=True`` (a machine
with internet, e.g. Colab) a missing file is fetched into that directory from the first mirror that
serves a valid copy, written to a temporary file, verified, then renamed (an atomic step), so an
interrupted or corrupted download never leaves a file behind. The mirrors are :data:`MIRRORS` unless
``KDBOOK_SHAKESPEARE_MIRRORS`` lists others (base URLs separated by spaces or commas; ``file://``
works too).

**The split** (:func:`split_text`) is fixed, not random: with :math:`n` characters and validation
fraction :math:`f`, let :math:`c = \lfloor (1 - f)\, n \rfloor`; the training text is everything up
to and including the first newline at or after position :math:`c`, the validation text the rest.
No line is split, and the validation plays follow the training ones in the file's order.

**The tokens** (:func:`load_shakespeare_tokens`) are those of the committed byte-level BPE
(:func:`kdmath.bpe.shakespeare_tokenizer`, 2048 tokens, learnt on the training split only), each
split encoded on its own.
"""

from __future__ import annotations

import functools
import hashlib
import math
import numbers
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch

from .bpe import BPETokenizer, shakespeare_tokenizer
from .data import data_directory, mirrors_from_env

__all__ = [
    "SHAKESPEARE_FILE",
    "SHAKESPEARE_SHA256",
    "SHAKESPEARE_BYTES",
    "MIRRORS",
    "TokenSplit",
    "shakespeare_dir",
    "default_mirrors",
    "verify_shakespeare",
    "download_shakespeare",
    "load_shakespeare",
    "split_text",
    "load_shakespeare_tokens",
]

ENV_VAR = "KDBOOK_SHAKESPEARE_DIR"
MIRRORS_ENV_VAR = "KDBOOK_SHAKESPEARE_MIRRORS"

SHAKESPEARE_FILE = "input.txt"
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
SHAKESPEARE_BYTES = 1_115_394

MIRRORS = ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/",)


@dataclass(frozen=True)
class TokenSplit:
    """The token ids of the two splits (``(N,)`` and ``(M,)`` int64) and the tokenizer that made them."""

    train: torch.Tensor
    validation: torch.Tensor
    tokenizer: BPETokenizer


def shakespeare_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The directory to read Tiny Shakespeare from (see the module docstring for the order of the choices)."""
    return data_directory(data_dir, ENV_VAR, "tinyshakespeare")


def default_mirrors() -> tuple[str, ...]:
    """The base URLs to download from: ``$KDBOOK_SHAKESPEARE_MIRRORS`` if set, else ``MIRRORS``."""
    return mirrors_from_env(MIRRORS_ENV_VAR, MIRRORS)


def verify_shakespeare(path: str | os.PathLike) -> bytes:
    """Return the bytes of ``path`` if their size and SHA-256 are those of Tiny Shakespeare."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a path, got {type(path).__name__}")
    path = Path(path)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != SHAKESPEARE_BYTES or digest != SHAKESPEARE_SHA256:
        raise ValueError(
            f"{path}: checksum mismatch for {SHAKESPEARE_FILE} ({len(data)} bytes, sha256 {digest[:16]}...; "
            f"expected {SHAKESPEARE_BYTES} bytes, sha256 {SHAKESPEARE_SHA256[:16]}...). "
            "Delete it and download it again."
        )
    return data


def download_shakespeare(
    data_dir: str | os.PathLike | None = None, mirrors: tuple[str, ...] | None = None, timeout: float = 60.0
) -> Path:
    """Fetch ``input.txt`` into ``data_dir`` from the first mirror serving a valid copy; return the directory.

    A file already there is verified and kept. A download goes to a temporary file in ``data_dir``,
    is verified, and only then renamed to ``input.txt``, so a failed, corrupted or interrupted one
    leaves nothing behind. Raises ``RuntimeError`` naming every URL tried when none serves a valid copy.
    """
    directory = shakespeare_dir(data_dir)
    mirrors = default_mirrors() if mirrors is None else mirrors
    if isinstance(mirrors, str) or not isinstance(mirrors, (tuple, list)) or not mirrors:
        raise ValueError("mirrors must be a non-empty tuple of base URLs")
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    target = directory / SHAKESPEARE_FILE
    if target.is_file():
        verify_shakespeare(target)
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + f"/{SHAKESPEARE_FILE}"
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{SHAKESPEARE_FILE}.", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                shutil.copyfileobj(response, out)
            verify_shakespeare(temporary)
            os.replace(temporary, target)
            return directory
        except (OSError, ValueError, urllib.error.URLError) as error:
            failures.append(f"{url}: {error}")
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    raise RuntimeError(f"could not download a valid {SHAKESPEARE_FILE}; tried:\n  " + "\n  ".join(failures))


def load_shakespeare(data_dir: str | os.PathLike | None = None, download: bool = False) -> str:
    """The verified text of Tiny Shakespeare; with ``download=True``, fetch it first when it is missing."""
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {type(download).__name__}")
    directory = shakespeare_dir(data_dir)
    if download:
        download_shakespeare(directory)
    path = directory / SHAKESPEARE_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{SHAKESPEARE_FILE} not found in data_dir {directory}; pass data_dir, set {ENV_VAR}, "
            "or call load_shakespeare(download=True) on a machine with internet"
        )
    return verify_shakespeare(path).decode("utf-8")


def split_text(text: str, validation_fraction: float = 0.1) -> tuple[str, str]:
    """``(train, validation)``: the fixed split of the module docstring, cut just after a newline."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if isinstance(validation_fraction, bool) or not isinstance(validation_fraction, numbers.Real):
        kind = type(validation_fraction).__name__
        raise TypeError(f"validation_fraction must be a real number, got {kind}")
    if not 0.0 < validation_fraction < 1.0:  # also rejects NaN
        raise ValueError(f"validation_fraction must lie strictly between 0 and 1, got {validation_fraction}")
    start = math.floor((1.0 - float(validation_fraction)) * len(text))
    newline = text.find("\n", start)
    if newline < 0 or newline + 1 == len(text):
        raise ValueError(
            f"text has no newline after character {start} with text after it: there is no line to put in "
            f"the validation split (validation_fraction={validation_fraction})"
        )
    return text[: newline + 1], text[newline + 1 :]


@functools.lru_cache(maxsize=4)
def _encoded_splits(path: str) -> tuple[torch.Tensor, torch.Tensor]:
    train, validation = split_text(verify_shakespeare(path).decode("utf-8"))
    tokenizer = shakespeare_tokenizer()
    return (
        torch.tensor(tokenizer.encode(train), dtype=torch.long),
        torch.tensor(tokenizer.encode(validation), dtype=torch.long),
    )


def load_shakespeare_tokens(data_dir: str | os.PathLike | None = None, download: bool = False) -> TokenSplit:
    """Both splits encoded by the committed tokenizer; cached in memory, keyed on the file's resolved path.

    Each call returns fresh copies of the cached tensors, so changing one does not change the next call's.
    """
    load_shakespeare(data_dir, download)  # finds, fetches if asked, verifies; raises with instructions
    path = (shakespeare_dir(data_dir) / SHAKESPEARE_FILE).resolve()
    train, validation = _encoded_splits(str(path))
    return TokenSplit(train=train.clone(), validation=validation.clone(), tokenizer=shakespeare_tokenizer())
