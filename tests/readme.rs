//! The README is true: every command of its `console` blocks (`$ zag
//! ...`, `$ cat ...`) is run from the project's root, with this build's
//! `zag` first on the PATH, and must print what the README shows after
//! it (standard output and standard error, together as on a terminal). In the shown output, `[..]`
//! stands for any text within a line (times, sizes) and a line `...` for
//! any number of lines. Commands that read `../shared` are skipped, with
//! a message, when it is absent.

use std::path::Path;
use std::process::Command;

/// A command of the README and the output it shows.
struct Example {
    line: usize,
    command: String,
    shown: Vec<String>,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut in_console = false;
    for (i, line) in readme.lines().enumerate() {
        if !in_console {
            in_console = line.trim_end() == "```console";
            continue;
        }
        if line.starts_with("```") {
            in_console = false;
        } else if let Some(command) = line.strip_prefix("$ ") {
            out.push(Example {
                line: i + 1,
                command: command.to_string(),
                shown: Vec::new(),
            });
        } else if let Some(example) = out.last_mut() {
            example.shown.push(line.to_string());
        }
    }
    out
}

/// Whether `line` matches `pattern`, where `[..]` matches any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Whether `lines` match `patterns`, where a pattern `...` matches any
/// number of lines.
fn lines_match(patterns: &[String], lines: &[&str]) -> bool {
    match patterns.split_first() {
        None => lines.is_empty(),
        Some((p, rest)) if p == "..." => {
            (0..=lines.len()).any(|skip| lines_match(rest, &lines[skip..]))
        }
        Some((p, rest)) => {
            !lines.is_empty() && line_matches(p, lines[0]) && lines_match(rest, &lines[1..])
        }
    }
}

#[test]
fn the_readme_examples_print_what_it_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_zag")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("readme-home");
    std::fs::create_dir_all(&home).unwrap();
    let shared = root.join("../shared").is_dir();
    let examples = examples(&readme);
    assert!(examples.len() > 20, "the README's examples were not found");
    let mut failures = Vec::new();
    for example in &examples {
        if example.command.contains("../shared") && !shared {
            eprintln!(
                "SKIPPED: README.md:{}: `{}` needs ../shared",
                example.line, example.command
            );
            continue;
        }
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("( {} ) 2>&1", example.command))
            .current_dir(root)
            .env("PATH", &path)
            .env("HOME", &home)
            .env("TZ", "UTC")
            .output()
            .expect("sh runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        if !lines_match(&example.shown, &lines) {
            failures.push(format!(
                "README.md:{}: $ {}\n--- the README shows:\n{}\n--- it prints:\n{}",
                example.line,
                example.command,
                example.shown.join("\n"),
                text.trim_end()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn wildcards_match_as_documented() {
    assert!(line_matches("a [..] c", "a b c"));
    assert!(line_matches("[..] ms", "12 ms"));
    assert!(line_matches("x [..]", "x anything"));
    assert!(!line_matches("a [..] c", "a b d"));
    assert!(!line_matches("abc", "abcd"));
    let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(lines_match(&p(&["a", "...", "z"]), &["a", "b", "c", "z"]));
    assert!(lines_match(&p(&["a", "...", "z"]), &["a", "z"]));
    assert!(!lines_match(&p(&["a", "z"]), &["a", "b", "z"]));
}
