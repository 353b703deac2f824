"""Throughput of kdmath's trainer, run by ``make bench``.

Training examples per second of (a) :func:`kdmath.train` (data on the device, shuffling, batching
and jitter as whole-batch tensor operations) against (baseline) the plain PyTorch loop a typical
user writes: a ``DataLoader`` (``shuffle=True``, ``num_workers=0``) over a ``TensorDataset`` of the
same float images and labels, whose ``__getitem__`` shifts each image by its own random offset.
Both train the same model (same initial weights) with the same optimiser (SGD, momentum 0.9), the
same loss (cross-entropy, or ``kd_loss`` with teacher logits), the same max-norm step and, on a
GPU, the same bfloat16 autocast, so the ratio measures the data pipeline and the loop around it.

A third loop, ``bound``, is the plain loop over batches made in advance (already jittered and on
the device): a data pipeline that costs nothing. No trainer can beat it, so ``bound / DataLoader``
is the largest ratio any trainer could reach on the machine ("max ratio" in the table).

Cases (batch size 100, jitter 2, the first 10,000 MNIST training images, one epoch per repeat after
one warm-up epoch of each loop, the three loops in a rotating order so that load from other
processes falls on all of them alike; the median of the repeats is reported):

* ``student``: ``MLP((800, 800))``, cross-entropy;
* ``teacher``: ``MLP((1200, 1200), dropout=0.5, input_dropout=0.2)``, cross-entropy, max-norm;
* ``distill``: ``MLP((800, 800))`` with teacher logits, ``kd_loss`` (T=20, alpha=0.9).

Each case also reports the fraction of the device's dense matmul rate reached, counting
6 x parameters FLOPs per training example, against a large ``torch.matmul`` timed in the same run
(float32 on the CPU; on a GPU bfloat16, the trainer's autocast dtype, which is the reference, and
float32).

The thread count is torch's default unless ``--threads`` is given; it is printed and recorded, with
the load average before and after. On a loaded machine a case stops repeating once it has used
its share of ``--budget`` seconds (the table says how many repeats each case got).

Usage: ``python benchmarks/trainer.py [--device cpu|cuda] [--quick] [--subset N] [--repeats R]
[--threads N] [--budget S] [--out FILE]``; results go to ``_build/benchmarks/trainer.json``.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kdmath  # noqa: E402
from kdmath.data import load_mnist  # noqa: E402
from kdmath.losses import kd_loss  # noqa: E402
from kdmath.models import MLP  # noqa: E402
from kdmath.trainer import TrainConfig, jitter_batch, predict_logits, to_device_images, train  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import atomic_write_json  # noqa: E402

BATCH_SIZE = 100
JITTER = 2
LR = 0.05
MAX_NORM = 3.5
T, ALPHA = 20.0, 0.9


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --------------------------------------------------------------------------------------------
# The baseline: what a typical user writes.


class JitteredTensorDataset(TensorDataset):
    """A ``TensorDataset`` whose first tensor holds images ``(N, H, W)``, each shifted on access by
    a random offset in ``[-shift, shift]^2`` (zero-filled), as a per-sample transform."""

    def __init__(self, *tensors: torch.Tensor, shift: int):
        super().__init__(*tensors)
        self.shift = shift

    def __getitem__(self, index):
        image, *rest = super().__getitem__(index)
        s = self.shift
        if s:
            dy, dx = torch.randint(0, 2 * s + 1, (2,)).tolist()
            H, W = image.shape
            image = F.pad(image, (s, s, s, s))[dy:dy + H, dx:dx + W]
        return (image, *rest)


def dataloader_epoch(model, loader, device, *, max_norm, mixed, distill) -> float:
    """One epoch of the plain loop over ``loader`` (any iterable of CPU or device batches);
    returns the mean training loss."""
    model.train()
    optimiser = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    total, count = torch.zeros((), device=device), 0
    for batch in loader:
        x, y, *zt = (t.to(device, non_blocking=True) for t in batch)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=mixed):
            logits = model(x)
        if distill:
            loss = kd_loss(logits.float(), zt[0], y, T=T, alpha=ALPHA)
        else:
            loss = F.cross_entropy(logits.float(), y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if max_norm is not None:
            model.apply_max_norm(max_norm)
        total += loss.detach() * len(y)
        count += len(y)
    return float(total) / count


# --------------------------------------------------------------------------------------------


def matmul_flops_per_second(device: torch.device, dtype: torch.dtype, size: int, repeats: int = 5) -> float:
    """Dense matmul rate (FLOP/s) of a ``size x size`` product, median of ``repeats``."""
    g = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, device=device, dtype=dtype, generator=g)
    b = torch.randn(size, size, device=device, dtype=dtype, generator=g)
    inner = 20 if device.type == "cuda" else 1

    def run():
        for _ in range(inner):
            torch.matmul(a, b)
        synchronize(device)

    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 2 * size**3 * inner / statistics.median(times)


def bench_case(name, make_model, data, device, *, subset, repeats, budget, max_norm=None, teacher_logits=None):
    deadline = time.perf_counter() + budget  # counts the warm-up too
    images, labels, images_cpu, labels_cpu = data
    mixed = device.type == "cuda"
    distill = teacher_logits is not None
    torch.manual_seed(0)
    init = make_model().to(device)
    params = sum(p.numel() for p in init.parameters())
    config = lambda seed: TrainConfig(  # noqa: E731
        epochs=1, batch_size=BATCH_SIZE, lr=LR, momentum=0.9, jitter=JITTER, max_norm=max_norm,
        T=T if distill else 1.0, alpha=ALPHA if distill else 0.0, seed=seed,
    )
    tensors = (images_cpu, labels_cpu) + ((teacher_logits.cpu(),) if distill else ())
    dataset = JitteredTensorDataset(*tensors, shift=JITTER)
    loader = DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True, num_workers=0, pin_memory=device.type == "cuda")
    # the bound: the same loop over batches made in advance (already on the device), i.e. with a
    # data pipeline that costs nothing; no trainer can beat it, so loader / bound caps the ratio.
    generator = torch.Generator(device=device).manual_seed(0)
    ready = [
        (jitter_batch(images[i:i + BATCH_SIZE], JITTER, generator), labels[i:i + BATCH_SIZE],
         *((teacher_logits[i:i + BATCH_SIZE],) if distill else ()))
        for i in range(0, subset, BATCH_SIZE)
    ]

    def trainer_epoch(seed):
        model = copy.deepcopy(init)
        synchronize(device)
        start = time.perf_counter()
        history = train(model, images, labels, config(seed), teacher_logits=teacher_logits, progress=False)
        synchronize(device)
        return time.perf_counter() - start, history.train_loss[-1]

    def plain_epoch(batches):
        def epoch(seed):
            model = copy.deepcopy(init)
            torch.manual_seed(seed)
            synchronize(device)
            start = time.perf_counter()
            loss = dataloader_epoch(model, batches, device, max_norm=max_norm, mixed=mixed, distill=distill)
            synchronize(device)
            return time.perf_counter() - start, loss
        return epoch

    loops = {"trainer": trainer_epoch, "dataloader": plain_epoch(loader), "bound": plain_epoch(ready)}
    times = {k: [] for k in loops}
    losses = {k: [] for k in loops}
    for fn in loops.values():  # one warm-up epoch of each
        fn(0)
    keys = list(loops)
    for r in range(repeats):
        if r and time.perf_counter() > deadline:  # a loaded machine: fewer repeats, said in the output
            break
        # rotate the order, so that load from other processes falls on every loop alike
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            seconds, loss = loops[key](r + 1)
            times[key].append(seconds)
            losses[key].append(loss)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "case": name,
        "repeats": len(times["trainer"]),
        "model": repr(init).replace("\n", " "),
        "parameters": params,
        "examples_per_epoch": subset,
        "max_norm": max_norm,
        "distillation": distill,
        "mixed_precision_bf16": mixed,
        **{f"{k}_seconds": v for k, v in times.items()},
        **{f"{k}_examples_per_s": subset / m for k, m in med.items()},
        "ratio_trainer_vs_dataloader": med["dataloader"] / med["trainer"],
        "ratio_bound_vs_dataloader": med["dataloader"] / med["bound"],
        **{f"{k}_mean_loss": statistics.mean(v) for k, v in losses.items()},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="2,000 images and 2 repeats (a smoke run)")
    parser.add_argument("--subset", type=int, default=None, help="training images per epoch (default 10,000)")
    parser.add_argument("--repeats", type=int, default=None, help="timed epochs per loop and case (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument("--budget", type=float, default=150.0,
                        help="seconds; once a case has used its share, it stops repeating (default 150)")
    parser.add_argument("--out", type=Path, default=Path("_build/benchmarks/trainer.json"))
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no GPU available")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    subset = args.subset or (2_000 if args.quick else 10_000)
    repeats = args.repeats or (2 if args.quick else 5)
    if subset % BATCH_SIZE or not 0 < subset <= 60_000:
        parser.error(f"--subset must be a multiple of {BATCH_SIZE} in (0, 60000]")
    load_before = os.getloadavg()
    if device.type == "cpu" and load_before[0] > 0.5:
        print(f"note: load average {load_before[0]:.2f} on {os.cpu_count()} CPUs: other processes compete for the cores"
              + (f"; with {torch.get_num_threads()} threads torch's OpenMP threads wait on each other and every loop slows "
                 "down, unevenly (compare --threads 1)" if torch.get_num_threads() > 1 else ""), file=sys.stderr)

    mnist = load_mnist()
    images_cpu = to_device_images(mnist.train_images[:subset], "cpu")
    labels_cpu = mnist.train_labels[:subset].clone()
    data = (images_cpu.to(device), labels_cpu.to(device), images_cpu, labels_cpu)

    # teacher logits for the distillation case: a fixed (untrained) teacher; their values do not
    # change the work done per step.
    torch.manual_seed(1)
    teacher = MLP((1200, 1200), dropout=0.5, input_dropout=0.2).to(device)
    teacher_logits = predict_logits(teacher, data[0])
    del teacher

    rows = [
        bench_case("student", lambda: MLP((800, 800)), data, device, subset=subset, repeats=repeats, budget=args.budget / 3),
        bench_case("teacher", lambda: MLP((1200, 1200), dropout=0.5, input_dropout=0.2), data, device,
                   subset=subset, repeats=repeats, budget=args.budget / 3, max_norm=MAX_NORM),
        bench_case("distill", lambda: MLP((800, 800)), data, device, subset=subset, repeats=repeats, budget=args.budget / 3,
                   teacher_logits=teacher_logits),
    ]

    if device.type == "cuda":
        rates = {"bf16": matmul_flops_per_second(device, torch.bfloat16, 8192),
                 "fp32": matmul_flops_per_second(device, torch.float32, 8192)}
        reference = "bf16"  # the trainer's autocast dtype on a GPU
        device_name = torch.cuda.get_device_name(device)
    else:
        rates = {"fp32": matmul_flops_per_second(device, torch.float32, 2048)}
        reference = "fp32"
        device_name = platform.processor() or platform.machine()
    for r in rows:
        for loop in ("trainer", "dataloader", "bound"):
            r[f"{loop}_fraction_of_{reference}_matmul"] = 6 * r["parameters"] * r[f"{loop}_examples_per_s"] / rates[reference]
    load_after = os.getloadavg()

    threads = torch.get_num_threads()
    print(f"kdmath {kdmath.__version__}, torch {torch.__version__}, device {device} ({device_name}), "
          f"{threads} threads, {os.cpu_count()} CPUs, load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print("dense matmul: " + ", ".join(f"{k} {v / 1e9:.1f} GFLOP/s" for k, v in rates.items()))
    print(f"training examples/s, batch {BATCH_SIZE}, jitter {JITTER}, {subset} images per epoch, median of `reps` epochs "
          f"(of {repeats} asked, fewer where the --budget of {args.budget:.0f} s ran out) after 1 warm-up epoch")
    pct = "%" + reference
    print(f"{'case':>8} {'reps':>4} {'params':>9} {'trainer':>9} {'DataLoader':>11} {'bound':>9} {'ratio':>6} {'max ratio':>9} "
          f"{'trainer ' + pct:>13} {'loader ' + pct:>12} {'bound ' + pct:>11}")
    for r in rows:
        print(f"{r['case']:>8} {r['repeats']:>4} {r['parameters']:>9,} {r['trainer_examples_per_s']:>9,.0f} "
              f"{r['dataloader_examples_per_s']:>11,.0f} {r['bound_examples_per_s']:>9,.0f} "
              f"{r['ratio_trainer_vs_dataloader']:>6.2f} {r['ratio_bound_vs_dataloader']:>9.2f} "
              f"{100 * r[f'trainer_fraction_of_{reference}_matmul']:>12.1f}% "
              f"{100 * r[f'dataloader_fraction_of_{reference}_matmul']:>11.1f}% "
              f"{100 * r[f'bound_fraction_of_{reference}_matmul']:>10.1f}%")
    print("examples/s of: kdmath.train; a DataLoader loop (per-sample jitter in __getitem__); bound = the same loop over\n"
          "batches made in advance (a free data pipeline). ratio = trainer / DataLoader; max ratio = bound / DataLoader,\n"
          f"the most any trainer could reach here. {pct} = 6 x params x examples/s over the dense {reference} matmul rate")
    atomic_write_json(
        args.out,
        {
            "kdmath_version": kdmath.__version__,
            "torch_version": torch.__version__,
            "device": str(device),
            "device_name": device_name,
            "machine": platform.machine(),
            "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "threads": threads,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "batch_size": BATCH_SIZE,
            "jitter": JITTER,
            "lr": LR,
            "subset": subset,
            "repeats_asked": repeats,
            "budget_s": args.budget,
            "warmup_epochs": 1,
            "matmul_flops_per_s": rates,
            "flops_reference": reference,
            "cases": rows,
        },
    )
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
