#!/usr/bin/env python3
"""Sequence-parallel attention with spattn across processes (one per GPU), checked against
the same layer on one GPU.

A diffusion-style self-attention layer (q, k, v of [batch, tokens, heads, head_dim], not
causal) is sharded along the tokens over `world` processes and computed two ways:

  Ulysses  an all-to-all turns "my tokens, all heads" into "all tokens, my heads"; each process
           runs spattn_attention_forward on its heads over the whole sequence; a second
           all-to-all turns the output back. Every head sees every key with the same tiles as
           on one GPU, so dense and skip-softmax results are those of one GPU, bit for bit.
  Ring     each process keeps its query shard while the key/value shards circulate; for each
           shard it runs spattn with the LSE out and skip_seqlen_kv = the global length (so
           lambda = threshold / L is the global one), and spattn_attention_merge combines the
           partial results by their LSE. Dense: the one-GPU result up to rounding. With a
           skip threshold a shard's tiles are visited with that shard's own running maximum
           and its first tile is never skipped, so the decisions differ from one GPU's: the
           example measures the difference (documented, not asserted to be zero).

Run with one process per GPU:   torchrun --nproc_per_node=2 examples/python/sequence_parallel.py
or let it spawn them:           python3 examples/python/sequence_parallel.py --world 2
With fewer GPUs than processes it still runs the logic (every process on GPU 0, the gloo back
end, collectives through host memory). NVLink multicast stays off (NCCL_NVLS_ENABLE=0 and
friends are set before NCCL starts). Exit status 1 when a check fails.
"""
import argparse
import math
import os
import sys

for _name, _value in (("NCCL_NVLS_ENABLE", "0"), ("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1"),
                      ("NVSHMEM_DISABLE_NVLS", "1")):
    os.environ[_name] = _value

import torch
import torch.distributed as dist

import spattn

BATCH, TOKENS, HEADS, DIM = 1, 8192, 8, 128
THRESHOLD = 400.0  # skip-softmax threshold_scale_factor of the sparse runs


def layer_inputs(seed):
    """The same q, k, v on every process: peaked so that skipping happens."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    pos = torch.arange(TOKENS, dtype=torch.float32)
    freq = torch.exp(torch.linspace(math.log(2 * math.pi / 4096), math.log(2 * math.pi / 64), DIM // 2))
    ang = pos[:, None] * freq[None]
    base = torch.cat([torch.cos(ang), torch.sin(ang)], dim=-1) / math.sqrt(DIM // 2)
    a = math.sqrt(10.0 * math.sqrt(DIM))
    def noisy():
        return (a * base[None, :, None, :] + 0.5 * torch.randn(BATCH, TOKENS, HEADS, DIM, generator=g))
    return noisy(), noisy(), torch.randn(BATCH, TOKENS, HEADS, DIM, generator=g)


class Comm:
    """The collectives the two schemes need, over NCCL (GPU tensors) or gloo (host copies)."""

    def __init__(self, nccl):
        self.nccl = nccl
        self.world, self.rank = dist.get_world_size(), dist.get_rank()

    def _host(self, t):
        return t if self.nccl else t.cpu()

    def all_to_all(self, chunks):
        """chunks[i] goes to process i; returns what every process sent here, in rank order."""
        device = chunks[0].device
        if self.nccl:
            out = [torch.empty_like(c) for c in chunks]
            dist.all_to_all(out, [c.contiguous() for c in chunks])
            return out
        # gloo has no all_to_all: gather everything, keep what was meant for this rank.
        gathered = [[torch.empty_like(c.cpu()) for c in chunks] for _ in range(self.world)]
        for i in range(self.world):
            dist.all_gather(gathered[i], chunks[i].contiguous().cpu())
        return [gathered[self.rank][src].to(device) for src in range(self.world)]

    def ring_pass(self, t):
        """Sends t to the next process, returns the previous process's."""
        send, recv = self._host(t.contiguous()), torch.empty_like(self._host(t))
        ops = [dist.P2POp(dist.isend, send, (self.rank + 1) % self.world),
               dist.P2POp(dist.irecv, recv, (self.rank - 1) % self.world)]
        for op in dist.batch_isend_irecv(ops):
            op.wait()
        return recv.to(t.device)


def shard(t, comm):
    n = TOKENS // comm.world
    return t[:, comm.rank * n:(comm.rank + 1) * n].contiguous()


def ulysses(q, k, v, comm, threshold):
    """q, k, v: this process's tokens, all heads. Returns its tokens' output."""
    h = HEADS // comm.world
    def to_heads(t):  # [B, S/W, H, D] -> [B, S, H/W, D]
        return torch.cat(comm.all_to_all([t[:, :, i * h:(i + 1) * h] for i in range(comm.world)]), dim=1)
    out = spattn.torch_attention(to_heads(q), to_heads(k), to_heads(v), threshold_scale_factor=threshold)
    n = TOKENS // comm.world
    back = comm.all_to_all([out[:, i * n:(i + 1) * n] for i in range(comm.world)])
    return torch.cat(back, dim=2)  # [B, S/W, H, D]


def ring(q, k, v, comm, threshold, counters):
    """q: this process's tokens; k, v: its key shard, passed around the ring."""
    parts, lses = [], []
    for step in range(comm.world):
        lse = torch.empty(BATCH, HEADS, q.shape[1], dtype=torch.float32, device=q.device)
        parts.append(spattn.torch_attention(q, k, v, threshold_scale_factor=threshold, lse=lse,
                                            skip_seqlen_kv=TOKENS, tile_counters=counters))
        lses.append(lse)
        if step + 1 < comm.world:
            k, v = comm.ring_pass(k), comm.ring_pass(v)
    return spattn.torch_merge(parts, lses)


def rel_err(a, b):
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


def run(rank, world, nccl, seed, results):
    torch.cuda.set_device(rank if nccl else 0)
    comm = Comm(nccl)
    device = torch.device("cuda", rank if nccl else 0)
    q, k, v = (t.to(device, torch.bfloat16) for t in layer_inputs(seed))
    failures = []
    for name, threshold in (("dense", 0.0), ("skip", THRESHOLD)):
        counters_one = torch.zeros(2, dtype=torch.int64, device=device)
        one_gpu = shard(spattn.torch_attention(q, k, v, threshold_scale_factor=threshold,
                                               tile_counters=counters_one), comm)
        u = ulysses(shard(q, comm), shard(k, comm), shard(v, comm), comm, threshold)
        counters_ring = torch.zeros(2, dtype=torch.int64, device=device)
        r = ring(shard(q, comm), shard(k, comm), shard(v, comm), comm, threshold, counters_ring)
        torch.cuda.synchronize()
        line = (f"rank {rank} {name}: Ulysses rel.err {rel_err(u, one_gpu):.2e} "
                f"(bitwise {torch.equal(u, one_gpu)}), ring rel.err {rel_err(r, one_gpu):.2e}")
        if threshold > 0:
            dense = shard(spattn.torch_attention(q, k, v), comm)
            skipped_one = counters_one[1].item() / max(counters_one[0].item(), 1)
            skipped_ring = counters_ring[1].item() / max(counters_ring[0].item(), 1)
            line += (f"; skipped tiles: one GPU {skipped_one:.2f}, ring {skipped_ring:.2f}; "
                     f"vs dense: one GPU {rel_err(one_gpu, dense):.2e}, ring {rel_err(r, dense):.2e}")
        print(line, flush=True)
        if not torch.equal(u, one_gpu):
            failures.append(f"{name}: Ulysses differs from one GPU")
        if threshold == 0 and rel_err(r, one_gpu) >= 1e-2:
            failures.append(f"{name}: ring rel.err {rel_err(r, one_gpu):.2e} >= 1e-2")
        if threshold > 0 and rel_err(r, one_gpu) >= 5e-2:
            failures.append(f"{name}: ring rel.err {rel_err(r, one_gpu):.2e} beyond the documented difference")
    results[rank] = failures


def worker(rank, world, nccl, seed, port, results):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("nccl" if nccl else "gloo", rank=rank, world_size=world)
    try:
        run(rank, world, nccl, seed, results)
    finally:
        dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--world", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--port", type=int, default=29517)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("sequence_parallel.py: no CUDA device")
        return 1
    if "RANK" in os.environ:  # started by torchrun
        world, rank = int(os.environ["WORLD_SIZE"]), int(os.environ["RANK"])
        nccl = torch.cuda.device_count() >= world
        dist.init_process_group("nccl" if nccl else "gloo")
        results = {}
        run(rank, world, nccl, args.seed, results)
        dist.destroy_process_group()
        failures = results[rank]
    else:
        world = args.world
        nccl = torch.cuda.device_count() >= world
        print(f"{world} processes, {'NCCL, one GPU each' if nccl else 'gloo, all on GPU 0 (logic only)'}",
              flush=True)
        manager = torch.multiprocessing.Manager()
        results = manager.dict()
        torch.multiprocessing.spawn(worker, args=(world, nccl, args.seed, args.port, results), nprocs=world)
        failures = [f for r in range(world) for f in results.get(r, ["no result"])]
    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
