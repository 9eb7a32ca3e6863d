"""Does the time of a failed client authentication tell whether the client id exists?

DESIGN.md §4.1 and RFC 6749 §10.1 (the server authenticates its clients; nothing should
help an attacker confirm a guessed or leaked client id): an unknown client id must cost
what a known id with a wrong secret costs.  ``.venv/bin/python -m bench.client_timing``
starts ``anti-grazer serve`` (this venv's) on a fresh SQLite file on 127.0.0.1, pinned to
CPU 0, registers one client with ``anti-grazer clients create``, then sends, over one
keep-alive connection from CPU 1, interleaved ``POST /oauth/token`` requests with HTTP
Basic: an unknown client id, and the known id with a wrong secret (both 401; the order
within each pair is random).  It prints the medians and p90s in µs and writes
``bench/results/client-timing.md``.  Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from anti_grazer.protocol.tokens import generate_client_id, generate_client_secret
from bench.report import cpu_model, git_commit
from bench.runner import (
    HOST,
    LOAD_CPU,
    RESULTS_DIR,
    TOKEN_PATH,
    basic_credentials,
    create_client,
    database_env,
    form_headers,
    free_port,
    log,
    ours_server,
    running,
)

KINDS = ("unknown id", "known id, wrong secret")
BODY = "grant_type=client_credentials"
RESULTS_FILE = RESULTS_DIR / "client-timing.md"


def timed_request(connection: http.client.HTTPConnection, basic: str) -> int:
    """Nanoseconds from sending one token request to having read its whole answer, which
    must be the 401 of RFC 6749 §5.2 on a connection kept alive."""
    start = time.perf_counter_ns()
    connection.request("POST", TOKEN_PATH, body=BODY, headers=form_headers(basic))
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter_ns() - start
    if response.status != 401 or response.will_close:
        raise RuntimeError(f"expected a kept-alive 401, got {response.status}")
    return elapsed


def measure(
    port: int, basics: Sequence[str], pairs: int, warmup: int, seconds: float
) -> list[list[int]]:
    """``warmup`` pairs (discarded) then up to ``pairs`` pairs, stopping after ``seconds``;
    each pair sends one request of each kind, in random order."""
    samples: list[list[int]] = [[] for _ in basics]
    connection = http.client.HTTPConnection(HOST, port, timeout=5.0)
    deadline = time.monotonic() + seconds
    try:
        for number in range(warmup + pairs):
            if time.monotonic() > deadline:
                log(f"time is up after {max(0, number - warmup)} measured pairs")
                break
            order = random.sample(range(len(basics)), len(basics))
            for kind in order:
                elapsed = timed_request(connection, basics[kind])
                if number >= warmup:
                    samples[kind].append(elapsed)
    finally:
        connection.close()
    return samples


def percentile_us(values: Sequence[int], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] / 1000


def report(samples: Sequence[Sequence[int]], load: str) -> str:
    """The Markdown results: one row per kind, then the difference of the medians."""
    lines = [
        "# Client authentication timing: unknown id vs known id with a wrong secret",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {git_commit()}, {cpu_model()}, "
        f"load average before the run {load}. `python -m bench.client_timing`: one "
        "`anti-grazer serve` (default settings but the lockout off, SQLite) on CPU 0, one "
        "keep-alive "
        "connection from CPU 1, request pairs in random order, HTTP Basic, both 401.",
        "",
        "| request | n | median µs | p90 µs |",
        "|---|---|---|---|",
    ]
    medians = [statistics.median(values) / 1000 for values in samples]
    for kind, values, median in zip(KINDS, samples, medians, strict=True):
        lines.append(
            f"| {kind} | {len(values)} | {median:.0f} | {percentile_us(values, 0.9):.0f} |"
        )
    lines += ["", f"Unknown minus known median: {medians[0] - medians[1]:+.0f} µs.", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pairs", type=int, default=300, help="measured pairs (300)")
    parser.add_argument("--warmup", type=int, default=50, help="discarded pairs first (50)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop after (60)")
    options = parser.parse_args(argv)
    bin_dir = Path(sys.executable).parent  # this venv's anti-grazer
    load = " ".join(f"{average:.2f}" for average in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="client-timing-") as work:
        # The lockout off: it would answer 429 after a few failures, and every failure
        # here comes from one address.
        env = {**database_env(Path(work) / "timing.db"), "ANTI_GRAZER_LOCKOUT_FAILURES": "0"}
        client_id, _secret = create_client(env, "timing", bin_dir)
        wrong_secret = generate_client_secret()
        basics = [
            basic_credentials(generate_client_id(), wrong_secret),
            basic_credentials(client_id, wrong_secret),
        ]
        server = ours_server(free_port(), env, Path(work) / "serve.log", bin_dir)
        with running(server):
            os.sched_setaffinity(0, {LOAD_CPU})
            samples = measure(
                server.port, basics, options.pairs, options.warmup, options.max_seconds
            )
    text = report(samples, load)
    RESULTS_FILE.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
