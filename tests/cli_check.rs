//! `zag check`: summary, exit status, error reporting, `--verbose`.

mod common;
use common::{temp_tree, zag};

use std::path::Path;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const GOOD: &[(&str, &str)] = &[
    ("Shapes/package.st", "Package { #name : 'Shapes' }\n"),
    (
        "Shapes/Shape.class.st",
        "Class { #name : 'Shape', #superclass : 'Object', #instVars : [ 'name' ], #package : 'Shapes' }\n\n\
         { #category : 'accessing' }\nShape >> name [ ^ name ]\n\n\
         { #category : 'instance creation' }\nShape class >> named: aString [ ^ self new setName: aString ]\n",
    ),
    ("Shapes/TArea.trait.st", "Trait { #name : 'TArea', #package : 'Shapes' }\nTArea >> area [ ^ self subclassResponsibility ]\n"),
    ("Shapes/String.extension.st", "Extension { #name : 'String' }\nString >> asShape [ ^ Shape named: self ]\n"),
];

#[test]
fn a_clean_package_checks_with_a_summary_and_exit_0() {
    let dir = temp_tree("good", GOOD);
    let out = zag(&["check", dir.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.starts_with("1 packages, 1 classes, 1 traits, 1 extensions, 4 methods (4 files"),
        "{stdout}"
    );
    assert!(
        stdout.contains("4 methods converted, 4 round-tripped (100.0%)"),
        "{stdout}"
    );
    assert!(stdout.contains("\n0 errors, "), "{stdout}");
}

const BAD: &[(&str, &str)] = &[
    ("Bad/package.st", "Package { #name : 'Bad' }\n"),
    (
        "Bad/Broken.class.st",
        "Class { #name : 'Broken', #superclass : 'Object' }\n\nBroken >> one [\n\t^ 1 +\n]\n\nBroken >> two: x [ x := 2 ]\n",
    ),
];

#[test]
fn errors_show_file_line_column_and_a_caret_and_exit_1() {
    let dir = temp_tree("bad", BAD);
    let out = zag(&["check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let file = dir.join("Bad/Broken.class.st").display().to_string();
    assert!(
        stderr.contains(&format!(
            "{file}:5:1: expected an expression, found ']'\n    ]\n    ^\n"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:7:20: cannot assign to argument 'x'\n")),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("1 packages, 1 classes, 0 traits, 0 extensions, 2 methods (2 files"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n0 methods converted, 0 round-tripped (0.0%)\n2 errors, "),
        "{stdout}"
    );
}

#[test]
fn verbose_lists_one_problem_per_line() {
    let dir = temp_tree("bad-verbose", BAD);
    let out = zag(&["check", "--verbose", dir.to_str().unwrap()]);
    let file = dir.join("Bad/Broken.class.st").display().to_string();
    assert_eq!(
        text(&out.stderr),
        format!(
            "{file}:5:1: expected an expression, found ']'\n{file}:7:20: cannot assign to argument 'x'\n"
        )
    );
}

#[test]
fn missing_paths_and_non_utf8_files_are_errors() {
    let out = zag(&["check", "/no/such/folder"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("/no/such/folder: cannot read: "),
        "{}",
        text(&out.stderr)
    );

    let dir = temp_tree(
        "binary",
        &[("Pkg/package.st", "Package { #name : 'Pkg' }\n")],
    );
    std::fs::write(dir.join("Pkg/Junk.class.st"), [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let out = zag(&["check", "--verbose", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).ends_with("Junk.class.st: not UTF-8 text (invalid byte at offset 0)\n")
    );
}

/// A folder that holds no Tonel package says so, instead of checking
/// nothing: one without `package.st`, or an empty one.
#[test]
fn folders_without_packages_are_errors() {
    let dir = temp_tree(
        "no-package",
        &[(
            "Loose/Foo.class.st",
            "Class { #name : 'Foo', #superclass : 'Object' }\n",
        )],
    );
    let loose = dir.join("Loose");
    let out = zag(&["check", loose.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "{}: no Tonel package here: the folder has 1 .st file(s) but no package.st \
             (a package folder needs one: Package {{ #name : 'Name' }})\n\n",
            loose.display()
        )
    );
    let empty = dir.join("Empty");
    std::fs::create_dir_all(&empty).unwrap();
    for args in [
        vec!["check", empty.to_str().unwrap()],
        vec!["--load", empty.to_str().unwrap(), "eval", "3"],
    ] {
        let out = zag(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).starts_with(&format!(
                "{}: no Tonel package here: expected a package folder",
                empty.display()
            )),
            "{}",
            text(&out.stderr)
        );
    }
}

/// Undeclared variables are warnings, with their place; names the image
/// defines (Transcript, its classes) are declared.
#[test]
fn undeclared_variables_are_warnings_with_their_place() {
    let dir = temp_tree(
        "undeclared",
        &[
            ("App/package.st", "Package { #name : 'App' }\n"),
            (
                "App/Greeter.class.st",
                "Class { #name : 'Greeter', #superclass : 'Object', #package : 'App' }\n\
                 Greeter >> greet [ Trnscript show: 'hi'. Transcript show: 'hi'. ^ OrderedCollection new ]\n",
            ),
        ],
    );
    let out = zag(&["check", dir.to_str().unwrap()]);
    assert!(out.status.success());
    let file = dir.join("App/Greeter.class.st").display().to_string();
    assert_eq!(
        text(&out.stderr),
        format!(
            "{file}:2:20: warning: undeclared variable Trnscript in Greeter>>greet (nil until assigned, as in Pharo)\n    \
             Greeter >> greet [ Trnscript show: 'hi'. Transcript show: 'hi'. ^ OrderedCollection new ]\n    \
             {}^\n\n",
            " ".repeat(19)
        )
    );
    assert!(text(&out.stdout).contains("\n0 errors, 1 warnings, "));
    // --load says the same and goes on.
    let out = zag(&[
        "--load",
        dir.to_str().unwrap(),
        "eval",
        "Greeter new printString",
    ]);
    assert!(out.status.success());
    assert!(text(&out.stderr).starts_with(&format!(
        "{file}:2:20: warning: undeclared variable Trnscript"
    )));
    assert_eq!(text(&out.stdout), "'a Greeter'\n");
}

#[test]
fn help_describes_check() {
    let out = zag(&["check", "--help"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("--verbose"));
    // It runs no Smalltalk: the options for running it are not its own.
    assert!(
        !text(&out.stdout).contains("--load"),
        "{}",
        text(&out.stdout)
    );
    let out = zag(&["--no-jit", "check", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "zag: check runs no Smalltalk: the options for running it do not apply\n"
    );
    // The commands that run Smalltalk take them before or after their name.
    let out = zag(&["eval", "--no-jit", "3 + 4"]);
    assert_eq!(text(&out.stdout), "7\n");
    let out = zag(&["--help"]);
    assert!(text(&out.stdout).contains("With no command, zag is a REPL"));
}

#[test]
fn the_pharo_sources_check_clean() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/pharo/src");
    if !src.is_dir() {
        skip_notice(&src);
        return;
    }
    let out = zag(&["check", src.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.starts_with("29 packages, "), "{stdout}");
    assert!(stdout.contains("round-tripped (100.0%)"), "{stdout}");
}

#[test]
fn the_deepest_nesting_allowed_checks_on_worker_threads() {
    let n = 255;
    let source = format!(
        "Class {{ #name : 'Deep', #superclass : 'Object' }}\n\
         Deep >> blocks [ ^ {}1{} ]\nDeep >> chain [ ^ 1{} ]\nDeep >> mixed [ ^ {}1{} ]\n",
        "[".repeat(n),
        "]".repeat(n),
        "+1".repeat(250),
        "[(".repeat(127),
        ")]".repeat(127),
    );
    let dir = temp_tree("deep", &[("P/Deep.class.st", &source)]);
    let out = zag(&["check", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("3 methods converted, 3 round-tripped (100.0%)"));
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

/// Folders that link back to themselves are walked once (two links to
/// `.` in each folder made 2^40 paths).
#[cfg(unix)]
#[test]
fn links_back_to_a_folder_already_walked_are_not_followed() {
    let dir = temp_tree("self-links", GOOD);
    let shapes = dir.join("Shapes");
    for name in ["a", "b"] {
        let link = shapes.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(".", &link).unwrap();
    }
    let out = zag(&["check", dir.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    // The same four files as without the links.
    assert!(stdout.contains("4 methods (4 files"), "{stdout}");
}
