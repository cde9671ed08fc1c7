//! Syntax errors, with their exact message and offset, the errors found
//! when converting to the Zag AST, and robustness: no input, however
//! malformed, makes the front end panic.

use std::panic::{catch_unwind, AssertUnwindSafe};

use zag_compiler::convert::{convert_doit, convert_method};
use zag_compiler::environment::ClassScope;
use zag_compiler::parser::{parse_doit, parse_expression, parse_method, MAX_DEPTH, MAX_NESTING};
use zag_compiler::printer::print_method;

// ----- helpers -------------------------------------------------------------------

/// The error `src` gives as a method: (offset, message).
fn method_error(src: &str) -> (usize, String) {
    match parse_method(src) {
        Ok(m) => panic!("{src:?} parsed: {m:?}"),
        Err(e) => (e.offset, e.message),
    }
}

fn doit_error(src: &str) -> (usize, String) {
    match parse_doit(src) {
        Ok(s) => panic!("{src:?} parsed: {s:?}"),
        Err(e) => (e.offset, e.message),
    }
}

fn expression_error(src: &str) -> (usize, String) {
    match parse_expression(src) {
        Ok(e) => panic!("{src:?} parsed: {e:?}"),
        Err(e) => (e.offset, e.message),
    }
}

/// The error converting `src`, which parses, to the Zag AST.
fn convert_error(src: &str) -> (usize, String) {
    let m = parse_method(src).unwrap_or_else(|e| panic!("{src:?} does not parse: {e:?}"));
    match convert_method(&m, &ClassScope::empty()) {
        Ok(z) => panic!("{src:?} converted: {z:?}"),
        Err(e) => (e.offset, e.message),
    }
}

fn err(offset: usize, message: &str) -> (usize, String) {
    (offset, message.to_string())
}

// ----- unclosed brackets ----------------------------------------------------------

#[test]
fn unclosed_block() {
    assert_eq!(
        method_error("foo [:x | x"),
        err(
            11,
            "expected ']' to close the block opened at 1:5, found end of input"
        )
    );
    // Line and column count characters; the error is at the token found.
    assert_eq!(
        method_error("foo\n\t^ [:x | x foo )"),
        err(
            19,
            "expected '.' or ']' to close the block opened at 2:4, found ')'"
        )
    );
    // The outer block when the inner one is closed...
    assert_eq!(
        method_error("foo [ [ 1 ]"),
        err(
            11,
            "expected ']' to close the block opened at 1:5, found end of input"
        )
    );
    // ... and the innermost one when neither is.
    assert_eq!(
        method_error("foo [ x := [ 1"),
        err(
            14,
            "expected ']' to close the block opened at 1:12, found end of input"
        )
    );
    assert_eq!(
        method_error("foo [ a 'b' ]"),
        err(
            8,
            "expected '.' or ']' to close the block opened at 1:5, found ''b''"
        )
    );
}

#[test]
fn unclosed_parenthesis() {
    assert_eq!(
        method_error("foo ^ (1 + 2"),
        err(
            12,
            "expected ')' to close the parenthesis opened at 1:7, found end of input"
        )
    );
    assert_eq!(
        method_error("foo ^ (1 + 2]"),
        err(
            12,
            "expected ')' to close the parenthesis opened at 1:7, found ']'"
        )
    );
    assert_eq!(
        method_error("foo ^ (1 + 2 3)"),
        err(
            13,
            "expected ')' to close the parenthesis opened at 1:7, found '3'"
        )
    );
}

#[test]
fn unclosed_brace_array() {
    assert_eq!(
        method_error("foo ^ { 1. 2"),
        err(
            12,
            "expected '}' to close the brace array opened at 1:7, found end of input"
        )
    );
    assert_eq!(
        method_error("foo ^ { 1 2 }"),
        err(
            10,
            "expected '.' or '}' to close the brace array opened at 1:7, found '2'"
        )
    );
}

#[test]
fn unclosed_literal_and_byte_arrays() {
    assert_eq!(
        method_error("foo ^ #(1 2"),
        err(
            11,
            "expected ')' to close the literal array opened at 1:7, found end of input"
        )
    );
    assert_eq!(
        method_error("foo ^ #(1 (2"),
        err(
            12,
            "expected ')' to close the literal array opened at 1:11, found end of input"
        )
    );
    assert_eq!(
        method_error("foo ^ #[1 2"),
        err(
            11,
            "expected ']' to close the byte array opened at 1:7, found end of input"
        )
    );
}

#[test]
fn stray_closing_brackets() {
    assert_eq!(
        method_error("foo ^ 1 ]"),
        err(8, "expected '.' or end of input, found ']'")
    );
    assert_eq!(
        method_error("foo )"),
        err(4, "expected an expression, found ')'")
    );
    assert_eq!(
        method_error("foo x }"),
        err(6, "expected '.' or end of input, found '}'")
    );
    assert_eq!(
        expression_error("a )"),
        err(2, "expected end of input, found ')'")
    );
}

// ----- scanner errors ------------------------------------------------------------------

#[test]
fn unterminated_string() {
    let message = "unterminated string: expected a closing '";
    assert_eq!(method_error("foo ^ 'abc"), err(6, message));
    assert_eq!(method_error("foo ^ 'it''s"), err(6, message));
    assert_eq!(method_error("foo ^ 'abc''"), err(6, message));
    // A quoted symbol: the error points at its quote.
    assert_eq!(method_error("foo ^ #'abc"), err(7, message));
}

#[test]
fn unterminated_comment() {
    let message = "unterminated comment: expected a closing '\"'";
    assert_eq!(method_error("foo \"abc"), err(4, message));
    assert_eq!(method_error("\"abc"), err(0, message));
    // A doubled quote does not close a comment.
    assert_eq!(method_error("foo \"a\"\""), err(4, message));
    assert_eq!(method_error("foo ^ 1 \"a\" \"b"), err(12, message));
}

#[test]
fn dollar_at_end_of_input() {
    assert_eq!(
        method_error("foo ^ $"),
        err(6, "expected a character after '$'")
    );
}

#[test]
fn hash_not_followed_by_a_literal() {
    let message = "expected a symbol, '(' or '[' after '#'";
    assert_eq!(method_error("foo ^ # foo"), err(6, message));
    assert_eq!(method_error("foo ^ #"), err(6, message));
    assert_eq!(method_error("foo ^ #1"), err(6, message));
    assert_eq!(method_error("foo ^ #:"), err(6, message));
}

#[test]
fn unexpected_characters() {
    assert_eq!(
        method_error("foo ^ 1 ` 2"),
        err(8, "unexpected character '`'")
    );
    assert_eq!(
        method_error("foo ^ 1 → 2"),
        err(8, "unexpected character '→'")
    );
    assert_eq!(
        method_error("foo ^ \u{1}"),
        err(6, "unexpected character '\\u{1}'")
    );
}

// ----- number errors ---------------------------------------------------------------------

#[test]
fn bad_radix() {
    assert_eq!(
        method_error("foo ^ 40r1"),
        err(6, "radix must be between 2 and 36, not 40")
    );
    assert_eq!(
        method_error("foo ^ 1r0"),
        err(6, "radix must be between 2 and 36, not 1")
    );
    assert_eq!(
        method_error("foo ^ 0r0"),
        err(6, "radix must be between 2 and 36, not 0")
    );
    // The radix as written, even when it does not fit a machine integer.
    assert_eq!(
        method_error("foo ^ 99999999999r1"),
        err(6, "radix must be between 2 and 36, not 99999999999")
    );
    assert_eq!(
        method_error("foo ^ -37rZ"),
        err(7, "radix must be between 2 and 36, not 37")
    );
}

#[test]
fn invalid_digit_for_the_radix() {
    assert_eq!(
        method_error("foo ^ 2r102"),
        err(6, "digit '2' is not valid in radix 2")
    );
    assert_eq!(
        method_error("foo ^ 16r1G"),
        err(6, "digit 'G' is not valid in radix 16")
    );
    assert_eq!(
        method_error("foo ^ 8r9"),
        err(6, "digit '9' is not valid in radix 8")
    );
    assert_eq!(
        method_error("foo ^ 10rA"),
        err(6, "digit 'A' is not valid in radix 10")
    );
    // After a minus sign, the offset is the number's.
    assert_eq!(
        method_error("foo ^ -2r3"),
        err(7, "digit '3' is not valid in radix 2")
    );
}

#[test]
fn other_number_errors() {
    assert_eq!(
        method_error("foo ^ 1e200000"),
        err(6, "exponent 200000 is too large for an exact number")
    );
    assert_eq!(
        method_error("foo ^ 1s99999999999"),
        err(6, "scale 99999999999 is too large for a literal")
    );
    assert_eq!(
        method_error("foo ^ 1s100001"),
        err(6, "scale 100001 is too large for a literal")
    );
    assert_eq!(
        method_error("foo ^ 2r1.1s2"),
        err(6, "a scaled decimal with a fraction part must be decimal")
    );
}

#[test]
fn byte_array_elements() {
    assert_eq!(
        method_error("foo ^ #[1 256]"),
        err(
            10,
            "byte array elements must be integers from 0 to 255, not 256"
        )
    );
    assert_eq!(
        method_error("foo ^ #[16r100]"),
        err(
            8,
            "byte array elements must be integers from 0 to 255, not 16r100"
        )
    );
    assert_eq!(
        method_error("foo ^ #[1.5]"),
        err(
            8,
            "byte array elements must be integers from 0 to 255, not 1.5"
        )
    );
    assert_eq!(
        method_error("foo ^ #[-1]"),
        err(8, "expected an integer from 0 to 255 or ']', found '-'")
    );
    assert_eq!(
        method_error("foo ^ #[1 x]"),
        err(10, "expected an integer from 0 to 255 or ']', found 'x'")
    );
    assert_eq!(
        method_error("foo ^ #[1 2 3e3]"),
        err(
            12,
            "byte array elements must be integers from 0 to 255, not 3e3"
        )
    );
}

#[test]
fn minus_needs_a_digit_right_after_it() {
    assert_eq!(
        method_error("foo ^ 3 - - 2"),
        err(10, "expected an expression, found '-'")
    );
    assert_eq!(
        method_error("foo ^ - 2"),
        err(6, "expected an expression, found '-'")
    );
}

#[test]
fn literal_array_elements() {
    // Special characters are Symbols there (see parser_syntax.rs); a
    // closing bracket of another kind is not.
    assert_eq!(
        method_error("foo ^ #(1 ] 2)"),
        err(10, "expected a literal or ')', found ']'")
    );
    assert_eq!(
        method_error("foo ^ #(1 := 2)"),
        err(10, "expected a literal or ')', found ':='")
    );
}

// ----- assignments and declarations -----------------------------------------------------

#[test]
fn assigning_to_a_pseudo_variable() {
    for name in ["self", "super", "thisContext", "nil", "true", "false"] {
        assert_eq!(
            method_error(&format!("foo {name} := 3")),
            err(4, &format!("cannot assign to '{name}'"))
        );
    }
    assert_eq!(
        method_error("foo [ x := self := 1 ]"),
        err(11, "cannot assign to 'self'")
    );
}

#[test]
fn assigning_to_an_argument() {
    assert_eq!(
        convert_error("foo: x x := 3"),
        err(7, "cannot assign to argument 'x'")
    );
    assert_eq!(
        convert_error("foo [:y | y := 1]"),
        err(10, "cannot assign to argument 'y'")
    );
    // An outer block's argument, from an inner block.
    assert_eq!(
        convert_error("foo [:y | [ y := 1 ] ]"),
        err(12, "cannot assign to argument 'y'")
    );
}

#[test]
fn duplicate_declarations() {
    assert_eq!(
        convert_error("foo | a b a | ^ a"),
        err(10, "'a' is already declared in this scope")
    );
    assert_eq!(
        convert_error("foo: a | a | ^ a"),
        err(9, "'a' is already declared in this scope")
    );
    assert_eq!(
        convert_error("foo: a bar: a ^ a"),
        err(12, "'a' is already declared in this scope")
    );
    assert_eq!(
        convert_error("foo [:a :a | a ]"),
        err(9, "'a' is already declared in this scope")
    );
    assert_eq!(
        convert_error("foo [:a | | a | a ]"),
        err(12, "'a' is already declared in this scope")
    );
    assert_eq!(
        convert_error("foo <primitive: 1 error: ec> | ec | ^ ec"),
        err(31, "'ec' is already declared in this scope")
    );
}

#[test]
fn declaring_a_reserved_name() {
    assert_eq!(
        convert_error("foo | self | ^ 1"),
        err(6, "'self' is reserved and cannot be declared")
    );
    assert_eq!(
        convert_error("foo: super ^ 1"),
        err(5, "'super' is reserved and cannot be declared")
    );
    assert_eq!(
        convert_error("foo [:nil | 1 ]"),
        err(6, "'nil' is reserved and cannot be declared")
    );
}

// ----- blocks and temporaries ----------------------------------------------------------

#[test]
fn missing_bar_after_block_arguments() {
    assert_eq!(
        method_error("foo [:x x]"),
        err(8, "expected '|' after the block arguments, found 'x'")
    );
    assert_eq!(
        method_error("foo [:x ^ x]"),
        err(8, "expected '|' after the block arguments, found '^'")
    );
    assert_eq!(
        method_error("foo [:x"),
        err(
            7,
            "expected '|' after the block arguments, found end of input"
        )
    );
}

#[test]
fn block_argument_names() {
    assert_eq!(
        method_error("foo [: | ]"),
        err(7, "expected a block argument name after ':', found '|'")
    );
    assert_eq!(
        method_error("foo [:1]"),
        err(6, "expected a block argument name after ':', found '1'")
    );
    assert_eq!(
        method_error("foo [:x || ]"),
        err(11, "expected a temporary name or '|', found ']'")
    );
}

#[test]
fn unterminated_temporaries() {
    assert_eq!(
        method_error("foo | a b"),
        err(9, "expected a temporary name or '|', found end of input")
    );
    assert_eq!(
        method_error("foo | a 3 |"),
        err(8, "expected a temporary name or '|', found '3'")
    );
    assert_eq!(
        method_error("foo [ | a ]"),
        err(10, "expected a temporary name or '|', found ']'")
    );
    // Temporaries are declared once, before the statements.
    assert_eq!(
        method_error("foo | a | | b |"),
        err(10, "expected an expression, found '|'")
    );
    assert_eq!(
        doit_error("| a"),
        err(3, "expected a temporary name or '|', found end of input")
    );
}

// ----- pragmas -----------------------------------------------------------------------------

#[test]
fn unterminated_pragmas() {
    assert_eq!(
        method_error("foo <primitive: 60 ^ 1"),
        err(19, "expected '>' to end the pragma, found '^'")
    );
    assert_eq!(
        method_error("foo <bar"),
        err(8, "expected '>' to end the pragma, found end of input")
    );
    assert_eq!(
        method_error("foo <bar: 1 baz> ^ 1"),
        err(12, "expected '>' to end the pragma, found 'baz'")
    );
    assert_eq!(
        method_error("foo <primitive: 60>> ^ 1"),
        err(18, "expected '>' to end the pragma, found '>>'")
    );
    assert_eq!(
        method_error("foo < > ^ 1"),
        err(6, "expected a pragma selector, found '>'")
    );
    // `<>` is one binary selector, not an empty pragma.
    assert_eq!(
        method_error("foo <> ^ 1"),
        err(4, "expected an expression, found '<>'")
    );
    assert_eq!(
        method_error("foo <bar: > ^ 1"),
        err(10, "expected a literal pragma argument, found '>'")
    );
}

#[test]
fn malformed_primitives() {
    let bad = |found: &str| {
        format!(
            "expected <primitive: N> or <primitive: 'name'>, optionally with \
             module: 'module' and error: name, found <{found} ...>"
        )
    };
    assert_eq!(
        convert_error("foo <primitive: xx>"),
        err(4, &bad("primitive:"))
    );
    // A module is for a named primitive; each keyword once.
    assert_eq!(
        convert_error("foo <primitive: 60 module: 'M'>"),
        err(4, &bad("primitive:module:"))
    );
    assert_eq!(
        convert_error("foo <primitive: 'a' module: 'm' module: 'n'>"),
        err(4, &bad("primitive:module:module:"))
    );
    assert_eq!(
        convert_error("foo <primitive: 60 error: a error: b>"),
        err(4, &bad("primitive:error:error:"))
    );
    assert_eq!(
        convert_error("foo <primitive: -1>"),
        err(4, &bad("primitive:"))
    );
    assert_eq!(
        convert_error("foo <primitive: 60 error: 3>"),
        err(4, &bad("primitive:error:"))
    );
    assert_eq!(
        convert_error("foo <primitive: 'a' module: 3>"),
        err(4, &bad("primitive:module:"))
    );
    assert_eq!(
        convert_error("foo <primitive: 60 foo: 1>"),
        err(4, &bad("primitive:foo:"))
    );
    assert_eq!(
        convert_error("foo <primitive: 1> <primitive: 2>"),
        err(19, "a method can have only one primitive")
    );
    assert_eq!(
        convert_error("foo <bar: baz>"),
        err(10, "pragma arguments must be literals, not 'baz'")
    );
}

// ----- statements and messages -----------------------------------------------------------

#[test]
fn statements_must_be_separated_by_periods() {
    assert_eq!(
        method_error("foo 'a' 'b'"),
        err(8, "expected '.' or end of input, found ''b''")
    );
    assert_eq!(
        method_error("foo x := 3 y := 4"),
        err(13, "expected '.' or end of input, found ':='")
    );
    assert_eq!(
        method_error("foo ^ 1 2"),
        err(8, "expected '.' or end of input, found '2'")
    );
    assert_eq!(
        method_error("foo [ ^ 1 2 ]"),
        err(
            10,
            "expected '.' or ']' to close the block opened at 1:5, found '2'"
        )
    );
    assert_eq!(
        doit_error("3 := 4"),
        err(2, "expected '.' or end of input, found ':='")
    );
    assert_eq!(
        doit_error("| a | a b c )"),
        err(12, "expected '.' or end of input, found ')'")
    );
    assert_eq!(
        expression_error("a. b"),
        err(1, "expected end of input, found '.'")
    );
}

#[test]
fn multi_keyword_token_in_an_expression() {
    let message = "expected a keyword followed by an argument, found 'foo:bar:'";
    assert_eq!(method_error("foo x foo:bar: 3"), err(6, message));
    assert_eq!(method_error("foo x at: 1 foo:bar: 2"), err(12, message));
    assert_eq!(method_error("foo x y; at: 1 foo:bar: 2"), err(15, message));
    assert_eq!(
        method_error("foo x y; foo:bar: 3"),
        err(9, "expected a message after ';', found 'foo:bar:'")
    );
    assert_eq!(
        method_error("at:put: x"),
        err(0, "expected a message pattern, found 'at:put:'")
    );
}

#[test]
fn cascade_errors() {
    assert_eq!(
        method_error("foo 3; bar"),
        err(5, "a cascade ';' must follow a message send")
    );
    assert_eq!(
        method_error("foo x bar; 3"),
        err(11, "expected a message after ';', found '3'")
    );
    assert_eq!(
        method_error("foo x bar;"),
        err(10, "expected a message after ';', found end of input")
    );
    assert_eq!(
        method_error("foo x bar; baz qux"),
        err(15, "expected '.' or end of input, found 'qux'")
    );
}

#[test]
fn missing_expressions() {
    assert_eq!(
        method_error("foo x at:"),
        err(9, "expected an expression, found end of input")
    );
    assert_eq!(
        method_error("foo x +"),
        err(7, "expected an expression, found end of input")
    );
    assert_eq!(
        method_error("foo ^"),
        err(5, "expected an expression, found end of input")
    );
    assert_eq!(
        method_error("foo x := "),
        err(9, "expected an expression, found end of input")
    );
    assert_eq!(
        method_error("foo x foo: ^ 1"),
        err(11, "expected an expression, found '^'")
    );
}

#[test]
fn method_pattern_errors() {
    assert_eq!(
        method_error(""),
        err(0, "expected a message pattern, found end of input")
    );
    assert_eq!(
        method_error("foo: "),
        err(5, "expected an argument name, found end of input")
    );
    assert_eq!(
        method_error("+ 3"),
        err(2, "expected an argument name, found '3'")
    );
    assert_eq!(
        method_error("at: x put:"),
        err(10, "expected an argument name, found end of input")
    );
    assert_eq!(
        method_error("3 foo"),
        err(0, "expected a message pattern, found '3'")
    );
    assert_eq!(
        method_error("[ foo ]"),
        err(0, "expected a message pattern, found '['")
    );
}

#[test]
fn long_tokens_are_shortened_in_messages() {
    let src = format!("foo ^ 1 '{}'", "x".repeat(100));
    assert_eq!(
        method_error(&src),
        err(
            8,
            "expected '.' or end of input, found ''xxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"
        )
    );
}

// ----- nesting ---------------------------------------------------------------------------

/// Runs `f` on a thread with a large stack: a debug build needs several
/// kilobytes of stack per nesting level.
fn with_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn nesting_deeper_than_the_limit_is_an_error() {
    with_big_stack(|| {
        let message = format!("expected at most {MAX_NESTING} levels of nesting, found '('");
        let deep = |open: &str, close: &str, n: usize| {
            format!("foo ^ {}1{}", open.repeat(n), close.repeat(n))
        };
        // The limit itself parses, converts and prints.
        for (open, close) in [("(", ")"), ("[", "]"), ("{", "}"), ("#(", ")")] {
            let src = deep(open, close, MAX_NESTING - 1);
            let m = parse_method(&src).unwrap();
            let z = convert_method(&m, &ClassScope::empty()).unwrap();
            print_method(&z);
        }
        assert_eq!(
            method_error(&deep("(", ")", MAX_NESTING + 1)),
            (6 + MAX_NESTING, message.clone())
        );
        assert_eq!(
            method_error(&deep("[", "]", 100_000)),
            (6 + MAX_NESTING, message.replace('(', "["))
        );
        assert_eq!(
            method_error(&deep("{", "}", 100_000)),
            (6 + MAX_NESTING, message.replace('(', "{"))
        );
        assert_eq!(
            method_error(&deep("#(", ")", 100_000)),
            (6 + 2 * MAX_NESTING, message.replace('(', "#("))
        );
        // Unclosed, and mixed.
        assert_eq!(
            method_error(&format!("foo ^ {}", "[(".repeat(100_000))),
            (6 + MAX_NESTING, message.replace('(', "["))
        );
        // Assignments nest too.
        assert_eq!(
            method_error(&format!("foo ^ {}1", "a := ".repeat(100_000))),
            (6 + 5 * MAX_NESTING, message.replace('(', "a"))
        );
    });
}

// ----- robustness ---------------------------------------------------------------------------

/// Feeds `input` to every entry point (and, when it parses, through
/// conversion and printing); answers whether anything panicked.
fn panics(input: &str) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        let scope = ClassScope::empty();
        if let Ok(m) = parse_method(input) {
            if let Ok(z) = convert_method(&m, &scope) {
                print_method(&z);
            }
        }
        if let Ok(s) = parse_doit(input) {
            if let Ok(z) = convert_doit(&s, &scope) {
                print_method(&z);
            }
        }
        let _ = parse_expression(input);
    }))
    .is_err()
}

fn assert_no_panics(inputs: impl IntoIterator<Item = String>) {
    let failures: Vec<String> = inputs.into_iter().filter(|i| panics(i)).collect();
    assert!(
        failures.is_empty(),
        "{} inputs panicked, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
}

/// A method using most of the syntax, with non-ASCII text.
const REALISTIC: &str = "printOn: aStream base: b \"a comment \"\"quoted\"\"\"
\t| t u |
\t<primitive: 60 error: ec>
\t<pragma: #(1 $a 'x' #[1 2] (nested #sym) foo:bar:) other: -3.5e-2>
\tt := #(1 2.5s2 16r1F 16rff -3 $' #foo:bar: 'it''s' #'sp ace' true) , { self. super. thisContext }.
\tu := [:x :y || w | w := x @ y -> (x ==> y). ^ w ~~ nil ] value: 1e-2 value: 2r1e4.
\taStream nextPutAll: 'é€'; cr; print: (t at: 1); yourself.
\tthisContext sender ifNotNil: [:s | s foo: b bar: 1e10 baz: 36rZZ ].
\t^ t isEmpty ifTrue: [ u ] ifFalse: [ t \\\\ 2 // 3 - -4 ]";

/// `text` cut at byte `i`, replacing a split character.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_realistic_method_is_valid() {
    let m = parse_method(REALISTIC).unwrap();
    let z = convert_method(&m, &ClassScope::empty()).unwrap();
    let printed = print_method(&z);
    let again = convert_method(&parse_method(&printed).unwrap(), &ClassScope::empty()).unwrap();
    assert_eq!(again, z);
}

#[test]
fn no_panic_on_truncations() {
    let bytes = REALISTIC.as_bytes();
    let mut inputs = Vec::new();
    for i in 0..=bytes.len() {
        inputs.push(lossy(&bytes[..i]));
        inputs.push(lossy(&bytes[i..]));
        // Also with one byte removed.
        if i < bytes.len() {
            let mut v = bytes.to_vec();
            v.remove(i);
            inputs.push(lossy(&v));
        }
    }
    assert_no_panics(inputs);
}

/// A fixed-seed xorshift generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn no_panic_on_random_bytes() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let inputs = (0..3000).map(|_| {
        let len = rng.below(80);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                // Mostly printable ASCII, sometimes anything.
                if rng.below(8) == 0 {
                    rng.next() as u8
                } else {
                    b' ' + rng.below(95) as u8
                }
            })
            .collect();
        lossy(&bytes)
    });
    assert_no_panics(inputs.collect::<Vec<_>>());
}

#[test]
fn no_panic_on_random_token_soup() {
    const PIECES: &[&str] = &[
        "foo",
        "bar:",
        "baz:qux:",
        "x",
        "self",
        "super",
        "thisContext",
        "nil",
        "true",
        " ",
        " ",
        "\n",
        "\t",
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        "#(",
        "#[",
        "#",
        "##",
        ":",
        ":=",
        "^",
        ".",
        ";",
        "|",
        "||",
        "<",
        ">",
        "<primitive: ",
        "error:",
        "module:",
        "+",
        "-",
        "->",
        "==>",
        "\\\\",
        "'",
        "''",
        "'s'",
        "\"",
        "\"c\"",
        "$",
        "$a",
        "$'",
        "1",
        "-1",
        "16r",
        "1F",
        "ff",
        "2r",
        "36rZZ",
        "e",
        "e-",
        "1e10",
        "1.5",
        "s",
        "s2",
        "1.5s2",
        "#foo:",
        "#+",
        "#'",
        "é",
        "→",
        "\u{0}",
        "r",
        "0",
        "300",
    ];
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let inputs = (0..4000).map(|_| {
        let n = rng.below(30);
        (0..n)
            .map(|_| PIECES[rng.below(PIECES.len())])
            .collect::<String>()
    });
    assert_no_panics(inputs.collect::<Vec<_>>());
}

#[test]
fn no_panic_on_mutations_of_a_valid_method() {
    const REPLACEMENTS: &[u8] = b"[](){}#$'\":;.^|<>-+ \nrse0123456789ZAa";
    let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
    let inputs = (0..2000).map(|_| {
        let mut bytes = REALISTIC.as_bytes().to_vec();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bytes.len());
            bytes[i] = REPLACEMENTS[rng.below(REPLACEMENTS.len())];
        }
        lossy(&bytes)
    });
    assert_no_panics(inputs.collect::<Vec<_>>());
}

#[test]
fn no_panic_on_unbalanced_brackets_and_lone_quotes() {
    let inputs = [
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        "#(",
        "#[",
        "[[[",
        "]]]",
        "(((",
        ")))",
        "[(])",
        "#(()",
        "#[1 2",
        "{[(",
        "foo [ ( { #( #[",
        "foo ]",
        "foo )",
        "foo }",
        "foo ^ [:x | (x",
        "<",
        ">",
        "<primitive:",
        "foo <primitive:",
        "foo <",
        "| a",
        "||",
        "|||",
        "foo |",
        ":",
        "::",
        ":=",
        "^",
        "^^",
        ".",
        ";",
        ";;",
        "#",
        "##",
        "$",
        "'",
        "''",
        "'''",
        "\"",
        "\"\"",
        "\"\"\"",
        "#'",
        "#'a",
        "$'",
        "'\"",
        "\"'",
        "foo ^ 'a",
        "foo \"",
        "foo ^ #'",
        "foo ^ $",
        "foo [:",
        "foo [:x",
        "foo [:x |",
        "foo [:x ||",
        "foo [ |",
        "foo: ",
        "foo:",
        "+",
        "+ ",
        "foo x;",
        "foo x; ;",
        "foo x := := 3",
        "foo #(#(#(",
        "foo #[#[",
        "foo 16r",
        "foo 16r-",
        "foo 1e",
        "foo 1e-",
        "foo 1.",
        "foo 1.5s",
        "foo 2r1.",
        "foo -",
        "foo --1",
        "foo ^ x:y:z:",
        "\u{feff}foo",
        "foo ^ $\u{10ffff}",
        "foo ^ #é:",
    ];
    assert_no_panics(inputs.iter().map(|s| s.to_string()));
    // Every prefix of a deeply nested line too.
    let nested = "foo ^ [:a | (a foo: { #(1 #[2] (3)). [ b ] }) bar; baz: 'x' ]";
    assert_no_panics((0..=nested.len()).map(|i| nested[..i].to_string()));
}

#[test]
fn long_message_chains_have_a_depth_limit_of_their_own() {
    // Each message of a chain deepens the tree that conversion, printing,
    // code generation and dropping walk recursively; chains may be longer
    // than nesting may be deep (Pharo code has chains of hundreds of
    // sends), up to MAX_DEPTH. Run on a main thread's 8 MB stack.
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(|| {
            for link in ["+1", " abs", " , 'x'"] {
                let ok = format!("foo ^ 1{}", link.repeat(MAX_DEPTH - 1));
                let method = parse_method(&ok).unwrap();
                let zag = zag_compiler::convert::convert_method(
                    &method,
                    &zag_compiler::environment::ClassScope::empty(),
                )
                .unwrap();
                let printed = zag_compiler::printer::print_method(&zag);
                assert!(printed.len() > MAX_DEPTH);
                let threaded = zag_compiler::threaded::compile_method(&zag).unwrap();
                zag_compiler::lowering::lower(&threaded);

                let too_long = format!("foo ^ 1{}", link.repeat(100_000));
                let err = parse_method(&too_long).unwrap_err();
                assert!(
                    err.message.starts_with(&format!(
                        "expected an expression at most {MAX_DEPTH} sends and nesting levels deep, found "
                    )),
                    "{}",
                    err.message
                );
            }
            // Nesting counts too: 200 levels of parentheses around a chain
            // of 1,000 sends is too deep.
            let mixed = format!("foo ^ {}1{}{}", "(".repeat(200), " abs".repeat(1000), ")".repeat(200));
            let err = parse_method(&mixed).unwrap_err();
            assert!(err.message.contains(&format!("at most {MAX_DEPTH} sends")), "{}", err.message);
        })
        .unwrap()
        .join()
        .unwrap();
}
