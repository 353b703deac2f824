r"""A byte-level byte-pair encoding (BPE), as GPT-2's, simplified: written for clarity, deterministic.

A text is first cut into *pieces* by the regular expression :data:`PATTERN` (a word with its
leading space, a number, a run of punctuation, whitespace); every character falls in exactly one
piece, so the pieces concatenate back to the text, and no token ever crosses a piece boundary.
Each piece is then its UTF-8 bytes, tokens ``0, ..., 255``.

**Training** (:func:`train_bpe`). Let the training text hold the distinct pieces :math:`w` with
counts :math:`n_w`, each a sequence of token ids. The count of an adjacent pair :math:`(a, b)` is

.. math::

    c(a, b) = \sum_w n_w \, \#\{ i : w_i = a,\ w_{i+1} = b \},

(overlapping occurrences counted, as GPT-2 does). Merge :math:`m = 256, 257, \dots` replaces
the pair of largest count by the new token :math:`m` in every piece (left to right, without
overlap), ties broken by the smallest pair :math:`(a, b)` in lexicographic order, so the result is
a function of the text alone. Only the pieces that hold the merged pair change, and only the counts
of the pairs inside those pieces: they are subtracted and added back after the merge, and a heap
with stale entries skipped finds the next largest count, so a merge costs the size of the pieces it
touches rather than the size of the text. Training stops when the vocabulary has ``vocab_size``
tokens, or earlier when no adjacent pair is left.

**Encoding** (:meth:`BPETokenizer.encode`). Within each piece, the adjacent pair of lowest merge
rank is merged, everywhere in the piece, until no pair is a merge. A merge creates a token that no
earlier merge can involve, so this equals applying all the merges in the order they were learnt,
and a training piece is encoded exactly as training left it. **Decoding** joins the tokens' bytes
and reads them as UTF-8 (``errors="replace"``): ``decode(encode(s)) == s`` for every string that
UTF-8 can encode (every ``str`` without a lone surrogate).
"""

from __future__ import annotations

import functools
import heapq
import importlib.resources
import json
import numbers
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import torch

__all__ = [
    "PATTERN", "SHAKESPEARE_ASSET", "BPETokenizer", "pretokenize", "train_bpe", "shakespeare_tokenizer"
]

PATTERN = r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+"
_PIECES = re.compile(PATTERN)
_FORMAT = "kdmath-bpe"
_FORMAT_VERSION = 1
# Pieces cached per tokenizer; far more than the distinct pieces of Tiny Shakespeare (~25 000).
_CACHE_LIMIT = 200_000

SHAKESPEARE_ASSET = "shakespeare_bpe_2048.json"


def pretokenize(text: str) -> list[str]:
    """The pieces of ``text`` (``re.findall`` of :data:`PATTERN`); they concatenate to ``text``."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _PIECES.findall(text)


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"text cannot be encoded as UTF-8 (a lone surrogate?): {error}") from error


def _merge_pair(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """``ids`` with each occurrence of ``pair`` (scanned left to right, no overlap) replaced by ``new_id``."""
    first, second = pair
    merged, i, end = [], 0, len(ids)
    while i < end:
        if i + 1 < end and ids[i] == first and ids[i + 1] == second:
            merged.append(new_id)
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged


class BPETokenizer:
    """A byte-level BPE tokenizer given by its merges: merge ``i`` joins ``merges[i]`` into token ``256 + i``.

    Equal merges make equal tokenizers (``==``)."""

    def __init__(self, merges):
        checked = []
        for rank, pair in enumerate(merges):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"merges[{rank}] must be a pair of token ids, got {pair!r}")
            for token in pair:
                if isinstance(token, bool) or not isinstance(token, numbers.Integral):
                    raise TypeError(f"merges[{rank}] must hold integer token ids, got {pair!r}")
                if not 0 <= token < 256 + rank:
                    raise ValueError(
                        f"merges[{rank}] = {tuple(pair)} refers to token {token}, which does not exist yet "
                        f"(ids 0..{256 + rank - 1})"
                    )
            checked.append((int(pair[0]), int(pair[1])))
        self._merges = tuple(checked)
        self._ranks = {pair: rank for rank, pair in enumerate(self._merges)}
        if len(self._ranks) != len(self._merges):
            raise ValueError("merges must not repeat a pair")
        vocabulary = [bytes([i]) for i in range(256)]
        for first, second in self._merges:
            vocabulary.append(vocabulary[first] + vocabulary[second])
        self._bytes = tuple(vocabulary)
        self._cache: dict[str, tuple[int, ...]] = {}

    @property
    def merges(self) -> tuple[tuple[int, int], ...]:
        return self._merges

    @property
    def vocab_size(self) -> int:
        """``256 + len(merges)``: the ids are ``0, ..., vocab_size - 1``."""
        return 256 + len(self._merges)

    def __eq__(self, other):
        return isinstance(other, BPETokenizer) and self._merges == other._merges

    def __hash__(self):
        return hash(self._merges)

    def __repr__(self):
        return f"BPETokenizer(vocab_size={self.vocab_size})"

    def token_bytes(self, i: int) -> bytes:
        """The bytes token ``i`` stands for."""
        if isinstance(i, torch.Tensor) and i.numel() == 1 and not i.is_floating_point():
            i = i.item()
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"i must be an integer token id, got {type(i).__name__}")
        if not 0 <= i < self.vocab_size:
            raise ValueError(f"i must be a token id in [0, {self.vocab_size}), got {i}")
        return self._bytes[i]

    def _encode_piece(self, piece: str) -> tuple[int, ...]:
        cached = self._cache.get(piece)
        if cached is not None:
            return cached
        ids = list(_utf8(piece))
        while len(ids) > 1:
            # the adjacent pair learnt first; pairs that are not merges rank last
            pair = min(zip(ids, ids[1:]), key=lambda p: self._ranks.get(p, len(self._ranks)))
            rank = self._ranks.get(pair)
            if rank is None:
                break
            ids = _merge_pair(ids, pair, 256 + rank)
        encoded = tuple(ids)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[piece] = encoded
        return encoded

    def encode(self, text: str) -> list[int]:
        """The token ids of ``text``: each piece of :func:`pretokenize` encoded on its own."""
        ids: list[int] = []
        for piece in pretokenize(text):
            ids.extend(self._encode_piece(piece))
        return ids

    def decode(self, ids) -> str:
        """The text of the token ids ``ids`` (a sequence of ints or a 1-D integer tensor)."""
        if isinstance(ids, torch.Tensor):
            if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
                raise TypeError(f"ids must hold integer token ids, got dtype {ids.dtype}")
            if ids.dim() != 1:
                raise ValueError(f"ids must be one-dimensional, got shape {tuple(ids.shape)}")
            ids = ids.tolist()
        elif isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
            raise TypeError(f"ids must be a sequence of integer token ids, got {type(ids).__name__}")
        chunks = []
        for position, token in enumerate(ids):
            if isinstance(token, bool) or not isinstance(token, numbers.Integral):
                raise TypeError(f"ids[{position}] must be an integer token id, got {type(token).__name__}")
            if not 0 <= token < self.vocab_size:
                raise ValueError(f"ids[{position}] = {token} is not a token id in [0, {self.vocab_size})")
            chunks.append(self._bytes[token])
        return b"".join(chunks).decode("utf-8", errors="replace")

    def save(self, path: str | os.PathLike, *, metadata: dict | None = None) -> Path:
        """Write the merges (and the pre-tokenisation pattern) as JSON, atomically; one merge per line."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a path, got {type(path).__name__}")
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict or None, got {type(metadata).__name__}")
        path = Path(path)
        header = {
            "format": _FORMAT, "version": _FORMAT_VERSION, "pattern": PATTERN, "vocab_size": self.vocab_size
        }
        if metadata:
            header["metadata"] = metadata
        body = json.dumps(header, indent=2)[:-2]  # reopen the object to append the merges
        lines = ",\n".join(f"    [{a}, {b}]" for a, b in self._merges)
        merges = f"[\n{lines}\n  ]" if lines else "[]"
        text = f"{body},\n  \"merges\": {merges}\n}}\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
        return path

    @classmethod
    def from_json(cls, text: str, source: str = "<json>") -> "BPETokenizer":
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{source}: not JSON ({error})") from error
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"{source}: not a {_FORMAT} file")
        if payload.get("version") != _FORMAT_VERSION:
            version = payload.get("version")
            raise ValueError(f"{source}: format version {version!r}, expected {_FORMAT_VERSION}")
        if payload.get("pattern") != PATTERN:
            pattern = payload.get("pattern")
            raise ValueError(f"{source}: trained with another pre-tokenisation pattern {pattern!r}")
        tokenizer = cls(payload.get("merges", []))
        if payload.get("vocab_size") != tokenizer.vocab_size:
            raise ValueError(
                f"{source}: vocab_size {payload.get('vocab_size')} does not match "
                f"its {len(tokenizer.merges)} merges"
            )
        return tokenizer

    @classmethod
    def load(cls, path: str | os.PathLike) -> "BPETokenizer":
        """Read a tokenizer written by :meth:`save`."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a path, got {type(path).__name__}")
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"path {path} does not exist")
        return cls.from_json(path.read_text(encoding="utf-8"), str(path))


def _pair_counts(ids: list[int]) -> Counter:
    return Counter(zip(ids, ids[1:]))


def train_bpe(text: str, vocab_size: int) -> BPETokenizer:
    """Learn ``vocab_size - 256`` merges on ``text`` (see the module docstring); deterministic.

    Stops early, with a smaller vocabulary, when no adjacent pair is left to merge.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, numbers.Integral):
        raise TypeError(f"vocab_size must be an integer, got {type(vocab_size).__name__}")
    if vocab_size < 256:
        raise ValueError(f"vocab_size must be at least 256 (the bytes), got {vocab_size}")
    piece_counts = Counter(pretokenize(text))
    pieces = [list(_utf8(piece)) for piece in piece_counts]
    weights = list(piece_counts.values())
    counts: Counter = Counter()
    holders: dict[tuple[int, int], set[int]] = {}  # pair -> the pieces that held it (possibly no longer)
    for index, ids in enumerate(pieces):
        for pair, occurrences in _pair_counts(ids).items():
            counts[pair] += occurrences * weights[index]
            holders.setdefault(pair, set()).add(index)
    # (-count, pair): the heap's smallest entry is the largest count, then the smallest pair
    heap = [(-count, pair) for pair, count in counts.items()]
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    while len(merges) < vocab_size - 256 and heap:
        negative, pair = heapq.heappop(heap)
        if counts.get(pair, 0) != -negative:
            continue  # stale: the count changed after this entry was pushed
        new_id = 256 + len(merges)
        merges.append(pair)
        changed = set()
        for index in sorted(holders.pop(pair)):
            old = pieces[index]
            new = _merge_pair(old, pair, new_id)
            if len(new) == len(old):
                continue
            pieces[index] = new
            weight = weights[index]
            for other, occurrences in _pair_counts(old).items():
                counts[other] -= occurrences * weight
                changed.add(other)
            for other, occurrences in _pair_counts(new).items():
                counts[other] += occurrences * weight
                changed.add(other)
                if other != pair:
                    holders.setdefault(other, set()).add(index)
        for other in changed:
            count = counts[other]
            if count > 0:
                heapq.heappush(heap, (-count, other))
            else:
                del counts[other]
    return BPETokenizer(merges)


@functools.lru_cache(maxsize=1)
def shakespeare_tokenizer() -> BPETokenizer:
    """The committed tokenizer (``kdmath/assets/shakespeare_bpe_2048.json``): 2048 tokens, learnt by
    :func:`train_bpe` on the training split of Tiny Shakespeare (``kdmath.text.split_text``) only."""
    asset = importlib.resources.files("kdmath.assets").joinpath(SHAKESPEARE_ASSET)
    return BPETokenizer.from_json(asset.read_text(encoding="utf-8"), f"kdmath/assets/{SHAKESPEARE_ASSET}")
