//! The Are We Fast Yet benchmarks, unmodified from ../shared/awfy, run
//! through AWFY's own run.st: each must run and verify its result (the
//! harness signals an error otherwise), normally and under GC stress.
//! Skipped, with a message, when ../shared is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

const BENCHMARKS: [&str; 12] = [
    "Bounce",
    "List",
    "Mandelbrot",
    "NBody",
    "Permute",
    "Queens",
    "Sieve",
    "Storage",
    "Towers",
    "DeltaBlue",
    "Json",
    "Richards",
];

fn awfy() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/awfy");
    if dir.join("run.st").is_file() {
        return Some(dir);
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {} is absent (it comes with ../shared)",
        dir.display()
    );
    None
}

fn run_all(extra: &[&str]) {
    let Some(dir) = awfy() else { return };
    for benchmark in BENCHMARKS {
        let mut args: Vec<&str> = extra.to_vec();
        let load = dir.to_str().unwrap();
        let script = dir.join("run.st");
        args.extend([
            "--load",
            load,
            "run",
            script.to_str().unwrap(),
            benchmark,
            "1",
            "1",
        ]);
        let out = Command::new(env!("CARGO_BIN_EXE_zag"))
            .args(&args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{benchmark} {extra:?}: {stdout}{stderr}"
        );
        assert!(
            stdout.contains(&format!("{benchmark}: iterations=1 runtime: ")),
            "{benchmark}: {stdout}{stderr}"
        );
        assert!(stdout.contains("Total Runtime: "), "{benchmark}: {stdout}");
    }
}

#[test]
fn all_twelve_benchmarks_run_and_verify() {
    run_all(&[]);
}

#[test]
fn all_twelve_benchmarks_run_and_verify_under_gc_stress() {
    run_all(&["--gc-stress", "1"]);
}

#[test]
fn all_twelve_benchmarks_run_and_verify_interpreted() {
    run_all(&["--no-jit"]);
}

#[test]
fn all_twelve_benchmarks_run_and_verify_with_every_method_compiled() {
    run_all(&["--jit-threshold", "0"]);
}

#[test]
fn all_twelve_benchmarks_run_and_verify_with_the_jit_under_gc_stress() {
    run_all(&["--jit-threshold", "0", "--gc-stress", "1"]);
}
