//! The fault corpus (`tests/faults/`): Smalltalk programs that do what a
//! hostile or careless program does (forged objects, impossible class
//! definitions, kernel classes reshaped, errors of every kind), each run
//! by `zag run`, normally and under `--gc-stress 1`. The VM must end each
//! with the outcome its header states, never by a signal, and within two
//! minutes.
//!
//! A program's header is its leading comments, one `"key: value"` each:
//! `fault:` says what it does; `exit:` the status it must end with;
//! `stdout:` and `stderr:` (repeatable) text the output must contain;
//! `load:` a folder of `tests/faults/packages/` filed in with `--load`;
//! `options:` options for `zag` (`--max-heap 64M`);
//! `gc-stress: no, ...` (with the reason) keeps it out of the run under
//! GC stress (a million frames scanned at every allocation is 10^12
//! words of work).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// A hang is a fault too: a program still running after this is killed.
const TIME_LIMIT: Duration = Duration::from_secs(120);

/// Runs `zag` with `args`; None when it had to be killed.
fn zag(args: &[&str]) -> Option<Output> {
    let mut child = common::piped_zag(args).spawn().expect("zag runs");
    // Drain the pipes as it runs, so that a chatty program cannot block.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut text).map(|_| text)
    });
    let err = std::thread::spawn(move || {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut text).map(|_| text)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap().unwrap_or_default();
    let stderr = err.join().unwrap().unwrap_or_default();
    status.map(|status| Output {
        status,
        stdout,
        stderr,
    })
}

struct Fault {
    path: PathBuf,
    exit: i32,
    stdout: Vec<String>,
    stderr: Vec<String>,
    load: Option<PathBuf>,
    options: Vec<String>,
    gc_stress: bool,
}

fn read(path: &Path) -> Fault {
    // The header is ASCII; the rest may be anything (invalid UTF-8 too).
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let mut fault = Fault {
        path: path.to_path_buf(),
        exit: -1,
        stdout: Vec::new(),
        stderr: Vec::new(),
        load: None,
        options: Vec::new(),
        gc_stress: true,
    };
    let mut described = false;
    for line in text.lines() {
        let Some(header) = line.strip_prefix('"').and_then(|l| l.strip_suffix('"')) else {
            break;
        };
        let (key, value) = header.split_once(": ").expect("a \"key: value\" header");
        let value = value.to_string();
        match key {
            "fault" => described = true,
            "exit" => fault.exit = value.parse().expect("an exit status"),
            "stdout" => fault.stdout.push(value),
            "stderr" => fault.stderr.push(value),
            "load" => fault.load = Some(path.parent().unwrap().join("packages").join(value)),
            "options" => fault.options = value.split_whitespace().map(String::from).collect(),
            "gc-stress" => fault.gc_stress = !value.starts_with("no"),
            _ => panic!("{}: unknown header {key}", path.display()),
        }
    }
    assert!(
        described && fault.exit >= 0,
        "{}: needs fault: and exit:",
        path.display()
    );
    fault
}

fn corpus() -> Vec<Fault> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faults");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "st"))
        .collect();
    paths.sort();
    paths.iter().map(|p| read(p)).collect()
}

fn run_corpus(extra: &[&str]) {
    let faults = corpus();
    assert!(faults.len() >= 50, "the corpus shrank: {}", faults.len());
    let mut failures = Vec::new();
    let stressed = extra.contains(&"--gc-stress");
    for fault in faults.iter().filter(|f| f.gc_stress || !stressed) {
        let mut args: Vec<&str> = extra.to_vec();
        args.extend(fault.options.iter().map(String::as_str));
        if let Some(load) = &fault.load {
            args.extend(["--load", load.to_str().unwrap()]);
        }
        args.extend(["run", fault.path.to_str().unwrap()]);
        let name = fault.path.file_name().unwrap().to_string_lossy();
        let Some(out) = zag(&args) else {
            failures.push(format!(
                "{name} {extra:?}: still running after {TIME_LIMIT:?}"
            ));
            continue;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut wrong = Vec::new();
        if out.status.code() != Some(fault.exit) {
            wrong.push(format!(
                "ended with {:?}, not exit {}",
                out.status, fault.exit
            ));
        }
        for text in &fault.stdout {
            if !stdout.contains(text.as_str()) {
                wrong.push(format!("no {text:?} on stdout"));
            }
        }
        for text in &fault.stderr {
            if !stderr.contains(text.as_str()) {
                wrong.push(format!("no {text:?} on stderr"));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{name} {extra:?}: {}\n--- stdout\n{stdout}--- stderr\n{stderr}",
                wrong.join("; ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fault_ends_as_its_header_says() {
    run_corpus(&[]);
}

#[test]
fn every_fault_ends_as_its_header_says_under_gc_stress() {
    run_corpus(&["--gc-stress", "1"]);
}
