"""MNIST from its four original IDX files, checksum-verified.

The IDX format (LeCun et al.): a big-endian header ``0x00 0x00 <type> <ndim>``, then ``ndim``
big-endian 32-bit sizes, then the data; MNIST uses type ``0x08`` (unsigned bytes). The files may
be gzipped (``.gz``) or not. Every file is verified against the SHA-256 of its *uncompressed*
bytes before it is used, so a truncated or corrupted copy is refused, with its name.

Where the files are looked for, in order: the ``data_dir`` argument; the environment variable
``KDBOOK_MNIST_DIR``; ``../shared/data/mnist`` beside the repository (the development machines'
copy); ``~/.cache/kdbook/mnist``. With ``download=True`` (a machine with internet, e.g. Colab),
missing files are fetched from a public mirror into that directory, written atomically (to a
temporary file, verified, then renamed), so an interrupted download never leaves a file behind.
The mirrors are ``MIRRORS`` unless the environment variable ``KDBOOK_MNIST_MIRRORS`` lists others
(base URLs separated by spaces or commas; ``file://`` works too): a local copy for a machine
without internet, or the test that runs the chapters as a fresh Colab runtime would.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = ["MNIST_FILES", "MIRRORS", "MNIST", "mnist_dir", "default_mirrors", "read_idx", "verify_file", "download_mnist", "load_mnist"]

ENV_VAR = "KDBOOK_MNIST_DIR"
MIRRORS_ENV_VAR = "KDBOOK_MNIST_MIRRORS"

# name -> (bytes uncompressed, SHA-256 of the uncompressed file)
MNIST_FILES = {
    "train-images-idx3-ubyte": (47_040_016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte": (60_008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte": (7_840_016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte": (10_008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

_IDX_TYPES = {0x08: torch.uint8}


@dataclass(frozen=True)
class MNIST:
    """The four arrays: images ``(N, 28, 28)`` uint8, labels ``(N,)`` int64."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def mnist_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The directory to read MNIST from (see the module docstring for the order of the choices)."""
    return data_directory(data_dir, ENV_VAR, "mnist")


def data_directory(data_dir: str | os.PathLike | None, env_var: str, folder: str) -> Path:
    """The directory a data set is read from: ``data_dir``; else ``$env_var``; else ``../shared/data/<folder>``
    beside the repository, where it exists; else ``~/.cache/kdbook/<folder>``. Shared with :mod:`kdmath.text`."""
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"data_dir must be a path, got {type(data_dir).__name__}")
        return Path(data_dir).expanduser()
    if os.environ.get(env_var):
        return Path(os.environ[env_var]).expanduser()
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / folder
    if shared.is_dir():
        return shared
    return Path.home() / ".cache" / "kdbook" / folder


def _find(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _uncompressed_bytes(path: Path) -> bytes:
    with open(path, "rb") as stream:
        magic = stream.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as stream:
            return stream.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"{path}: cannot be read ({error})") from error


def verify_file(path: str | os.PathLike, name: str | None = None) -> bytes:
    """Return the uncompressed bytes of ``path`` if they match the SHA-256 recorded for ``name``.

    ``name`` defaults to the file name without ``.gz``; it must be one of ``MNIST_FILES``.
    """
    path = Path(path)
    name = name or path.name.removesuffix(".gz")
    if name not in MNIST_FILES:
        raise ValueError(f"name must be one of {sorted(MNIST_FILES)}, got {name!r}")
    data = _uncompressed_bytes(path)
    size, digest = MNIST_FILES[name]
    if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
        raise ValueError(
            f"{path}: checksum mismatch for {name} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}...; "
            f"expected {size} bytes, sha256 {digest[:16]}...). Delete it and download it again."
        )
    return data


def _parse_idx(data: bytes, source: str) -> torch.Tensor:
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{source}: not an IDX file (bad magic number)")
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_TYPES:
        raise ValueError(f"{source}: IDX element type 0x{type_code:02x} is not supported (only unsigned bytes, 0x08)")
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise ValueError(f"{source}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    count = 1
    for size in shape:
        count *= size
    if len(data) - header != count:
        raise ValueError(f"{source}: IDX header announces {count} elements of shape {shape}, the file holds {len(data) - header}")
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8).reshape(shape)


def read_idx(path: str | os.PathLike) -> torch.Tensor:
    """Read one IDX file (gzipped or not) into a uint8 tensor of the shape its header gives."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {path} does not exist")
    return _parse_idx(_uncompressed_bytes(path), str(path))


def default_mirrors() -> tuple[str, ...]:
    """The base URLs to download from: ``$KDBOOK_MNIST_MIRRORS`` if set, else ``MIRRORS``."""
    return mirrors_from_env(MIRRORS_ENV_VAR, MIRRORS)


def mirrors_from_env(env_var: str, defaults: tuple[str, ...]) -> tuple[str, ...]:
    """The base URLs listed in ``$env_var`` (separated by spaces or commas), else ``defaults``."""
    listed = os.environ.get(env_var, "").replace(",", " ").split()
    return tuple(listed) if listed else defaults


def download_mnist(
    data_dir: str | os.PathLike | None = None, mirrors: tuple[str, ...] | None = None, timeout: float = 60.0
) -> Path:
    """Fetch the missing MNIST files into ``data_dir`` from the first mirror that serves them.

    Each file is downloaded to a temporary file in ``data_dir``, verified, and only then renamed
    to its final name (an atomic step), so a failed or interrupted download leaves nothing behind.
    Raises ``RuntimeError`` naming the file and every mirror tried when none serves a valid copy.
    """
    directory = mnist_dir(data_dir)
    mirrors = default_mirrors() if mirrors is None else mirrors
    if isinstance(mirrors, str) or not mirrors:
        raise ValueError("mirrors must be a non-empty tuple of base URLs")
    directory.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILES:
        existing = _find(directory, name)
        if existing is not None:
            verify_file(existing, name)
            continue
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + f"/{name}.gz"
            handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".part")
            try:
                with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                    shutil.copyfileobj(response, out)
                verify_file(temporary, name)
                os.replace(temporary, directory / f"{name}.gz")
                break
            except (OSError, ValueError, urllib.error.URLError) as error:
                failures.append(f"{url}: {error}")
            finally:
                if os.path.exists(temporary):
                    os.remove(temporary)
        else:
            raise RuntimeError(f"could not download a valid {name}:\n  " + "\n  ".join(failures))
    return directory


def load_mnist(data_dir: str | os.PathLike | None = None, download: bool = False) -> MNIST:
    """Load and verify the four MNIST files; with ``download=True``, fetch missing ones first."""
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {type(download).__name__}")
    directory = mnist_dir(data_dir)
    if download:
        download_mnist(directory)
    arrays = {}
    for name in MNIST_FILES:
        path = _find(directory, name)
        if path is None:
            raise FileNotFoundError(
                f"{name}(.gz) not found in data_dir {directory}; pass data_dir, set {ENV_VAR}, "
                "or call load_mnist(download=True) on a machine with internet"
            )
        arrays[name] = _parse_idx(verify_file(path, name), str(path))
    return MNIST(
        train_images=arrays["train-images-idx3-ubyte"],
        train_labels=arrays["train-labels-idx1-ubyte"].long(),
        test_images=arrays["t10k-images-idx3-ubyte"],
        test_labels=arrays["t10k-labels-idx1-ubyte"].long(),
    )
