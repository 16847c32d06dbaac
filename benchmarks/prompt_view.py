"""The Prompt view streaming a continuation, against ``rnntui generate`` for the same text, and the keys meanwhile.

    python benchmarks/prompt_view.py [--rounds 7] [--num-chars 1000] [--checkpoint assets/recorded/lstm/checkpoint.pt]

Each round runs the headless CLI as a user runs it (a fresh ``rnntui generate`` process: start-up, torch,
the checkpoint, 1,000 characters; its wall time), then a fresh app (``App.run_test`` at 120x40, the same
checkpoint chosen in the Prompt view, every frame encoded into terminal codes as a terminal needs it)
where the prompt is typed and Enter posted as the terminal driver posts it. The app's figure is the time
from that Enter to the first frame that shows the whole continuation (the view's worker iterates
``stream`` and posts the tokens in batches; each batch is a frame). CLI and app alternate (CLI, app, CLI,
..., CLI) and each app round is compared with the mean of the CLI rounds around it; medians are printed.
For reference it also times the same ``generate()`` call warm in this process (the model's own work).

While the continuation streams, letters of the next prompt are typed into the prompt line one every
``--key-gap`` seconds; each one's latency is the time from its key event to the first frame that shows it
in the line (p50/p95/max over all rounds). The app's text must equal the CLI's (the same seed and
settings): the benchmark stops if it does not.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from frames import percentile, watch_frames

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CHECKPOINT = REPO / "assets" / "recorded" / "lstm" / "checkpoint.pt"
PROMPT = "time traveller"
SETTINGS = {"strategy": "top-p", "temperature": 0.8, "top_k": 10, "top_p": 0.9, "seed": 1}
LETTERS = "the quick brown fox jumps over the lazy dog "


def cli_round(checkpoint: Path, num_chars: int) -> tuple[float, str]:
    """Wall seconds of a fresh ``rnntui generate`` process and the text it printed."""
    args = [sys.executable, "-m", "rnntui", "generate", "--checkpoint", str(checkpoint), "--prefix", PROMPT,
            "--num-chars", str(num_chars), "--strategy", SETTINGS["strategy"],
            "--temperature", str(SETTINGS["temperature"]), "--top-k", str(SETTINGS["top_k"]),
            "--top-p", str(SETTINGS["top_p"]), "--seed", str(SETTINGS["seed"])]
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=True, cwd=REPO)
    return time.perf_counter() - start, done.stdout.rstrip("\n")


def in_process(checkpoint: Path, num_chars: int, repeats: int = 3) -> float:
    """Median seconds of the same ``generate()`` warm in this process (what the model itself costs)."""
    import torch

    from rnntui.decoding.generate import generate
    from rnntui.decoding.sampling import DecodeConfig
    from rnntui.training.checkpoint import load_checkpoint

    ckpt = load_checkpoint(checkpoint)
    decode = DecodeConfig(SETTINGS["strategy"], SETTINGS["temperature"], SETTINGS["top_k"], SETTINGS["top_p"])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        generate(ckpt.model, ckpt.vocab, PROMPT, num_chars, ckpt.token, decode,
                 torch.Generator().manual_seed(SETTINGS["seed"]))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def shown_entry(view) -> tuple[int, bool, str]:
    """The tokens the last entry shows, whether it is done, and the prompt line's text."""
    entry = view.entries.get(view._request) if view.entries else None
    return (len(entry.pieces) if entry is not None else 0, entry is not None and entry.status != "generating",
            view.input.value)


async def app_round(checkpoint: Path, num_chars: int, runs: Path, key_gap: float):
    """(seconds from Enter to the frame with the whole continuation, the continuation, key latencies in ms)."""
    from textual import events

    from rnntui.cli import freeze_heap
    from rnntui.tui.app import RnntuiApp
    from rnntui.tui.model_choice import ModelChoice

    app = RnntuiApp(preset="lstm", device="cpu", runs_dir=runs, when_warm=freeze_heap)
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.warm:
            await asyncio.sleep(0.05)
        app.model_choice = ModelChoice("file", checkpoint)
        await pilot.press("5")
        view = app.view("prompt")
        while view.model is None or view.model.path != checkpoint.resolve():
            await asyncio.sleep(0.05)
        view.settings = type(view.settings)(length=num_chars, **SETTINGS)
        await pilot.press("enter", *PROMPT)  # to the prompt line, and the prompt typed
        await pilot.pause(0.3)
        frames = watch_frames(app, lambda: shown_entry(view))
        start = time.perf_counter()
        app.post_message(events.Key("enter", None))  # as the terminal driver delivers it
        latencies: list[float] = []
        typed = ""
        while not any(done for _, _, done, _ in frames):
            await asyncio.sleep(key_gap)
            if any(done for _, _, done, _ in frames) or view._active is None:
                break
            letter = LETTERS[len(typed) % len(LETTERS)]
            want = typed + letter
            mark = len(frames)
            pressed = time.perf_counter()
            app.post_message(events.Key(letter, letter))
            while not any(value == want for _, _, _, value in frames[mark:]):
                await asyncio.sleep(0.001)
            shown_at, _, done, _ = next(frame for frame in frames[mark:] if frame[3] == want)
            if not done:  # (a key whose frame came after the last token's does not count)
                latencies.append((shown_at - pressed) * 1000)
            typed = want
        while not any(done for _, _, done, _ in frames):
            await asyncio.sleep(0.005)
        end = next(t for t, _, done, _ in frames if done)
        entry = view.entries[view._request]
        assert entry.status == "done" and len(entry.pieces) == num_chars, entry.status
        await pilot.press("q")
    return end - start, entry.continuation, latencies, len(entry.batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--num-chars", type=int, default=1000)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--key-gap", type=float, default=0.03, help="seconds between the letters typed (default 0.03)")
    args = parser.parse_args()
    checkpoint = args.checkpoint.resolve()
    if not checkpoint.is_file():
        sys.exit(f"no checkpoint {checkpoint}: python assets/screenshots.py --record lstm")
    warm = in_process(checkpoint, args.num_chars)
    cli_times, app_times, keys, batches = [], [], [], []
    seconds, cli_text = cli_round(checkpoint, args.num_chars)
    cli_times.append(seconds)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            seconds, continuation, latencies, n_batches = asyncio.run(
                app_round(checkpoint, args.num_chars, Path(tmp) / f"runs-{i}", args.key_gap))
            if PROMPT + continuation != cli_text:
                sys.exit("the app's continuation differs from rnntui generate's with the same seed and settings")
            app_times.append(seconds)
            keys += latencies
            batches.append(n_batches)
            seconds, _ = cli_round(checkpoint, args.num_chars)
            cli_times.append(seconds)
    ratios = [a / ((before + after) / 2) for a, before, after in zip(app_times, cli_times, cli_times[1:])]
    print(f"{args.num_chars} characters from {checkpoint.relative_to(REPO) if checkpoint.is_relative_to(REPO) else checkpoint}, "
          f"prompt {PROMPT!r}, {SETTINGS}, {args.rounds} rounds")
    print(f"  rnntui generate (fresh process)  median {statistics.median(cli_times):.3f} s "
          f"(rounds {', '.join(f'{t:.2f}' for t in cli_times)})")
    print(f"  Prompt view, Enter -> last token's frame  median {statistics.median(app_times):.3f} s "
          f"(rounds {', '.join(f'{t:.2f}' for t in app_times)}); {statistics.median(batches):.0f} repaints a round")
    print(f"  app / CLI  median of the rounds' ratios {statistics.median(ratios):.3f} "
          f"(max {max(ratios):.3f}; limit 2)")
    print(f"  generate() warm in this process  median {warm:.3f} s (the model's own work; app / it "
          f"{statistics.median(app_times) / warm:.2f})")
    if keys:
        print(f"  key -> frame while streaming: p50 {percentile(keys, 0.5):.1f} ms, p95 {percentile(keys, 0.95):.1f} ms, "
              f"max {max(keys):.1f} ms (n={len(keys)}; limit p95 100 ms)")
    print("  the app's text equals rnntui generate's in every round")


if __name__ == "__main__":
    main()
