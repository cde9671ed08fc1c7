//! `zag run FILE ARGS` and `--load PATH`.

mod common;
use common::{temp_tree, zag};

#[test]
fn scripts_run_chunk_by_chunk_with_their_arguments() {
    let dir = temp_tree(
        "run-script",
        &[(
            "script.st",
            "| total |\ntotal := 0.\nSmalltalk arguments do: [:each | total := total + each size].\n\
             Transcript show: 'args: '; print: Smalltalk arguments size; show: ' total: '; print: total; cr!\n\
             Transcript show: 'bang!!'; cr!\n",
        )],
    );
    let out = zag(&[
        "run",
        dir.join("script.st").to_str().unwrap(),
        "one",
        "two",
        "-three",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "args: 3 total: 12\nbang!\n"
    );
}

#[test]
fn script_errors_stop_with_a_trace_and_status_1() {
    let dir = temp_tree(
        "run-error",
        &[(
            "bad.st",
            "Transcript show: 'before'; cr!\nnil foo!\nTranscript show: 'after'; cr!\n",
        )],
    );
    let out = zag(&["run", dir.join("bad.st").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "before\n");
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("MessageNotUnderstood: UndefinedObject>>foo\n"));
}

/// A chunk that does not compile is shown as `zag check` shows a bad
/// method: the file, its line and column, the line and a caret.
#[test]
fn syntax_errors_in_scripts_name_the_file_line_and_column() {
    let dir = temp_tree(
        "run-syntax-error",
        &[
            (
                "bad.st",
                "Transcript show: 'before'; cr!\n\n| x |\nx := (3 + 4.\n",
            ),
            // A doubled `!` in an earlier line of the chunk.
            ("bang.st", "x := 'wow!!'.\ny := (3 + 4.\n"),
        ],
    );
    let file = dir.join("bad.st").display().to_string();
    let out = zag(&["run", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "before\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "{file}:4:12: expected ')' to close the parenthesis opened at 4:6, found '.'\n    \
             x := (3 + 4.\n               ^\n"
        )
    );
    let file = dir.join("bang.st").display().to_string();
    let out = zag(&["run", &file]);
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with(&format!("{file}:2:12: expected ')'")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn load_files_in_packages_that_subclass_and_override_the_kernel() {
    let app = temp_tree(
        "load-app",
        &[
            ("Greet/package.st", "Package { #name : 'Greet' }\n"),
            (
                "Greet/Greeter.class.st",
                "Class { #name : 'Greeter', #superclass : 'Object', #instVars : [ 'name' ], #classVars : [ 'Count' ] }\n\
                 Greeter class >> initialize [ Count := 0 ]\n\
                 Greeter class >> named: aString [ Count := Count + 1. ^ self new setName: aString ]\n\
                 Greeter class >> count [ ^ Count ]\n\
                 Greeter >> setName: aString [ name := aString ]\n\
                 Greeter >> greeting [ ^ 'Hello, ' , name ]\n\
                 Greeter >> printOn: aStream [ aStream nextPutAll: 'a Greeter for ' , name ]\n",
            ),
            (
                "Greet/LoudGreeter.class.st",
                "Class { #name : 'LoudGreeter', #superclass : 'Greeter' }\nLoudGreeter >> greeting [ ^ super greeting , '!' ]\n",
            ),
            ("Greet/Integer.extension.st", "Extension { #name : 'Integer' }\nInteger >> double [ ^ self * 2 ]\n"),
        ],
    );
    let load = app.to_str().unwrap();
    let eval = |expr: &str| {
        let out = zag(&["--load", load, "eval", expr]);
        assert!(
            out.status.success(),
            "{expr}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    };
    assert_eq!(
        eval("(LoudGreeter named: 'Pharo') greeting"),
        "'Hello, Pharo!'"
    );
    assert_eq!(eval("Greeter named: 'x'"), "a Greeter for x");
    assert_eq!(
        eval("Greeter named: 'a'. LoudGreeter named: 'b'. Greeter count"),
        "2"
    );
    assert_eq!(eval("21 double"), "42");
    // A method that already ran is redefined by a later --load.
    let patch = temp_tree(
        "load-patch",
        &[(
            "Patch/Integer.extension.st",
            "Extension { #name : 'Integer' }\nInteger >> double [ ^ self * 3 ]\n",
        )],
    );
    let out = zag(&[
        "--load",
        load,
        "--load",
        patch.to_str().unwrap(),
        "eval",
        "21 double",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "63\n");
}

#[test]
fn load_reports_errors_with_positions() {
    let bad = temp_tree(
        "load-bad",
        &[
            ("Bad/package.st", "Package { #name : 'Bad' }\n"),
            (
                "Bad/B.class.st",
                "Class { #name : 'B', #superclass : 'Object' }\nB >> x [ ^ ( ]\n",
            ),
        ],
    );
    let out = zag(&["--load", bad.to_str().unwrap(), "eval", "3"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("B.class.st:2:14: expected an expression, found ']'\n    B >> x [ ^ ( ]\n                 ^\n"),
        "{stderr}"
    );
}
