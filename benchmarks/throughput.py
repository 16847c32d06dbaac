"""Training throughput: rnntui's trainer against a bare PyTorch loop, and scratch cells against torch.nn.

    RNNTUI_DATA_DIR=../shared/data python benchmarks/throughput.py [--steps 60] [--rounds 5] [--device cpu]

Part 1 trains the same model (one-hot characters of The Time Machine, nn.LSTM with 256 hidden units,
a linear output layer, SGD lr 1, clipping at norm 1, sequential batches of 32 x 35 with the state
carried and detached) with ``rnntui.training.Trainer`` and with a hand-written loop, in this process,
alternating, and prints tokens/s of each and the ratio (median over rounds).

Part 1b times the same trainer with and without the per-group gradient norms it logs every
``train.grad_norms_every`` steps.

Part 2 trains the language model of each kind (RNN, GRU, LSTM) with the scratch cell and with its
torch.nn twin through the same trainer, and times the cells alone (forward + backward of a 35-step
batch), printing scratch/torch ratios. Ratios, not absolute times, are what to compare: the machine
is shared.
"""

from __future__ import annotations

import argparse
import warnings
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from rnntui.config import ExperimentConfig
from rnntui.data.batches import seq_data_iter_sequential
from rnntui.models.scratch import ScratchRNN
from rnntui.training.experiment import prepare


def lm_config(kind: str, impl: str, hidden: int, device: str) -> ExperimentConfig:
    return ExperimentConfig(name="bench").replace(
        model={"kind": kind, "impl": impl, "num_hiddens": hidden},
        train={"epochs": 1000, "lr": 1.0, "clip": 1.0, "device": device, "seed": 0},
        sample={"num_tokens": 0},
    )


def time_trainer(config: ExperimentConfig, steps: int) -> float:
    """Tokens/s of ``steps`` training steps through rnntui's Trainer (events, clipping, everything)."""
    experiment = prepare(config)
    seen = 0

    def count(event) -> None:
        nonlocal seen
        seen += event.kind == "step"

    experiment.trainer.callbacks.append(count)
    sync = torch.cuda.synchronize if experiment.device.type == "cuda" else (lambda: None)
    # warm-up (allocator, oneDNN primitives), then the timed run
    experiment.trainer.fit(should_stop=lambda: seen >= 3)
    seen = 0
    sync()
    start = time.perf_counter()
    experiment.trainer.fit(should_stop=lambda: seen >= steps)
    sync()
    d = config.data
    return steps * d.batch_size * d.num_steps / (time.perf_counter() - start)


def time_bare_loop(config: ExperimentConfig, steps: int) -> float:
    """The same model and data in a plain loop, as one would write it by hand."""
    experiment = prepare(config)  # only for the data (same corpus, same vocab)
    device = experiment.device
    train_ids = experiment.corpus.train_ids.to(device)
    V, d = len(experiment.corpus.vocab), config.data
    torch.manual_seed(0)
    rnn = nn.LSTM(V, config.model.num_hiddens).to(device)
    head = nn.Linear(config.model.num_hiddens, V).to(device)
    params = [*rnn.parameters(), *head.parameters()]
    opt = torch.optim.SGD(params, lr=config.train.lr)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def run(n: int) -> None:
        state, done = None, 0
        while done < n:
            for X, Y in seq_data_iter_sequential(train_ids, d.batch_size, d.num_steps):
                if state is not None:
                    state = (state[0].detach(), state[1].detach())
                out, state = rnn(F.one_hot(X.T, V).float(), state)
                loss = F.cross_entropy(head(out).reshape(-1, V), Y.T.reshape(-1))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, config.train.clip)
                opt.step()
                loss.item()  # the loss is logged every step, as in d2l
                done += 1
                if done >= n:
                    return

    run(3)
    sync()
    start = time.perf_counter()
    run(steps)
    sync()
    return steps * d.batch_size * d.num_steps / (time.perf_counter() - start)


def time_cell(cell: nn.Module, X: torch.Tensor, reps: int) -> float:
    """Seconds per forward + backward of one batch through the cell alone."""
    def once() -> None:
        out, _ = cell(X)
        out.sum().backward()

    for _ in range(3):
        once()
    start = time.perf_counter()
    for _ in range(reps):
        once()
    return (time.perf_counter() - start) / reps


def main() -> None:
    warnings.filterwarnings("ignore", message=".*TF32.*")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="training steps per timed run")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (median reported)")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-cells", action="store_true")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")

    config = lm_config("lstm", "torch", args.hidden, args.device)
    ours, bare = [], []
    for _ in range(args.rounds):
        ours.append(time_trainer(config, args.steps))
        bare.append(time_bare_loop(config, args.steps))
    o, b = statistics.median(ours), statistics.median(bare)
    print(f"\n[1] LSTM {args.hidden} hidden, batch 32 x 35 steps, SGD + clipping, {args.steps} steps x {args.rounds} rounds")
    print(f"    bare PyTorch loop   {b:>10,.0f} tokens/s")
    print(f"    rnntui Trainer      {o:>10,.0f} tokens/s")
    print(f"    ratio trainer/bare  {o / b:10.3f}   (rounds: {', '.join(f'{x / y:.3f}' for x, y in zip(ours, bare))})")

    # the per-group gradient norms (one "grads" event every train.grad_norms_every steps): what they cost
    off = config.replace(train={"grad_norms_every": 0})
    every = config.train.grad_norms_every
    on_speeds, off_speeds = [], []
    for _ in range(args.rounds):
        on_speeds.append(time_trainer(config, args.steps))
        off_speeds.append(time_trainer(off, args.steps))
    ratios = [x / y for x, y in zip(on_speeds, off_speeds)]
    print(f"\n[1b] the same trainer with per-group gradient norms every {every} steps against none")
    print(f"    none                {statistics.median(off_speeds):>10,.0f} tokens/s")
    print(f"    every {every:<3}          {statistics.median(on_speeds):>10,.0f} tokens/s")
    print(f"    ratio               {statistics.median(ratios):10.3f}   (rounds: {', '.join(f'{r:.3f}' for r in ratios)})")

    if args.device.startswith("cuda"):
        graphs_vs_eager(args)
    if args.skip_cells:
        return
    print("\n[2] scratch cell vs torch.nn twin (same trainer, LM training tokens/s; and the cell alone, fwd+bwd)")
    V = len(prepare(config).corpus.vocab)
    for kind in ("rnn", "gru", "lstm"):
        scratch, twin = [], []
        for _ in range(args.rounds):
            scratch.append(time_trainer(lm_config(kind, "scratch", args.hidden, args.device), args.steps))
            twin.append(time_trainer(lm_config(kind, "torch", args.hidden, args.device), args.steps))
        s, t = statistics.median(scratch), statistics.median(twin)
        X = torch.randn(35, 32, V, device=args.device)
        twin_cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[kind]
        cell, twin_cell = ScratchRNN(kind, V, args.hidden).to(args.device), twin_cls(V, args.hidden).to(args.device)
        alone, native = [], []
        for _ in range(args.rounds):
            s_time, t_time = time_cell(cell, X, 20), time_cell(twin_cell, X, 20)
            with torch.backends.mkldnn.flags(enabled=False):  # torch.nn's own op-by-op C++ path
                n_time = time_cell(twin_cell, X, 20)
            alone.append(t_time / s_time)
            native.append(n_time / s_time)
        print(f"    {kind.upper():<5} training: scratch {s:>9,.0f} tok/s, torch.nn {t:>9,.0f} tok/s, ratio {s / t:.3f}"
              f" | cell alone: ratio {statistics.median(alone):.3f}, "
              f"vs torch.nn without oneDNN {statistics.median(native):.3f}")

def graphs_vs_eager(args) -> None:
    """[3] On a GPU: each model with its training step replayed as a CUDA graph against eager, alternating;
    and the scratch cells (graphed) against cuDNN (graphed)."""
    print(f"\n[3] CUDA graphs against eager (train.cuda_graphs true / false), {args.steps} steps x {args.rounds} rounds")
    speeds: dict[tuple[str, str], float] = {}
    for impl in ("torch", "scratch"):
        for kind in ("rnn", "gru", "lstm"):
            config = lm_config(kind, impl, args.hidden, args.device)
            graph, eager = [], []
            for _ in range(args.rounds):
                graph.append(time_trainer(config.replace(train={"cuda_graphs": "true"}), args.steps))
                eager.append(time_trainer(config.replace(train={"cuda_graphs": "false"}), args.steps))
            g, e = statistics.median(graph), statistics.median(eager)
            speeds[kind, impl] = g
            print(f"    {kind.upper():<4} {impl:<7} eager {e:>10,.0f} tok/s, graph {g:>10,.0f} tok/s, ratio {g / e:.2f}")
    for kind in ("rnn", "gru", "lstm"):
        print(f"    {kind.upper():<4} scratch / cuDNN, both graphed: {speeds[kind, 'scratch'] / speeds[kind, 'torch']:.2f}")


if __name__ == "__main__":
    main()
