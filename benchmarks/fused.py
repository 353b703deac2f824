"""Benchmark of kdmath.fused.linear_kd_loss against the naive PyTorch loss on materialised logits.

Both compute, on CPU in float32, the forward and backward pass of
``(1 - alpha) CE(y, softmax(z_s)) + alpha T^2 KL(p || q)`` with ``z = h @ W.T`` for student and teacher
(``alpha = 0.5``, ``T = 1``, gradients w.r.t. the student's hidden states and weight). The naive loss
builds the two ``(N, V)`` logit tensors and lets autograd run through ``log_softmax``, ``kl_div`` and
``cross_entropy``.

* time: the median of a few repetitions of each, measured in the same process;
* peak memory: each variant runs once in a fresh subprocess, which reports the kernel's high-water
  mark of its resident memory (``VmHWM`` of ``/proc/self/status``, the per-address-space figure behind
  ``ru_maxrss``) minus its resident memory just before the measured call, after the inputs are allocated
  and a tiny warm-up call has loaded the code paths. (``ru_maxrss`` itself is not used: Linux carries the
  *parent's* resident size at ``fork`` into the child's ``ru_maxrss`` across ``exec``, so a parent that has
  run the naive loss would put a floor of about 1 GiB under both children; the subprocesses also run
  before the timings.) The kernel sees every byte, including the temporaries inside ATen kernels and the
  allocator's slack, which the profiler's per-operator accounting (``profile_memory=True``) reports
  piecemeal and which must be re-summed into a timeline to give a peak; freed large blocks go back to the
  OS (glibc mmaps them), so the high-water mark is the real peak of the call.

Targets: memory ratio (fused / naive) <= 0.25 and time ratio <= 1.5.

``--device cuda`` runs the size of Liger-Kernel's published comparison instead: 8192 tokens, hidden 4096,
vocabulary 128256, in bfloat16 (the naive loss takes its softmaxes in float32, as the usual recipe
does), with the peak from the CUDA caching allocator's own count (``torch.cuda.max_memory_allocated``
over the call, in this process) and the time after ``torch.cuda.synchronize``. The aim there: below
the anchor's 8.7 GB and no slower than the naive loss.

Usage: ``python benchmarks/fused.py [--quick] [--device cpu|cuda] [--repeats R] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kdmath.fused import linear_kd_loss  # noqa: E402
from run import atomic_write_json  # noqa: E402  (benchmarks/, the script's own directory)

T, ALPHA = 1.0, 0.5


def make_inputs(N, d, V, seed=0, device="cpu", dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    h_s = torch.randn(N, d, generator=g)
    h_t = torch.randn(N, d, generator=g)
    W_s = torch.randn(V, d, generator=g) / d**0.5
    W_t = torch.randn(V, d, generator=g) / d**0.5
    y = torch.randint(0, V, (N,), generator=g)
    return *(x.to(device, dtype) for x in (h_s, W_s, h_t, W_t)), y.to(device)


def naive_step(h_s, W_s, h_t, W_t, y):
    h_s = h_s.detach().requires_grad_(True)
    W_s = W_s.detach().requires_grad_(True)
    z_s = h_s @ W_s.T
    with torch.no_grad():
        z_t = h_t @ W_t.T
    z_s, z_t = z_s.float(), z_t.float()  # the softmaxes in float32 (no copy when already float32)
    soft = F.kl_div(
        F.log_softmax(z_s / T, -1), F.log_softmax(z_t / T, -1), reduction="batchmean", log_target=True
    )
    loss = (1 - ALPHA) * F.cross_entropy(z_s, y) + ALPHA * T * T * soft
    loss.backward()
    return loss.detach(), h_s.grad, W_s.grad


def fused_step(h_s, W_s, h_t, W_t, y):
    h_s = h_s.detach().requires_grad_(True)
    W_s = W_s.detach().requires_grad_(True)
    loss = linear_kd_loss(h_s, W_s, h_t, W_t, y, T=T, alpha=ALPHA)
    loss.backward()
    return loss.detach(), h_s.grad, W_s.grad


STEPS = {"naive": naive_step, "fused": fused_step}


def _synchronise() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def median_seconds(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        _synchronise()
        start = time.perf_counter()
        fn()
        _synchronise()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cuda_peak_bytes(step, inputs) -> int:
    """The CUDA caching allocator's peak over one call of ``step``, above what was allocated before it."""
    step(*inputs)  # warm-up: kernels and workspaces
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    step(*inputs)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - before


def current_rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """This address space's high-water mark; ``ru_maxrss`` where ``/proc`` lacks it (not inherited there)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def peak_child(variant: str, N: int, d: int, V: int) -> None:
    """Run in a fresh interpreter: print the peak resident memory of one ``variant`` call, in bytes."""
    STEPS[variant](*make_inputs(8, d, 64, seed=1))  # load the code paths (and their pages) first
    inputs = make_inputs(N, d, V)
    before = current_rss_bytes()
    STEPS[variant](*inputs)
    peak = peak_rss_bytes()
    print(json.dumps({"peak_bytes": peak - before}))


def peak_bytes(variant: str, N: int, d: int, V: int) -> int:
    result = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--shape", str(N), str(d), str(V)],
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_bytes"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a smaller shape and fewer repeats (a smoke run)"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("_build/benchmarks/fused.json"))
    parser.add_argument("--child", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--shape", type=int, nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        peak_child(args.child, *args.shape)
        return 0
    repeats = 2 if args.quick else args.repeats
    if args.device == "cuda":
        if not torch.cuda.is_available():
            parser.error("--device cuda: no CUDA device here")
        N, d, V = (1024, 1024, 32768) if args.quick else (8192, 4096, 128256)
        dtype = torch.bfloat16
        inputs = make_inputs(N, d, V, device="cuda", dtype=dtype)
        peaks = {name: cuda_peak_bytes(step, inputs) for name, step in STEPS.items()}
        # bf16 products: agreement to a few units of bf16's precision, relative to the largest entry
        tolerance = {"rtol": 2e-2, "atol": 0.0, "scaled": True}
    else:
        N, d, V = (256, 128, 8192) if args.quick else (1024, 512, 32768)
        dtype = torch.float32
        peaks = {name: peak_bytes(name, N, d, V) for name in STEPS}  # while this process is still small
        inputs = make_inputs(N, d, V)
        tolerance = {"rtol": 1e-4, "atol": 1e-6, "scaled": False}
    # same answer first, then speed
    scaled = tolerance.pop("scaled")
    for got, expected in zip(fused_step(*inputs), naive_step(*inputs)):
        got, expected = got.float(), expected.float()
        if scaled:
            tolerance["atol"] = tolerance["rtol"] * expected.abs().max().item()
        torch.testing.assert_close(got, expected, **tolerance)
    seconds = {name: median_seconds(lambda step=step: step(*inputs), repeats) for name, step in STEPS.items()}
    time_ratio = seconds["fused"] / seconds["naive"]
    memory_ratio = peaks["fused"] / peaks["naive"]
    where = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {where}, {torch.get_num_threads()} threads")
    print(f"forward + backward, N={N} tokens, hidden {d}, vocab {V}, {str(dtype).removeprefix('torch.')}, "
          f"T={T}, alpha={ALPHA}, median of {repeats}")
    print(f"{'variant':>8} {'time ms':>10} {'peak MiB':>10}")
    for name in STEPS:
        print(f"{name:>8} {1e3 * seconds[name]:>10.1f} {peaks[name] / 2**20:>10.1f}")
    print(f"ratio fused/naive: time {time_ratio:.2f} (target <= 1.5), "
          f"memory {memory_ratio:.3f} (target <= 0.25)")
    atomic_write_json(
        args.out,
        {
            "torch_version": torch.__version__,
            "machine": platform.machine(),
            "processor": platform.processor(),
            "threads": torch.get_num_threads(),
            "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
            "dtype": str(dtype).removeprefix("torch."),
            "shape": {"N": N, "hidden": d, "V": V},
            "repeats": repeats,
            "seconds": seconds,
            "peak_bytes": peaks,
            "time_ratio": time_ratio,
            "memory_ratio": memory_ratio,
        },
    )
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
