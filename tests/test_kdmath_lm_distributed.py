"""kdmath.lm_trainer under DistributedDataParallel: two CPU processes (gloo) train as one process does.

Each process draws the same global batch and trains on its half; DDP averages the gradients, which is
the gradient of the mean over the global batch. In float64 the parameters after a few AdamW steps equal
those of one process on the same global batch to rounding (the order of the sums differs).
"""

from __future__ import annotations

import dataclasses
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from kdmath.gpt import GPT, GPTConfig
from kdmath.lm_trainer import LMTrainConfig, train_lm

VOCAB, CONTEXT = 64, 16
STUDENT = GPTConfig(vocab_size=VOCAB, context=CONTEXT, n_layer=2, n_head=2, d_model=32)
TEACHER = GPTConfig(vocab_size=VOCAB, context=CONTEXT, n_layer=1, n_head=2, d_model=48)
CONFIG = LMTrainConfig(steps=6, epochs=2, batch_size=4, lr=1e-2, warmup=1, objective="token_kd", alpha=0.5, T=2.0)

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="this PyTorch has no torch.distributed")


def _models(tie=True):
    student = GPT(dataclasses.replace(STUDENT, tie_embeddings=tie), generator=torch.Generator().manual_seed(0)).double()
    teacher = GPT(TEACHER, generator=torch.Generator().manual_seed(1)).double()
    return student, teacher


def _stream():
    return torch.randint(0, VOCAB, (2000,), generator=torch.Generator().manual_seed(2))


def _worker(rank: int, world: int, init_file: str, out_dir: str, tie: bool) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        student, teacher = _models(tie)
        batch_sizes = []
        student.register_forward_pre_hook(lambda module, args: batch_sizes.append(args[0].shape[0]))
        history = train_lm(student, _stream(), CONFIG, teacher=teacher,
                           checkpoint=os.path.join(out_dir, "checkpoint.pt"))
        torch.save({"model": student.state_dict(), "train_loss": history.train_loss, "batch_sizes": batch_sizes},
                   os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


# The token_kd objective computes its loss with kdmath.linear_kd_loss from the final hidden states and the
# head's weight (LMTrainConfig.fused_loss): with untied embeddings that weight is used only outside
# DistributedDataParallel's forward, and its gradient must still be averaged over the processes.
@pytest.mark.parametrize("tie", [True, False], ids=["tied", "untied"])
def test_two_processes_train_as_one_on_the_same_global_batch(tmp_path, tie):
    assert CONFIG.fused_loss
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), str(tmp_path), tie), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    single, teacher = _models(tie)
    alone = train_lm(single, _stream(), CONFIG, teacher=teacher)
    for name, value in single.state_dict().items():
        for rank in ranks:  # both processes hold the same parameters, equal to one process's
            torch.testing.assert_close(rank["model"][name], value, rtol=1e-10, atol=1e-12, msg=name)
    initial = _models(tie)[0].state_dict()
    for name in ("token_embedding.weight", "head.weight"):  # it trained, the head included
        assert not torch.equal(ranks[0]["model"][name], initial[name])
    for rank in ranks:  # the logged loss is the global batch's mean (summed in float32, as the trainer's loss is)
        assert rank["train_loss"] == pytest.approx(alone.train_loss, rel=1e-6)
    assert (tmp_path / "checkpoint.pt").exists()  # written by process 0
    for rank in ranks:  # each process saw only its half of every global batch
        assert rank["batch_sizes"] == [CONFIG.batch_size // 2] * CONFIG.steps


def test_a_global_batch_that_does_not_split_evenly_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("kdmath.lm_trainer._process_group", lambda: (3, 0))
    student, teacher = _models()
    with pytest.raises(ValueError, match="batch_size"):
        train_lm(student, _stream(), CONFIG, teacher=teacher)
