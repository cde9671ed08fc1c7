//! `zag eval`: the embedded image evaluates do-its and prints results as
//! Pharo prints them.

mod common;
use common::zag;

fn eval(expression: &str) -> String {
    let out = zag(&["eval", expression]);
    assert!(
        out.status.success(),
        "{expression}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn prints_the_print_string_of_the_result() {
    for (expression, printed) in [
        ("3 + 4", "7"),
        ("3 + 4 * 2", "14"),
        ("-42 printString: 16", "'-2A'"),
        ("255 printString: 2", "'11111111'"),
        ("(3 > 4) | (4 >= 4)", "true"),
        ("nil", "nil"),
        (
            "#(1 $a 'it''s' #sym #(1 2) nil true)",
            "#(1 $a 'it''s' #sym #(1 2) nil true)",
        ),
        ("Object new", "an Object"),
        ("Object", "Object"),
        ("3 class", "SmallInteger"),
        ("3 class class", "SmallInteger class"),
        ("1 -> 2", "1->2"),
        ("'abc' , 'def'", "'abcdef'"),
        ("$a", "$a"),
        ("#(3 4) inject: 0 into: [:a :b | a + b]", "7"),
        ("| a | a := 0. 1 to: 10 do: [:i | a := a + i]. a", "55"),
        ("(1 to: 10) inject: 0 into: [:a :b | a + b]", "55"),
        ("(1 to: 5)", "(1 to: 5)"),
        ("(1 to: 10 by: 2)", "(1 to: 10 by: 2)"),
        ("(10 to: 1 by: -3) size", "4"),
        ("(1 to: 10 by: 2) last", "9"),
        ("(1 to: 0) size", "0"),
        ("(1 to: 3) , #(4)", "#(1 2 3 4)"),
        ("'hello' size", "5"),
        ("'hello' includes: $l", "true"),
        ("(Array new: 2) at: 1 put: 3; yourself", "#(3 nil)"),
        ("Object new class class", "Object class"),
        // Integers of any size, normalized as in Pharo.
        ("100 factorial printString size", "158"),
        ("20 factorial", "2432902008176640000"),
        ("(2 raisedTo: 100)", "1267650600228229401496703205376"),
        ("(1152921504606846975 + 1) class", "LargePositiveInteger"),
        ("(1152921504606846975 + 1 - 1) class", "SmallInteger"),
        ("(-1152921504606846976 - 1) class", "LargeNegativeInteger"),
        ("100 factorial / 98 factorial", "9900"),
        ("(2 raisedTo: 64) - 1 printString: 16", "'FFFFFFFFFFFFFFFF'"),
        (
            "((2 raisedTo: 70) bitAnd: (2 raisedTo: 70) - 1) = 0",
            "true",
        ),
        ("(2 raisedTo: 100) // -7", "-181092942889747057356671886483"),
        ("(2 raisedTo: 100) \\\\ -7", "-5"),
        // Floats: immediate or boxed, printed as Pharo prints them.
        ("3.5 + 1", "4.5"),
        ("1 + 2.5", "3.5"),
        ("0.1 + 0.2", "0.30000000000000004"),
        ("1 / 3.0", "0.3333333333333333"),
        ("2 sqrt", "1.4142135623730951"),
        ("((2 raisedTo: 0.5) - 2 sqrt) abs < 1.0e-15", "true"),
        ("1.5 class", "SmallFloat64"),
        ("1.0e100 class", "BoxedFloat64"),
        ("1.0e100", "1.0e100"),
        ("0.001", "0.001"),
        ("1.0e-5", "1.0e-5"),
        ("12345678.9", "1.23456789e7"),
        ("-0.0", "-0.0"),
        ("Float infinity", "Float infinity"),
        ("Float infinity negated", "Float infinity negated"),
        ("Float nan", "Float nan"),
        ("100 factorial asFloat", "9.332621544394415e157"),
        ("1.0e20 truncated", "100000000000000000000"),
        ("-3.7 floor", "-4"),
        ("2.5 rounded", "3"),
        // The perform: family.
        ("3 perform: #+ with: 4", "7"),
        ("3 perform: #factorial", "6"),
        ("3 perform: #between:and: with: 1 with: 5", "true"),
        ("3 perform: #+ withArguments: #(4)", "7"),
        (
            "(2 raisedTo: 70) perform: #printString: with: 16",
            "'400000000000000000'",
        ),
    ] {
        assert_eq!(eval(expression), format!("{printed}\n"), "{expression}");
    }
}

#[test]
fn words_are_joined_and_leading_minus_is_not_an_option() {
    let out = zag(&["eval", "3", "+", "4"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "7\n");
    assert_eq!(eval("-3 abs"), "3\n");
}

#[test]
fn errors_print_a_smalltalk_stack_trace_and_exit_1() {
    let out = zag(&["eval", "nil foo"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "MessageNotUnderstood: UndefinedObject>>foo\n  UndefinedObject(ProtoObject)>>doesNotUnderstand:\n  UndefinedObject>>DoIt\n"
    );
    let out = zag(&["eval", "Error signal: 'boom'"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: boom\n  UndefinedObject>>DoIt\n"
    );
    let out = zag(&["eval", "3 // 0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("ZeroDivide\n"));
    assert_eq!(
        eval("[3 // 0] on: ZeroDivide do: [:e | e return: -1]"),
        "-1\n"
    );
    let out = zag(&["eval", "3 +"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "<eval>:1:4: expected an expression, found end of input\n    3 +\n       ^\n"
    );
}

#[test]
fn recursion_100_000_deep_works_and_10_000_000_deep_is_a_clean_error() {
    let deep = "| b | b := [:n | n = 0 ifTrue: [0] ifFalse: [(b value: n - 1) + 1]]. b value: ";
    assert_eq!(eval(&format!("{deep}100000")), "100000\n");
    let out = zag(&["eval", &format!("{deep}10000000")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .starts_with("Error: stack overflow: recursion deeper than the Smalltalk stack allows"),
        "{stderr}"
    );
    assert!(
        stderr.contains(" more frames ...\n"),
        "long traces are abridged"
    );
    assert!(stderr.ends_with("  UndefinedObject>>DoIt\n"));
}

#[test]
fn allocation_heavy_loops_run_in_bounded_memory() {
    let out = zag(&[
        "--stats",
        "eval",
        "| last | 1 to: 20000000 do: [:i | last := Array new: 3]. last size",
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3\n");
    let stats = String::from_utf8_lossy(&out.stderr);
    let mb: f64 = stats
        .split("peak RSS ")
        .nth(1)
        .and_then(|rest| rest.trim_end().strip_suffix(" MB"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in {stats:?}"));
    assert!(mb < 200.0, "peak RSS {mb} MB for 20 million small arrays");
}

#[test]
fn results_are_the_same_under_gc_stress() {
    for expression in [
        "100 factorial printString size",
        "(1 to: 30) inject: 0 into: [:a :b | a + (b printString: 2) size]",
    ] {
        let normal = eval(expression);
        let out = zag(&["--gc-stress", "1", "eval", expression]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), normal, "{expression}");
    }
}

#[test]
fn promoted_garbage_is_collected_from_old_space() {
    // Each array survives a scavenge (promoted), then is overwritten.
    let out = zag(&[
        "--stats",
        "eval",
        "| keep | keep := Array new: 20000. 1 to: 10000000 do: [:i | keep at: i \\\\ 20000 + 1 put: (Array new: 4)]. (keep at: 1) size",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = String::from_utf8_lossy(&out.stderr);
    let number_before = |label: &str| -> u64 {
        let end = stats
            .find(label)
            .unwrap_or_else(|| panic!("no {label:?} in {stats}"));
        let start = stats[..end].trim_end().rfind(' ').map_or(0, |i| i + 1);
        stats[start..end].trim().parse().unwrap()
    };
    let promoted = number_before(" words promoted");
    let old = number_before(" words of old space");
    assert!(number_before(" old-space collections") > 0, "{stats}");
    assert!(promoted > 4_000_000, "{stats}");
    assert!(
        old < promoted / 2,
        "old space keeps only what is live: {stats}"
    );
}

/// Long straight-line code: instructions that run their successor
/// directly (chaining) are bounded in number, so neither a brace array of
/// thousands of elements nor thousands of statements nest deeply on the
/// Rust stack, in debug builds too.
#[test]
fn long_straight_line_code_runs() {
    let elements: Vec<String> = (1..=5000).map(|i| i.to_string()).collect();
    let array = format!("{{{}}} size", elements.join(". "));
    assert_eq!(eval(&array), "5000\n");
    let statements = "x := x + 1. y := x. ".repeat(3000);
    assert_eq!(eval(&format!("| x y | x := 0. {statements} y")), "3000\n");
}

/// A stack overflow is signalled as a Smalltalk Error: handlers catch it,
/// `ensure:` blocks run, and the stack can overflow again after that.
#[test]
fn a_stack_overflow_is_a_smalltalk_error() {
    let runaway = "| b log | log := OrderedCollection new. b := [:n | b value: n + 1]. ";
    assert_eq!(
        eval(&format!(
            "{runaway}{{ [[b value: 1] ensure: [log add: #ensured]] \
             on: Error do: [:e | e messageText copyFrom: 1 to: 14]. \
             log asArray. [b value: 1] on: Error do: [:e | #again] }}"
        )),
        "#('stack overflow' #(#ensured) #again)\n"
    );
}

#[cfg(feature = "jit")]
#[test]
fn the_jit_compiles_on_request_and_shows_what_it_did() {
    let out = zag(&[
        "--jit-threshold",
        "0",
        "--jit-stats",
        "--dump-ir",
        "Integer>>factorial",
        "eval",
        "20 factorial",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), "2432902008176640000");
    for expected in [
        "; Integer>>factorial: LLVM IR before optimization",
        "; Integer>>factorial: LLVM IR after optimization",
        "define ptr @",
        " refused",
        "jit: compile time",
    ] {
        assert!(stderr.contains(expected), "no {expected:?} in:\n{stderr}");
    }
    // Without the options, nothing is compiled and nothing is said.
    let quiet = zag(&["eval", "20 factorial"]);
    assert!(quiet.stderr.is_empty());
}

/// `Smalltalk exit:` while the JIT's thread is compiling: the process
/// ends as asked (LLVM's global state is torn down at exit, so the thread
/// must have stopped first; before it did, about half of these crashed).
#[cfg(feature = "jit")]
#[test]
fn exiting_while_the_jit_compiles_in_the_background_is_clean() {
    for _ in 0..6 {
        let out = zag(&[
            "--jit-threshold",
            "1",
            "eval",
            "1 to: 30 do: [:i | i printString. (1 to: i) asArray reverse. i factorial]. Smalltalk exit: 3",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
    }
}

/// SIGINT, SIGTERM and SIGHUP end a running program as an unhandled error
/// does: the Transcript's output not yet ended by a newline is written,
/// the Smalltalk stack is printed, and the exit status is 128 + the
/// signal's number (in the interpreter, and in loops compiled to machine
/// code, which test the same alarm).
#[cfg(unix)]
#[test]
fn a_signal_ends_the_program_with_its_stack_and_the_transcript_written() {
    let program = "| x | x := 0. Transcript show: 'ready'; cr; show: 'unfinished line'. \
                   #(1 2) do: [:e | [x >= 0] whileTrue: [x := x + 1]]";
    for (options, signal, name) in [
        (&["--no-jit"][..], libc::SIGTERM, "SIGTERM"),
        (&["--jit-threshold", "0"][..], libc::SIGINT, "SIGINT"),
        (&[][..], libc::SIGHUP, "SIGHUP"),
    ] {
        // Time for the next statement, which writes the unfinished line.
        let out = common::signal_after_first_line(
            &[options, &["eval", program]].concat(),
            "ready\n",
            std::time::Duration::from_secs(1),
            signal,
        );
        let stderr = &out.stderr;
        assert_eq!(
            out.status.code(),
            Some(128 + signal),
            "{options:?}: {stderr}"
        );
        assert_eq!(out.rest_of_stdout, "unfinished line", "{options:?}");
        // The stack as it is when the alarm is answered: in the block's
        // loop, or at the block's activation.
        assert!(
            stderr.starts_with(&format!("Interrupted by {name}\n")),
            "{options:?}: {stderr}"
        );
        assert!(stderr.ends_with("  UndefinedObject>>DoIt\n"), "{stderr}");
    }
}

/// Strings are Pharo's (one character per element, Latin-1 in a
/// ByteString, any code point in a WideString) and are written in UTF-8.
#[test]
fn strings_hold_characters_and_print_in_utf8() {
    let out = zag(&[
        "eval",
        "Transcript show: 'año λ 😀'; cr. {'é' size. 'λ' size. 'é' first asInteger. 'λ' class. #λ}",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "año λ 😀\n{1. 1. 233. WideString. #λ}\n"
    );
}
