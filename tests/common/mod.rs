//! Helpers shared by the integration tests (each test crate uses a subset).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `zag` binary built for these tests.
pub fn zag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zag"))
        .args(args)
        .output()
        .expect("zag runs")
}

/// The `zag` binary built for these tests with `args`, its standard
/// output and error piped: the caller adds what else it needs (standard
/// input, environment) and spawns it.
pub fn piped_zag(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zag"));
    command
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    command
}

/// A fresh folder `name` under the target directory holding `files`
/// (relative path, contents).
pub fn temp_tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// What a `zag` run that was sent a signal did: its exit status, the
/// standard output after its first line, and its standard error.
#[cfg(unix)]
pub struct Signalled {
    pub status: std::process::ExitStatus,
    pub rest_of_stdout: String,
    pub stderr: String,
}

/// Runs `zag` with `args`, waits until it prints `first_line`, then `pause`
/// more, and sends it `signal`.
#[cfg(unix)]
pub fn signal_after_first_line(
    args: &[&str],
    first_line: &str,
    pause: std::time::Duration,
    signal: i32,
) -> Signalled {
    use std::io::{BufRead, BufReader};
    let mut child = piped_zag(args).spawn().expect("zag runs");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, first_line, "{args:?}");
    std::thread::sleep(pause);
    // SAFETY: signals a child of this process, still running (the callers'
    // programs run until signalled).
    unsafe { libc::kill(child.id() as i32, signal) };
    wait_for_end(child, stdout)
}

/// Waits until `child` (its standard output being read through
/// `stdout`, its standard error piped) ends: its status, the rest of its
/// standard output, and its standard error.
#[cfg(unix)]
pub fn wait_for_end(mut child: std::process::Child, mut stdout: impl std::io::Read) -> Signalled {
    use std::io::Read;
    let status = child.wait().unwrap();
    let mut rest_of_stdout = String::new();
    stdout.read_to_string(&mut rest_of_stdout).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Signalled {
        status,
        rest_of_stdout,
        stderr,
    }
}
