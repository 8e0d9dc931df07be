"""Measures bundle.age throughput (MB/s) and peak memory for encrypting and decrypting a large file.

Usage: python benchmarks/bench_age.py [--mb 200] [--log2-n 10] [--dir /tmp]
The plaintext comes from a generator-like source and the decrypted output goes to a hashing sink,
so the only large object is the ciphertext file on disk; peak Python memory (tracemalloc) and the
process's peak RSS show that memory does not grow with the file size. The scrypt cost is excluded
from the MB/s figures by using a small work factor; it is reported separately.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mirror_desktop.bundle import age

PASSPHRASE = "benchmark passphrase"


class PatternSource(io.RawIOBase):
    """`size` bytes of incompressible-looking data, produced block by block."""

    def __init__(self, size: int) -> None:
        self._left = size
        self._block = os.urandom(1 << 20)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        n = min(len(buffer), self._left, len(self._block))
        buffer[:n] = self._block[:n]
        self._left -= n
        return n


class HashSink(io.RawIOBase):
    """Keeps only a running hash of what is written."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[no-untyped-def, override]
        self.hash.update(data)
        self.size += len(data)
        return len(data)


def _peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200, help="plaintext size in MiB")
    parser.add_argument(
        "--log2-n", type=int, default=10, help="scrypt work factor for the run"
    )
    parser.add_argument("--dir", default=None, help="folder for the ciphertext file")
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="time without tracing"
    )
    args = parser.parse_args()
    size = args.mb * 1024 * 1024

    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python={platform.python_version()} os={platform.system()} {platform.release()}"
    )
    rss_before = _peak_rss_mb()

    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        sealed = Path(folder) / "bench.age"
        for label, trace in (("timed", False), ("traced", True)):
            if trace and args.no_tracemalloc:
                continue
            source = PatternSource(
                size
            )  # its 1 MiB block is made before tracing starts
            if trace:
                tracemalloc.start()
            start = time.perf_counter()
            with sealed.open("wb") as out:
                age.encrypt_stream(source, out, PASSPHRASE, log2_n=args.log2_n)
            enc_s = time.perf_counter() - start
            enc_peak = tracemalloc.get_traced_memory()[1] if trace else 0
            if trace:
                tracemalloc.reset_peak()
            sink = HashSink()
            start = time.perf_counter()
            with sealed.open("rb") as src:
                age.decrypt_stream(src, sink, PASSPHRASE)
            dec_s = time.perf_counter() - start
            dec_peak = tracemalloc.get_traced_memory()[1] if trace else 0
            if trace:
                tracemalloc.stop()
            assert sink.size == size
            mb = size / 1e6
            line = (
                f"[{label}] {args.mb} MiB: encrypt {mb / enc_s:7.1f} MB/s ({enc_s:.2f} s), "
                f"decrypt {mb / dec_s:7.1f} MB/s ({dec_s:.2f} s)"
            )
            if trace:
                line += (
                    f"; tracemalloc peak encrypt {enc_peak / 1024:.0f} KiB, "
                    f"decrypt {dec_peak / 1024:.0f} KiB"
                )
            print(line)
        print(
            f"ciphertext size: {sealed.stat().st_size} bytes (overhead "
            f"{sealed.stat().st_size - size} bytes)"
        )

    print(f"peak RSS: {_peak_rss_mb():.1f} MiB (before the runs: {rss_before:.1f} MiB)")
    start = time.perf_counter()
    chosen = age.calibrate_log2_n()
    print(
        f"calibrate_log2_n() -> {chosen} ({time.perf_counter() - start:.2f} s to calibrate)"
    )
    start = time.perf_counter()
    age._scrypt(PASSPHRASE.encode(), b"\0" * 16, chosen)
    print(f"one scrypt at log2 N = {chosen}: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
