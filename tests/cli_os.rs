//! The outside world from Smalltalk: a `zag run` script as a Unix
//! filter on standard input and output, files written, read back and
//! deleted, environment variables, and the local time zone (under fixed
//! POSIX `TZ` rules, which need no zone files).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use common::zag;

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .display()
        .to_string()
}

/// Runs zag with `args`, `input` on its standard input and `env` set.
fn zag_with(args: &[&str], input: &str, env: &[(&str, &str)]) -> (String, String, bool) {
    let mut child = common::piped_zag(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .spawn()
        .expect("zag runs");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .expect("zag reads its input");
    let out = child.wait_with_output().expect("zag ends");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

#[test]
fn a_script_is_a_unix_filter() {
    let (stdout, stderr, ok) = zag_with(&["run", &example("sort.st")], "b\na\n", &[]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "a\nb\n");
    // No final line end, Windows line ends, non-ASCII text.
    let (stdout, _, ok) = zag_with(&["run", &example("sort.st")], "λ\r\nb\r\nä", &[]);
    assert!(ok);
    assert_eq!(stdout, "b\nä\nλ\n");
}

#[test]
fn standard_streams_read_everything_and_write_to_stderr() {
    let program = "| all | all := Stdio stdin upToEnd. \
        Stdio stderr nextPutAll: 'to stderr'; lf. \
        Stdio stdout nextPutAll: all size printString; lf. \
        Stdio stdin atEnd";
    let (stdout, stderr, ok) = zag_with(&["eval", program], "12345\n", &[]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "6\ntrue\n");
    assert_eq!(stderr, "to stderr\n");
}

#[test]
fn a_script_writes_reads_back_and_deletes_a_file() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let (stdout, stderr, ok) = zag_with(
        &["run", &example("files.st")],
        "",
        &[("TMPDIR", &dir.display().to_string())],
    );
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "Grüße, λ\n12 bytes\nstill there: false\n");
    assert!(!dir.join("zag-example.txt").exists());
}

#[test]
fn file_errors_are_smalltalk_exceptions() {
    let out = zag(&["eval", "'/no/such/file' asFileReference contents"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("FileDoesNotExistException: File @ /no/such/file\n"),
        "{stderr}"
    );
    let out = zag(&[
        "eval",
        "['/no/such/file' asFileReference delete] on: FileDoesNotExistException do: [:e | e reference basename]",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "'file'\n");
}

#[test]
fn environment_variables() {
    let (stdout, _, ok) = zag_with(
        &[
            "eval",
            "Smalltalk os environment at: 'ZAG_TEST_VARIABLE' ifAbsent: [nil]",
        ],
        "",
        &[("ZAG_TEST_VARIABLE", "héllo")],
    );
    assert!(ok);
    assert_eq!(stdout, "'héllo'\n");
}

#[test]
fn local_time_follows_tz() {
    let program = "| t | t := DateAndTime year: 2026 month: 7 day: 1 hour: 12 minute: 0 second: 0. \
        { t printString. (DateAndTime year: 2026 month: 12 day: 1 hour: 12 minute: 0 second: 0) printString. \
          t asUTC printString. (DateAndTime fromUnixTime: 0) printString. \
          DateAndTime now offset printString. \
          (DateAndTime now asUTC asDate subtractDate: Date today) abs <= 1 }";
    // US Eastern rules: daylight saving time from March to November.
    let (stdout, stderr, ok) =
        zag_with(&["eval", program], "", &[("TZ", "EST5EDT,M3.2.0,M11.1.0")]);
    assert!(ok, "{stderr}");
    let now_offset = stdout.split(' ').nth(4).unwrap_or_default().to_string();
    assert!(
        stdout.starts_with(
            "#('2026-07-01T12:00:00-04:00' '2026-12-01T12:00:00-05:00' \
             '2026-07-01T16:00:00+00:00' '1969-12-31T19:00:00-05:00' "
        ),
        "{stdout}"
    );
    assert!(
        ["'-0:04:00:00'", "'-0:05:00:00'"].contains(&now_offset.as_str()),
        "{stdout}"
    );
    // A zone half an hour off, with no daylight saving time.
    let (stdout, _, ok) = zag_with(
        &[
            "eval",
            "(DateAndTime fromUnixTime: 0) printString, ' ', DateAndTime now offset printString",
        ],
        "",
        &[("TZ", "IST-5:30")],
    );
    assert!(ok);
    assert_eq!(stdout, "'1970-01-01T05:30:00+05:30 0:05:30:00'\n");
}
