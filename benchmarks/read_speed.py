"""How fast llama.cpp reads prompts and generates with the embedded model, per file and setting.

Rows: the file as published (Q4_K_M) and the server's Q8_0 copy (backends/local/cpu_copy.py),
each with flash attention off (llama-cpp-python's default) and on (the server's). Each row runs
in its own process, rows alternate over ``--rounds`` to spread the machine's drift, and the
figures are medians. Reading is timed on real code (this repository's engine.py).

    .venv/bin/python benchmarks/read_speed.py [--rounds 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "codestral_ls" / "engine.py").read_text()


def measure(path: str, flash_attn: bool, threads: int, tokens: int) -> dict[str, float]:
    """One row in this process: prompt reading and generation speed, tokens per second."""
    import llama_cpp

    llama = llama_cpp.Llama(
        path,
        n_ctx=4096,
        n_threads=threads,
        n_threads_batch=threads,
        flash_attn=flash_attn,
        verbose=False,
    )
    prompt = llama.tokenize(TEXT.encode())[:tokens]
    llama.eval(prompt[:32])  # warm-up: first-call allocations are not reading
    llama.reset()
    started = time.monotonic()
    llama.eval(prompt)
    read = len(prompt) / (time.monotonic() - started)
    # The prompt is read already (generate reuses it); time from the first token on.
    count, started = 0, 0.0
    for _ in llama.generate(prompt, reset=True, temp=0):
        count += 1
        if count == 1:
            started = time.monotonic()
        if count == 49:
            break
    generate = (count - 1) / (time.monotonic() - started)
    llama.close()
    return {"read": read, "generate": generate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=600, help="prompt tokens read per row")
    parser.add_argument("--row", help=argparse.SUPPRESS)  # internal: PATH,FLASH
    args = parser.parse_args()
    if args.row:
        path, flash = args.row.rsplit(",", 1)
        print(json.dumps(measure(path, flash == "1", args.threads, args.tokens)))
        return

    import llama_cpp

    from codestral_ls.backends.local.cpu_copy import cpu_copy
    from codestral_ls.model_files import ensure_default_model
    from codestral_ls.model_presets import DEFAULT_PRESET

    published = ensure_default_model()
    copy = cpu_copy(published, DEFAULT_PRESET, llama_cpp)
    rows = {
        "published Q4_K_M, flash attention off (before)": (published, "0"),
        "published Q4_K_M, flash attention on": (published, "1"),
        "Q8_0 copy, flash attention off": (copy, "0"),
        "Q8_0 copy, flash attention on (the server's default)": (copy, "1"),
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in rows}
    for _ in range(args.rounds):
        for name, (path, flash) in rows.items():
            row = ["--row", f"{path},{flash}", "--threads", str(args.threads)]
            out = subprocess.run(
                [sys.executable, __file__, *row, "--tokens", str(args.tokens)],
                capture_output=True,
                text=True,
                check=True,
            )
            results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    first = next(iter(results.values()))
    base_read = statistics.median(r["read"] for r in first)
    base_gen = statistics.median(r["generate"] for r in first)
    print(f"{args.tokens}-token prompt, {args.threads} threads, median of {args.rounds} rounds\n")
    print("| row | reads (tokens/s) | generates (tokens/s) |")
    print("| --- | --- | --- |")
    for name, runs in results.items():
        read = statistics.median(r["read"] for r in runs)
        gen = statistics.median(r["generate"] for r in runs)
        reads, gens = f"{read:.1f} ({read / base_read:.2f}x)", f"{gen:.1f} ({gen / base_gen:.2f}x)"
        print(f"| {name} | {reads} | {gens} |")


if __name__ == "__main__":
    main()
