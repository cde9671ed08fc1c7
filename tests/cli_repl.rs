//! `zag` with no command: the REPL, fed through a pipe, and `--version`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

fn repl(input: &str) -> (String, String, Option<i32>) {
    let mut child = common::piped_zag(&[])
        .env("HOME", env!("CARGO_TARGET_TMPDIR"))
        .stdin(Stdio::piped())
        .spawn()
        .expect("zag starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn each_input_prints_its_value() {
    let (stdout, stderr, status) = repl("3 + 4\n'it''s' , '!'\n#(3 1 2) sorted\n");
    assert_eq!(stdout, "7\n'it''s!'\n#(1 2 3)\n", "{stderr}");
    assert_eq!(status, Some(0));
}

#[test]
fn errors_are_not_fatal() {
    let (stdout, stderr, status) = repl("nil foo\n1/0\n3 factorial\n");
    assert_eq!(stdout, "6\n");
    assert!(
        stderr.starts_with("MessageNotUnderstood: UndefinedObject>>foo\n"),
        "{stderr}"
    );
    assert!(stderr.contains("ZeroDivide"), "{stderr}");
    assert_eq!(status, Some(0));
}

#[test]
fn open_brackets_continue_on_the_next_line_and_variables_persist() {
    let (stdout, stderr, _) = repl("total := 0.\n#(1 2 3) do: [ :each |\n  total := total + each ].\ntotal\n'two\nlines' size\n");
    assert_eq!(stdout, "0\n#(1 2 3)\n6\n9\n", "{stderr}");
}

/// Input that ends inside a string or a bracket is not dropped in
/// silence: its error is shown and the REPL fails.
#[test]
fn input_ending_inside_a_string_or_a_bracket_is_an_error() {
    for (input, error) in [
        ("3 + 4\n'abc\n", "unterminated string"),
        (
            "3 + 4\n(1 +\n",
            "expected an expression, found end of input",
        ),
    ] {
        let (stdout, stderr, status) = repl(input);
        assert_eq!(stdout, "7\n", "{stderr}");
        assert!(stderr.contains(error), "{input:?}: {stderr}");
        assert_eq!(status, Some(1), "{input:?}");
    }
}

#[test]
fn syntax_errors_say_where() {
    let (stdout, stderr, _) = repl("3 + ]\n4\n");
    assert_eq!(stdout, "4\n");
    assert_eq!(
        stderr,
        "<repl>:1:5: expected an expression, found ']'\n    3 + ]\n        ^\n"
    );
}

#[test]
fn version() {
    let out = Command::new(env!("CARGO_BIN_EXE_zag"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("zag {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// Ctrl-C (SIGINT) during an evaluation signals UserInterrupt in it: the
/// evaluation stops with its stack, and the REPL goes on with its
/// variables, also when every Process waited on a Delay. Input from a
/// pipe is not written into the history.
#[cfg(unix)]
#[test]
fn ctrl_c_interrupts_the_evaluation_and_the_repl_goes_on() {
    use std::io::{BufRead, BufReader};
    let home = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("repl-interrupt-home");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let mut child = common::piped_zag(&[])
        .env("HOME", &home)
        .stdin(Stdio::piped())
        .spawn()
        .expect("zag starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut wait_for = |expected: &str| {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, expected);
    };
    let interrupt = |child: &std::process::Child| {
        std::thread::sleep(std::time::Duration::from_millis(300));
        // SAFETY: signals a child of this process, still running.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    };
    stdin
        .write_all(b"x := 41\nTranscript show: 'looping'; cr. [true] whileTrue: []\n")
        .unwrap();
    wait_for("41\n");
    wait_for("looping\n");
    interrupt(&child);
    stdin
        .write_all(b"Transcript show: 'waiting'; cr. (Delay forSeconds: 60) wait\n")
        .unwrap();
    wait_for("waiting\n");
    interrupt(&child);
    stdin
        .write_all(b"[[true] whileTrue: []] on: UserInterrupt do: [:e | e class name]\n")
        .unwrap();
    interrupt(&child);
    stdin.write_all(b"x + 1\n").unwrap();
    drop(stdin);
    let common::Signalled {
        status,
        rest_of_stdout: rest,
        stderr,
    } = common::wait_for_end(child, stdout);
    assert_eq!(rest, "#UserInterrupt\n42\n", "{stderr}");
    assert!(status.success(), "{stderr}");
    assert_eq!(
        stderr
            .matches("UserInterrupt: User interrupt (Ctrl-C)")
            .count(),
        2,
        "{stderr}"
    );
    assert!(!home.join(".zag_history").exists());
}
