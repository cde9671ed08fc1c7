//! The whole of ../shared/pharo/src (29 real Pharo packages) imports with no
//! error, every method is read, and every method round-trips through the
//! AST. Skipped, with a message, when ../shared is not beside the project.

use std::path::{Path, PathBuf};

use zag_compiler::environment::Environment;
use zag_compiler::import::check;

fn corpus() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/pharo/src");
    if path.is_dir() {
        Some(path)
    } else {
        skip_notice(&path);
        None
    }
}

/// Counts method definitions without the Tonel reader: blank out comments
/// and strings (minding `$"` and `$'`), then count the lines that start like
/// a method definition: `Name >> `, `Name class >> ` or `Name classSide >> `.
fn count_method_headers(text: &str) -> usize {
    let mut code = String::with_capacity(text.len());
    let mut chars = text.chars();
    let mut in_quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (in_quote, c) {
            (None, '"' | '\'') => {
                in_quote = Some(c);
                code.push(' ');
            }
            (None, '$') => {
                code.push('$');
                code.extend(chars.next());
            }
            (None, _) => code.push(c),
            (Some(q), _) if c == q => {
                in_quote = None;
                code.push(' ');
            }
            (Some(_), '\n') => code.push('\n'),
            (Some(_), _) => code.push(' '),
        }
    }
    code.lines()
        .filter(|line| {
            let mut words = line.split(' ');
            let Some(class) = words.next() else {
                return false;
            };
            if !class.starts_with(|c: char| c.is_ascii_uppercase()) {
                return false;
            }
            let mut next = words.next();
            if matches!(next, Some("class" | "classSide")) {
                next = words.next();
            }
            next == Some(">>")
        })
        .count()
}

fn st_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            st_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "st") {
            out.push(path);
        }
    }
}

#[test]
fn all_of_pharo_src_imports_and_round_trips() {
    let Some(root) = corpus() else { return };
    let mut files = Vec::new();
    st_files(&root, &mut files);
    let expected: usize = files
        .iter()
        .map(|f| count_method_headers(&std::fs::read_to_string(f).unwrap()))
        .sum();

    // On its own: no image behind it (undeclared names are warnings only).
    let report = check(&[root], &Environment::new(), |_| false);
    let shown: Vec<String> = report
        .errors
        .iter()
        .take(10)
        .map(|e| e.to_string())
        .collect();
    assert!(
        report.errors.is_empty(),
        "{} errors, first:\n{}",
        report.errors.len(),
        shown.join("\n")
    );
    assert_eq!(report.packages, 29);
    assert_eq!(report.files, files.len());
    assert_eq!(
        report.methods, expected,
        "methods read vs method headers counted"
    );
    assert_eq!(report.converted, expected);
    assert_eq!(report.round_tripped, expected, "every method round-trips");
}

/// Says a test was skipped. Written to the stderr handle itself, because the
/// test harness captures (and hides) `eprintln!` output of passing tests.
fn skip_notice(missing: &Path) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {} is absent (it comes with ../shared)",
        missing.display()
    );
}
