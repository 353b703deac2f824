"""Benchmarks for kdmath, run by ``make bench``.

Each benchmark times kdmath against a baseline measured in the same run, the two alternating
(:func:`interleaved`), and reports the median ratio of the pairs, so numbers from different
machines, or from a busy one, are comparable as ratios.

* ``loss+grad``: the distillation loss and its gradient with respect to the
  student logits, computed (a) by kdmath's ``kd_loss`` and autograd, (b) by
  kdmath's closed-form ``kd_grad``, against (baseline) the usual hand-written
  PyTorch recipe (``F.kl_div`` + ``F.cross_entropy``, autograd).

Usage: ``python benchmarks/run.py [--quick] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kdmath  # noqa: E402


def interleaved(baseline, candidate, repeats: int, warmup: int = 2) -> tuple[float, float, float]:
    """Median seconds of ``baseline`` and of ``candidate``, and the median of their per-pair ratio.

    The two run alternately, one after the other, ``repeats`` times: a slow moment of a shared machine
    then slows a pair rather than one side, and the ratio of each pair cancels it.
    """
    for _ in range(warmup):
        baseline()
        candidate()
    base, cand = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        baseline()
        middle = time.perf_counter()
        candidate()
        base.append(middle - start)
        cand.append(time.perf_counter() - middle)
    return statistics.median(base), statistics.median(cand), statistics.median(b / c for b, c in zip(base, cand))


def baseline_loss_and_grad(zs, zt, y, T, alpha):
    zs = zs.detach().requires_grad_(True)
    soft = F.kl_div(F.log_softmax(zs / T, -1), F.log_softmax(zt / T, -1), reduction="batchmean", log_target=True)
    loss = (1 - alpha) * F.cross_entropy(zs, y) + alpha * T * T * soft
    loss.backward()
    return loss.detach(), zs.grad


def kdmath_autograd(zs, zt, y, T, alpha):
    zs = zs.detach().requires_grad_(True)
    loss = kdmath.kd_loss(zs, zt, y, T=T, alpha=alpha)
    loss.backward()
    return loss.detach(), zs.grad


def kdmath_closed_form(zs, zt, y, T, alpha):
    return kdmath.kd_grad(zs, zt, y, T=T, alpha=alpha)


def bench_loss_and_grad(shapes, repeats):
    rows = []
    g = torch.Generator().manual_seed(0)
    for N, K in shapes:
        zs = torch.randn(N, K, generator=g) * 3
        zt = torch.randn(N, K, generator=g) * 3
        y = torch.randint(0, K, (N,), generator=g)
        T, alpha = 4.0, 0.7
        # same answer first, then speed
        _, g_base = baseline_loss_and_grad(zs, zt, y, T, alpha)
        torch.testing.assert_close(kdmath_closed_form(zs, zt, y, T, alpha), g_base, rtol=1e-4, atol=1e-7)
        def baseline():
            return baseline_loss_and_grad(zs, zt, y, T, alpha)

        base, auto, auto_ratio = interleaved(baseline, lambda: kdmath_autograd(zs, zt, y, T, alpha), repeats)
        _, closed, closed_ratio = interleaved(baseline, lambda: kdmath_closed_form(zs, zt, y, T, alpha), repeats)
        rows.append(
            {
                "N": N,
                "K": K,
                "baseline_ms": 1e3 * base,
                "kdmath_autograd_ms": 1e3 * auto,
                "kdmath_closed_form_ms": 1e3 * closed,
                "speedup_autograd_vs_baseline": auto_ratio,
                "speedup_closed_form_vs_baseline": closed_ratio,
            }
        )
    return rows


def atomic_write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(payload, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes and few repeats (a smoke run)")
    parser.add_argument("--out", type=Path, default=Path("_build/benchmarks/kdmath.json"))
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    shapes = [(256, 10), (512, 1000)] if args.quick else [(4096, 10), (1024, 1000), (128, 32000)]
    repeats = 3 if args.quick else 15
    rows = bench_loss_and_grad(shapes, repeats)
    print(f"kdmath {kdmath.__version__}, torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads")
    print("loss + gradient w.r.t. student logits (median of %d), T=4, alpha=0.7" % repeats)
    print(f"{'N':>6} {'K':>6} {'baseline ms':>12} {'kd_loss+autograd':>17} {'kd_grad':>9} {'ratio a':>8} {'ratio c':>8}")
    for r in rows:
        print(f"{r['N']:>6} {r['K']:>6} {r['baseline_ms']:>12.3f} {r['kdmath_autograd_ms']:>17.3f} "
              f"{r['kdmath_closed_form_ms']:>9.3f} {r['speedup_autograd_vs_baseline']:>8.2f} "
              f"{r['speedup_closed_form_vs_baseline']:>8.2f}")
    print("ratio a = baseline / (kd_loss + autograd); ratio c = baseline / kd_grad (higher is faster)")
    atomic_write_json(
        args.out,
        {
            "kdmath_version": kdmath.__version__,
            "torch_version": torch.__version__,
            "machine": platform.machine(),
            "processor": platform.processor(),
            "threads": torch.get_num_threads(),
            "repeats": repeats,
            "loss_and_grad": rows,
        },
    )
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
