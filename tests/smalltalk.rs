//! Runs the Smalltalk tests baked into the image (the SUnit TestCases of
//! `pharo-export/Kernel-Tests`) through `zag test`, once normally, once
//! collecting garbage at every allocation, once with frequent old-space
//! collections, and with every method compiled by the JIT at its first
//! call (also under GC stress).

mod common;

use common::zag;

/// The numbers of a `zag test` run: its summary line's counts and the
/// assertions checked.
struct Summary {
    run: usize,
    passes: usize,
    assertions: usize,
}

fn number_before(text: &str, word: &str) -> Option<usize> {
    let end = text.find(word)?;
    text[..end].split_whitespace().last()?.parse().ok()
}

fn run_kernel_tests(options: &[&str]) -> (Summary, String) {
    let mut args = options.to_vec();
    args.extend(["--stats", "test", "Kernel-Tests"]);
    // Collecting at every allocation, or compiling every method first,
    // makes tests many times slower than SUnit's default time limit
    // (10 seconds a test) allows for.
    if !options.is_empty() {
        args.extend(["--time-limit", "600"]);
    }
    let out = zag(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "zag {} failed:\n{stdout}\n{stderr}",
        args.join(" ")
    );
    let line = stdout
        .lines()
        .find(|l| l.contains(" run, "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    let summary = Summary {
        run: number_before(line, " run,").expect("run count"),
        passes: number_before(line, " passes").expect("pass count"),
        assertions: number_before(&stdout, " assertions").expect("assertion count"),
    };
    assert!(
        line.ends_with("0 failures, 0 errors, 0 skipped"),
        "unexpected summary: {line}"
    );
    eprintln!(
        "Smalltalk tests ({}): {line}, {} assertions",
        options.join(" "),
        summary.assertions
    );
    (summary, stderr)
}

fn check(options: &[&str]) -> String {
    let (summary, stderr) = run_kernel_tests(options);
    assert!(summary.run >= 180, "only {} tests ran", summary.run);
    assert_eq!(summary.passes, summary.run);
    assert!(
        summary.assertions >= 1500,
        "only {} assertions",
        summary.assertions
    );
    stderr
}

#[test]
fn smalltalk_tests_pass() {
    check(&[]);
}

#[test]
fn smalltalk_tests_pass_under_gc_stress() {
    let stats = check(&["--gc-stress", "1"]);
    let scavenges = number_before(&stats, " scavenges").expect("statistics");
    assert!(scavenges > 10_000, "only {scavenges} scavenges");
}

#[test]
fn smalltalk_tests_pass_with_frequent_old_space_collections() {
    let stats = check(&["--gc-stress", "50", "--full-gc"]);
    let full = number_before(&stats, " old-space collections").expect("statistics");
    assert!(full > 100, "only {full} full collections");
}

#[test]
fn smalltalk_tests_pass_interpreted() {
    check(&["--no-jit"]);
}

#[test]
fn smalltalk_tests_pass_with_every_method_compiled_by_the_jit() {
    let stats = check(&["--jit-threshold", "0", "--jit-stats"]);
    let compiled = number_before(&stats, " methods (").expect("JIT statistics");
    assert!(compiled > 500, "only {compiled} methods compiled:\n{stats}");
    assert!(stats.contains(", 0 refused"), "{stats}");
}

#[test]
fn smalltalk_tests_pass_with_the_jit_under_gc_stress() {
    check(&["--jit-threshold", "0", "--gc-stress", "1"]);
}
