//! `zag bench`: the bundled benchmarks (and AWFY's) run, verify, and are
//! reported as a table and as JSON.

mod common;
use common::zag;

use std::path::Path;

const BUNDLED: [&str; 6] = [
    "AllocationBenchmark",
    "ClosureBenchmark",
    "CollectionBenchmark",
    "FibBenchmark",
    "FloatBenchmark",
    "LoopBenchmark",
];

#[test]
fn bundled_benchmarks_run_verify_and_report() {
    let json = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench.json");
    let out = zag(&[
        "bench",
        "-n",
        "2",
        "--inner",
        "1",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Standard error is not a terminal: no progress line written over.
    assert!(!out.stderr.contains(&b'\r'));
    let table = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("benchmark")
            && lines[0].contains("median ms")
            && lines[0].contains("peak RSS")
    );
    for (line, name) in lines[1..].iter().zip(BUNDLED) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[..3], [name, "2", "1"], "{line}");
        let (median, min, max): (f64, f64, f64) = (
            fields[3].parse().unwrap(),
            fields[4].parse().unwrap(),
            fields[5].parse().unwrap(),
        );
        assert!(min <= median && median <= max, "{line}");
    }
    assert!(lines[7].starts_with("geometric mean"));
    let json = std::fs::read_to_string(json).unwrap();
    for name in BUNDLED {
        assert!(
            json.contains(&format!(
                "{{\"benchmark\": \"{name}\", \"inner\": 1, \"runs\": 2, \"median_ms\": "
            )),
            "{json}"
        );
    }
}

#[test]
fn unknown_benchmarks_are_errors() {
    let out = zag(&["bench", "NoSuchBenchmark"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NoSuchBenchmark: no such benchmark class")
    );
}

#[test]
fn awfy_benchmarks_run_under_bench() {
    let awfy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/awfy");
    if !awfy.is_dir() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: {} is absent (it comes with ../shared)",
            awfy.display()
        );
        return;
    }
    let out = zag(&[
        "--load",
        awfy.to_str().unwrap(),
        "bench",
        "Bounce",
        "Queens",
        "-n",
        "1",
        "--inner",
        "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("\nBounce ") && table.contains("\nQueens "),
        "{table}"
    );
}
