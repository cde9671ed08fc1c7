//! `zag test`: the summary, the defects with their reasons, the exit
//! status, and the selection of classes and packages.

mod common;

use std::path::Path;

use common::zag;

/// The README's example package of tests (`examples/my-tests`):
/// FooTest with a test that passes, one that fails, one that errs, one
/// skipped and an expected failure; BarTest with one that passes.
fn examples() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/my-tests")
        .display()
        .to_string()
}

#[test]
fn a_package_with_defects_prints_them_and_fails() {
    let dir = examples();
    let out = zag(&["--load", &dir, "test", "Foo-Tests"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(
        stdout,
        "Running 6 tests\n\
         6 run, 2 passes, 1 failures, 1 errors, 1 skipped, 1 expected failures\n\
         4 assertions in 0 ms\n\
         Failures:\n\
         FooTest>>#testBad: Got 7 instead of 8.\n\
         Errors:\n\
         FooTest>>#testError: MessageNotUnderstood: UndefinedObject>>foo\n"
            .replace("in 0 ms", &format!("in {} ms", milliseconds(&stdout)))
    );
}

/// The time the run took, as printed.
fn milliseconds(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.contains(" assertions in "))
        .unwrap();
    line.split_whitespace().nth(3).unwrap().to_string()
}

#[test]
fn a_passing_class_exits_zero() {
    let dir = examples();
    let out = zag(&["--load", &dir, "test", "BarTest"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("1 run, 1 passes, 0 failures, 0 errors, 0 skipped\n"));
}

#[test]
fn package_prefixes_select_packages() {
    let dir = examples();
    let out = zag(&["--load", &dir, "test", "Foo-*", "Kernel-Tests"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 failures, 1 errors"), "{stdout}");
    let run: usize = stdout
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(run > 60, "{stdout}");
}

#[test]
fn an_unknown_name_is_one_clear_error() {
    let out = zag(&["test", "Kernel-Tests", "NoSuchThing"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "zag test: no test class or package named NoSuchThing\n"
    );
    assert!(out.stdout.is_empty());
}

/// A test past its time limit fails with TestTookTooMuchTime; the limit
/// is SUnit's default unless --time-limit says otherwise.
#[test]
fn time_limits() {
    let dir = common::temp_tree(
        "cli_test_time_limit",
        &[
            (
                "Slow-Tests/package.st",
                "Package { #name : 'Slow-Tests' }\n",
            ),
            (
                "Slow-Tests/SlowTest.class.st",
                "Class { #name : 'SlowTest', #superclass : 'TestCase', #package : 'Slow-Tests' }\n\
                 SlowTest >> testSlow [ (Delay forMilliseconds: 1500) wait ]\n",
            ),
        ],
    );
    let dir = dir.to_str().unwrap();
    let out = zag(&["--load", dir, "test", "--time-limit", "1", "SlowTest"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("SlowTest>>#testSlow: TestTookTooMuchTime"),
        "{stdout}"
    );
    let out = zag(&["--load", dir, "test", "SlowTest"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
