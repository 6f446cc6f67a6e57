"""Prompt reading and generation speed with 1 and 2 model threads, quiet and beside CPU hogs.

Why the local backend uses only the cores a busy machine leaves free (backends/local/cpu_share.py):
llama.cpp's threads wait for each other after every layer, so one thread without a core stalls
all. ``--hogs N`` runs N busy-loop processes (ended when the run ends). Example::

    .venv/bin/python benchmarks/threads_under_load.py --hogs 0
    .venv/bin/python benchmarks/threads_under_load.py --hogs 2
"""

from __future__ import annotations

import argparse
import inspect
import subprocess
import sys
import textwrap
import time


def measure(threads: int) -> tuple[float, float]:
    import llama_cpp

    from codestral_ls.model_files import ensure_default_model

    llm = llama_cpp.Llama(
        model_path=str(ensure_default_model()),
        n_ctx=2048,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    tokens = llm.tokenize(inspect.getsource(textwrap).encode(), add_bos=True, special=True)[:128]
    llm.eval(tokens[:8])  # pages the weights in
    llm.reset()
    began = time.monotonic()
    llm.eval(tokens)
    read = len(tokens) / (time.monotonic() - began)
    began = time.monotonic()
    made = sum(1 for _ in llm.create_completion(tokens, max_tokens=16, temperature=0, stream=True))
    generate = made / (time.monotonic() - began)
    llm.close()
    return read, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hogs", type=int, default=2, help="busy-loop processes beside it")
    args = parser.parse_args()
    hogs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import time\nend = time.time() + 120\nwhile time.time() < end: pass",
            ]
        )
        for _ in range(args.hogs)
    ]
    try:
        for threads in (2, 1):
            read, generate = measure(threads)
            print(
                f"hogs={args.hogs} threads={threads}: "
                f"read {read:.0f} tok/s, generate {generate:.1f} tok/s"
            )
    finally:
        for hog in hogs:
            hog.kill()


if __name__ == "__main__":
    main()
