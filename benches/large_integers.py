#!/usr/bin/env python3
"""LargeInteger arithmetic in zag against Python's int, on the same machine.

For numbers of 10^3..10^6 decimal digits (a = 77...7), times parsing
(`asNumber` / `int()`), multiplication (a * a), division (a*a // (a + 12345))
and printing (`printString` / `str()`) of the product, the median of a few
runs each, and prints a Markdown table.

    python3 benches/large_integers.py [path/to/zag] [--runs N]

Build first: `cargo build --release`. Python's digit limit for str()/int()
is lifted (sys.set_int_max_str_digits(0)).
"""
import statistics
import subprocess
import sys
import time

SIZES = [1_000, 10_000, 100_000, 1_000_000]
OPERATIONS = ["parse", "multiply", "divide", "print"]

SMALLTALK = """| s a b p t |
s := String new: {digits} withAll: $7.
t := OrderedCollection new.
t add: (Time microsecondsToRun: [ a := s asNumber ]).
b := a + 12345.
t add: (Time microsecondsToRun: [ p := a * a ]).
t add: (Time microsecondsToRun: [ p // b ]).
t add: (Time microsecondsToRun: [ p printString ]).
(t inject: '' into: [ :acc :each | acc , each printString , ' ' ])"""


def zag_times(zag, digits):
    out = subprocess.run(
        [zag, "eval", SMALLTALK.format(digits=digits)],
        check=True, capture_output=True, text=True,
    ).stdout
    return [int(x) / 1e6 for x in out.strip().strip("'").split()]


def python_times(digits):
    s = "7" * digits
    times = []
    start = time.perf_counter(); a = int(s); times.append(time.perf_counter() - start)
    b = a + 12345
    start = time.perf_counter(); p = a * a; times.append(time.perf_counter() - start)
    start = time.perf_counter(); p // b; times.append(time.perf_counter() - start)
    start = time.perf_counter(); str(p); times.append(time.perf_counter() - start)
    return times


def median_of(runs, measure):
    samples = [measure() for _ in range(runs)]
    return [statistics.median(column) for column in zip(*samples)]


def seconds(t):
    return f"{t * 1000:.2f} ms" if t < 1 else f"{t:.2f} s"


def main():
    args = sys.argv[1:]
    runs = 3
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    zag = args[0] if args else "target/release/zag"
    sys.set_int_max_str_digits(0)
    print("| digits | operation | zag | Python int | zag / Python |")
    print("|---:|---|---:|---:|---:|")
    for digits in SIZES:
        ours = median_of(runs, lambda: zag_times(zag, digits))
        theirs = median_of(runs, lambda: python_times(digits))
        for op, z, p in zip(OPERATIONS, ours, theirs):
            ratio = z / p if p > 0 else float("nan")
            print(f"| {digits:,} | {op} | {seconds(z)} | {seconds(p)} | {ratio:.2f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
