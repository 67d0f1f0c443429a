"""Test model for evaluations run by teams of ranks (--ranks-per-eval).

Usage: team.py [--gloo] [--crash-rank R] [--hang-rank R] [--kill-rank R]
               [--steps N] [--step-sleep S] PARAMS_JSON

Every process writes env.json in its working directory: its distributed
environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
MASTER_PORT, CUDA_VISIBLE_DEVICES), its cwd and pid. With --gloo the processes
meet over torch.distributed (gloo, env://) and all-reduce their ranks; rank 0
prints "ALLREDUCE <sum>". The process of RANK R exits 1 (--crash-rank), sleeps
forever (--hang-rank) or kills itself with SIGKILL (--kill-rank) before the
meeting. With --steps N rank 0 reports IMPROVE_INTERMEDIATE for steps 1..N
(a curve falling to the objective) and every rank prints DONE at the end.
Only rank 0 prints IMPROVE_RESULT: (x - 3)^2 for the parameter x.
"""
import argparse
import datetime
import json
import os
import signal
import sys
import time

ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
       "MASTER_PORT", "CUDA_VISIBLE_DEVICES")


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--gloo", action="store_true")
    ap.add_argument("--crash-rank", type=int, default=-1)
    ap.add_argument("--hang-rank", type=int, default=-1)
    ap.add_argument("--kill-rank", type=int, default=-1)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--step-sleep", type=float, default=0.0)
    ap.add_argument("params")
    args = ap.parse_args(argv[1:])
    with open(args.params, encoding="utf-8") as f:
        params = json.load(f)
    rank = int(os.environ.get("RANK", "0"))
    # written whole or not at all: a process ended while writing leaves no file
    with open("env.json.tmp", "w", encoding="utf-8") as f:
        json.dump({"env": {k: os.environ.get(k) for k in ENV}, "cwd": os.getcwd(),
                   "pid": os.getpid(), "params": params}, f)
    os.replace("env.json.tmp", "env.json")
    print(f"rank {rank} of {os.environ.get('WORLD_SIZE')}", flush=True)
    if rank == args.crash_rank:
        print("crashing on purpose", flush=True)
        sys.exit(1)
    if rank == args.kill_rank:
        os.kill(os.getpid(), signal.SIGKILL)
    if rank == args.hang_rank:
        while True:
            time.sleep(60)
    if args.gloo:
        import torch
        import torch.distributed as dist
        dist.init_process_group("gloo", init_method="env://",
                                timeout=datetime.timedelta(seconds=600))
        total = torch.tensor([float(rank)])
        dist.all_reduce(total)
        if rank == 0:
            print("ALLREDUCE %d" % int(total.item()), flush=True)
        dist.destroy_process_group()
    objective = (float(params["x"]) - 3.0) ** 2
    for step in range(1, args.steps + 1):
        time.sleep(args.step_sleep)
        if rank == 0:
            print("IMPROVE_INTERMEDIATE %d %r" % (step, objective + 10.0 / step),
                  flush=True)
    if args.steps:
        print("DONE", flush=True)
    if rank == 0:
        print("IMPROVE_RESULT %r" % objective, flush=True)


if __name__ == "__main__":
    main(sys.argv)
