//! Every syntax form of Pharo, through the public front end: the exact
//! Pharo AST the parser builds (shape, values, spans, comments), the Zag AST
//! it converts to, and the source round trip (print the Zag AST, re-parse,
//! re-convert: the same AST again).
//!
//! Parse errors and robustness against junk are in `parser_errors.rs`.

use zag_compiler::bigint::BigInt;
use zag_compiler::convert::{convert_doit, convert_method};
use zag_compiler::environment::{ClassScope, ClassShape, Environment};
use zag_compiler::literal::{Float, Literal};
use zag_compiler::parser::{parse_doit, parse_expression, parse_method};
use zag_compiler::pharo_ast::*;
use zag_compiler::printer::{print_literal, print_method};
use zag_compiler::source::Span;
use zag_compiler::zag_ast as z;

// ----- helpers -----------------------------------------------------------------

fn method(src: &str) -> Method {
    parse_method(src).unwrap_or_else(|e| panic!("{src:?} does not parse: {e:?}"))
}

fn expr(src: &str) -> Expr {
    parse_expression(src).unwrap_or_else(|e| panic!("{src:?} does not parse: {e:?}"))
}

fn literal(src: &str) -> Literal {
    match expr(src) {
        Expr::Literal(l, _) => l,
        other => panic!("{src:?} is not a literal: {other:?}"),
    }
}

fn float(src: &str) -> f64 {
    match literal(src) {
        Literal::Float(Float(f)) => f,
        other => panic!("{src:?} is not a float: {other:?}"),
    }
}

fn span(start: usize, end: usize) -> Span {
    Span::new(start, end)
}

/// The text a span covers.
fn text_at(src: &str, s: Span) -> &str {
    &src[s.range()]
}

/// A compact rendering of an expression's shape: every message send is
/// parenthesized, `(receiver selector args)`; a cascade is
/// `(receiver; msg; msg)`; literals are shown as Pharo source.
fn sexp(e: &Expr) -> String {
    match e {
        Expr::Variable(i) => i.name.clone(),
        Expr::Literal(l, _) => print_literal(l),
        Expr::Assignment(target, value, _) => format!("({} := {})", target.name, sexp(value)),
        Expr::Message(m) => format!(
            "({} {})",
            sexp(&m.receiver),
            message(&m.selector, &m.arguments)
        ),
        Expr::Cascade(c) => {
            let messages: Vec<String> = c
                .messages
                .iter()
                .map(|m| message(&m.selector, &m.arguments))
                .collect();
            format!("({}; {})", sexp(&c.receiver), messages.join("; "))
        }
        Expr::Block(b) => {
            let mut parts = Vec::new();
            if !b.arguments.is_empty() {
                let args: Vec<String> =
                    b.arguments.iter().map(|a| format!(":{}", a.name)).collect();
                parts.push(format!("{} |", args.join(" ")));
            }
            if !b.body.temporaries.is_empty() {
                let temps: Vec<&str> = b.body.temporaries.iter().map(|t| t.name.as_str()).collect();
                parts.push(format!("| {} |", temps.join(" ")));
            }
            if !b.body.statements.is_empty() {
                parts.push(statements(&b.body.statements));
            }
            format!("[{}]", parts.join(" "))
        }
        Expr::BraceArray(elements, _) => format!("{{{}}}", statements(elements)),
    }
}

fn message(selector: &str, arguments: &[Expr]) -> String {
    if arguments.is_empty() {
        selector.to_string()
    } else if selector.ends_with(':') {
        selector
            .split_inclusive(':')
            .zip(arguments)
            .map(|(k, a)| format!("{k} {}", sexp(a)))
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        format!("{selector} {}", sexp(&arguments[0]))
    }
}

fn statement(s: &Statement) -> String {
    match s {
        Statement::Expression(e) => sexp(e),
        Statement::Return(e, _) => format!("^{}", sexp(e)),
    }
}

fn statements(s: &[Statement]) -> String {
    s.iter().map(statement).collect::<Vec<_>>().join(". ")
}

/// Converts `src` in `scope`, prints the Zag AST back to source, re-parses
/// and re-converts that, and checks the result is the same Zag AST (and that
/// printing it again gives the same text). Answers the Zag method.
fn round_trip_in(src: &str, scope: &ClassScope) -> z::Method {
    let parsed = method(src);
    let zag = convert_method(&parsed, scope)
        .unwrap_or_else(|e| panic!("{src:?} does not convert: {e:?}"));
    let printed = print_method(&zag);
    let reparsed = parse_method(&printed)
        .unwrap_or_else(|e| panic!("printed source does not parse ({e:?}):\n{printed}"));
    let again = convert_method(&reparsed, scope)
        .unwrap_or_else(|e| panic!("printed source does not convert ({e:?}):\n{printed}"));
    assert_eq!(
        again, zag,
        "printed source reads back differently:\n{printed}"
    );
    assert_eq!(print_method(&again), printed, "printing is not stable");
    zag
}

fn round_trip(src: &str) -> z::Method {
    round_trip_in(src, &ClassScope::empty())
}

/// Round-trips `statement` as the only statement of a method; answers its
/// Zag node.
fn round_trip_statement(statement: &str) -> z::Node {
    let m = round_trip(&format!("probe\n\t{statement}"));
    assert_eq!(m.body.len(), 1, "{statement:?}");
    m.body.into_iter().next().unwrap()
}

/// The Zag node of `^ expr`, round-tripped.
fn zag_value(expr: &str) -> z::Node {
    match round_trip_statement(&format!("^ {expr}")) {
        z::Node::Return { value, .. } => *value,
        other => panic!("{other:?}"),
    }
}

fn local_names(m: &z::Method, ids: &[z::LocalId]) -> Vec<String> {
    ids.iter().map(|&id| m.local(id).name.clone()).collect()
}

fn global(name: &str) -> z::Var {
    z::Var::Global(name.to_string())
}

// ----- messages and precedence ------------------------------------------------

#[test]
fn unary_binds_tighter_than_binary_tighter_than_keyword() {
    let e = expr("a b + c d: e f");
    assert_eq!(sexp(&e), "(((a b) + c) d: (e f))");
    let Expr::Message(m) = &e else { panic!() };
    assert_eq!(m.selector, "d:");
    assert_eq!(m.arguments.len(), 1);
    round_trip_statement("a b + c d: e f");
}

#[test]
fn binary_messages_associate_left_to_right() {
    assert_eq!(sexp(&expr("a + b * c - d")), "(((a + b) * c) - d)");
    assert_eq!(sexp(&expr("1 + 2 sqrt * 3")), "((1 + (2 sqrt)) * 3)");
    assert_eq!(
        zag_value("1 + 2 * 3"),
        z::Node::Send(z::Send {
            receiver: Box::new(z::Node::Send(z::Send {
                receiver: Box::new(z::Node::Literal(Literal::Integer(1), z::Pos(0))),
                selector: "+".into(),
                arguments: vec![z::Node::Literal(Literal::Integer(2), z::Pos(0))],
                is_super: false,
                pos: z::Pos(0),
            })),
            selector: "*".into(),
            arguments: vec![z::Node::Literal(Literal::Integer(3), z::Pos(0))],
            is_super: false,
            pos: z::Pos(0),
        })
    );
}

#[test]
fn unary_messages_chain() {
    assert_eq!(sexp(&expr("a b c d")), "(((a b) c) d)");
    round_trip_statement("a b c d");
}

#[test]
fn keywords_form_one_message() {
    let src = "dict at: key put: value + 1";
    let e = expr(src);
    assert_eq!(sexp(&e), "(dict at: key put: (value + 1))");
    let Expr::Message(m) = &e else { panic!() };
    assert_eq!(m.selector, "at:put:");
    let parts: Vec<(&str, Span)> = m
        .selector_parts
        .iter()
        .map(|p| (&src[p.range()], *p))
        .collect();
    assert_eq!(parts, [("at:", span(5, 8)), ("put:", span(13, 17))]);
    assert_eq!(m.span, span(0, 27));
    round_trip_statement("dict at: key put: value + 1");
}

#[test]
fn keyword_arguments_take_binary_expressions() {
    assert_eq!(
        sexp(&expr("a foo: b bar + c baz: d")),
        "(a foo: ((b bar) + c) baz: d)"
    );
}

#[test]
fn parentheses_override_precedence() {
    assert_eq!(sexp(&expr("(a + b) * c")), "((a + b) * c)");
    assert_eq!(sexp(&expr("a + (b * c)")), "(a + (b * c))");
    assert_eq!(sexp(&expr("(a foo: b) bar")), "((a foo: b) bar)");
    assert_eq!(sexp(&expr("a foo: (b bar: c)")), "(a foo: (b bar: c))");
    assert_eq!(sexp(&expr("((a))")), "a");
    assert_eq!(sexp(&expr("(3)")), "3");
    for s in [
        "(a + b) * c",
        "a + (b * c)",
        "(a foo: b) bar",
        "a foo: (b bar: c)",
        "(a foo: b) + (c bar: d)",
        "((a := 3) + 1) printString",
    ] {
        round_trip_statement(s);
    }
}

#[test]
fn parenthesized_expressions_span_their_parentheses() {
    let src = "(a + b) foo";
    let Expr::Message(m) = expr(src) else {
        panic!()
    };
    assert_eq!(m.span, span(0, 11));
    assert_eq!(m.receiver.span(), span(0, 7));
    // A variable keeps the span of its name.
    let Expr::Message(m) = expr("(a) foo") else {
        panic!()
    };
    assert_eq!(m.receiver.span(), span(1, 2));
    assert_eq!(m.span, span(1, 7));
    // The closing parenthesis of the last argument is part of the send.
    let src = "x + (y)";
    let Expr::Message(m) = expr(src) else {
        panic!()
    };
    assert_eq!(text_at(src, m.span), "x + (y)");
}

// ----- cascades ------------------------------------------------------------------

#[test]
fn cascade_sends_every_message_to_one_receiver() {
    let src = "Transcript show: 'a'; cr; show: 'b'";
    let Expr::Cascade(c) = expr(src) else {
        panic!()
    };
    assert_eq!(sexp(&c.receiver), "Transcript");
    let messages: Vec<(&str, Vec<String>)> = c
        .messages
        .iter()
        .map(|m| (m.selector.as_str(), m.arguments.iter().map(sexp).collect()))
        .collect();
    assert_eq!(
        messages,
        [
            ("show:", vec!["'a'".to_string()]),
            ("cr", vec![]),
            ("show:", vec!["'b'".to_string()]),
        ]
    );
    let spans: Vec<&str> = c.messages.iter().map(|m| text_at(src, m.span)).collect();
    assert_eq!(spans, ["show: 'a'", "cr", "show: 'b'"]);
    assert_eq!(c.span, span(0, 35));

    let z::Node::Cascade(zc) = round_trip_statement(src) else {
        panic!()
    };
    assert!(!zc.is_super);
    assert_eq!(
        *zc.receiver,
        z::Node::Variable(global("Transcript"), z::Pos(0))
    );
    let selectors: Vec<&str> = zc.messages.iter().map(|m| m.selector.as_str()).collect();
    assert_eq!(selectors, ["show:", "cr", "show:"]);
}

#[test]
fn cascade_on_super_is_a_super_cascade() {
    let m = method("initialize super initialize; setUp: 3; yourself");
    let Statement::Expression(Expr::Cascade(c)) = &m.body.statements[0] else {
        panic!()
    };
    assert_eq!(sexp(&c.receiver), "super");
    assert_eq!(c.messages.len(), 3);
    let z = round_trip("initialize super initialize; setUp: 3; yourself");
    let z::Node::Cascade(zc) = &z.body[0] else {
        panic!()
    };
    assert!(zc.is_super);
    assert_eq!(*zc.receiver, z::Node::Variable(z::Var::Super, z::Pos(0)));
}

#[test]
fn cascade_receiver_is_the_receiver_of_the_last_message() {
    // Unary, binary and keyword cascade parts after a unary chain.
    assert_eq!(
        sexp(&expr("a b c; d; + 1 sqrt; e: 2 + 3 f: 4")),
        "((a b); c; d; + (1 sqrt); e: (2 + 3) f: 4)"
    );
    // The first message a keyword one: the receiver is the binary expression.
    assert_eq!(sexp(&expr("a + b foo: c; bar")), "((a + b); foo: c; bar)");
    // The first message a binary one.
    assert_eq!(sexp(&expr("a + b * c; d")), "((a + b); * c; d)");
    for s in [
        "a b c; d; + 1 sqrt; e: 2 + 3 f: 4",
        "a + b foo: c; bar",
        "a + b * c; d",
        "x := OrderedCollection new add: 1; add: 2; yourself",
        "a foo: (b bar; baz)",
        "(a foo; bar) baz",
    ] {
        round_trip_statement(s);
    }
}

// ----- blocks --------------------------------------------------------------------

#[test]
fn block_with_arguments_and_temporaries() {
    let src = "[:a :b | | t | t := a. t]";
    let Expr::Block(b) = expr(src) else { panic!() };
    let args: Vec<(&str, Span)> = b
        .arguments
        .iter()
        .map(|a| (a.name.as_str(), a.span))
        .collect();
    assert_eq!(args, [("a", span(2, 3)), ("b", span(5, 6))]);
    let temps: Vec<&str> = b.body.temporaries.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(temps, ["t"]);
    assert_eq!(statements(&b.body.statements), "(t := a). t");
    assert_eq!(b.span, span(0, 25));
    assert_eq!(text_at(src, b.body.span), "| t | t := a. t");

    let m = round_trip(&format!("probe ^ {src}"));
    let z::Node::Return { value, .. } = &m.body[0] else {
        panic!()
    };
    let z::Node::Block(zb) = &**value else {
        panic!()
    };
    assert_eq!(local_names(&m, &zb.arguments), ["a", "b"]);
    assert_eq!(local_names(&m, &zb.temporaries), ["t"]);
    assert!(!zb.inlined);
    assert_eq!(zb.scope, 1);
    assert_eq!(zb.body.len(), 2);
    assert_eq!(m.local(zb.temporaries[0]).scope, 1);
}

#[test]
fn block_arguments_then_double_bar_start_temporaries() {
    let Expr::Block(b) = expr("[:x || t | ]") else {
        panic!()
    };
    let args: Vec<&str> = b.arguments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(args, ["x"]);
    let temps: Vec<(&str, Span)> = b
        .body
        .temporaries
        .iter()
        .map(|t| (t.name.as_str(), t.span))
        .collect();
    assert_eq!(temps, [("t", span(7, 8))]);
    assert!(b.body.statements.is_empty());
    assert_eq!(sexp(&expr("[:x || t | t := x]")), "[:x | | t | (t := x)]");
    round_trip_statement("^ [:x || t | t := x. t]");
}

#[test]
fn block_arguments_without_a_bar_before_the_bracket() {
    let Expr::Block(b) = expr("[:x]") else {
        panic!()
    };
    assert_eq!(b.arguments.len(), 1);
    assert!(b.body.statements.is_empty());
    assert_eq!(b.span, span(0, 4));
    assert_eq!(sexp(&expr("[:x :y]")), "[:x :y |]");
    assert_eq!(sexp(&expr("[:x | ]")), "[:x |]");
    // Whitespace is allowed between the colon and the name.
    assert_eq!(sexp(&expr("[: x | x]")), "[:x | x]");
    round_trip_statement("^ [:x]");
    round_trip_statement("^ [:x :y | ]");
}

#[test]
fn empty_block() {
    let Expr::Block(b) = expr("[]") else { panic!() };
    assert!(b.arguments.is_empty());
    assert!(b.body.temporaries.is_empty());
    assert!(b.body.statements.is_empty());
    assert_eq!(b.span, span(0, 2));
    assert_eq!(sexp(&expr("[ ]")), "[]");
    assert_eq!(sexp(&expr("[ || ]")), "[]");
    assert_eq!(sexp(&expr("[ | | ]")), "[]");
    let node = zag_value("[]");
    let z::Node::Block(b) = node else { panic!() };
    assert!(b.body.is_empty());
}

#[test]
fn block_with_temporaries_only() {
    assert_eq!(sexp(&expr("[ | a b | a := b ]")), "[| a b | (a := b)]");
    // Inside a block, `|` after an expression is a binary message.
    assert_eq!(sexp(&expr("[ a | b ]")), "[(a | b)]");
    assert_eq!(sexp(&expr("[:x | x | y ]")), "[:x | (x | y)]");
    round_trip_statement("^ [ | a b | a := b. a | b ]");
}

#[test]
fn block_statements_and_trailing_periods() {
    assert_eq!(sexp(&expr("[ a. b. ]")), "[a. b]");
    assert_eq!(sexp(&expr("[ . a .. b ]")), "[a. b]");
    assert_eq!(sexp(&expr("[ ^ a ]")), "[^a]");
}

#[test]
fn nested_blocks_capture_outer_locals() {
    let m = round_trip("probe: x | t | ^ [:a | [:b | t := a + b + x ] ]");
    let z::Node::Return { value, .. } = &m.body[0] else {
        panic!()
    };
    let z::Node::Block(outer) = &**value else {
        panic!()
    };
    let z::Node::Block(inner) = &outer.body[0] else {
        panic!()
    };
    let captured: Vec<(String, bool)> = inner
        .captures
        .iter()
        .map(|c| (m.local(c.local).name.clone(), c.written))
        .collect();
    assert_eq!(
        captured,
        [("a".into(), false), ("x".into(), false), ("t".into(), true)]
    );
}

#[test]
fn inlined_control_blocks_round_trip() {
    for s in [
        "x ifTrue: [ 1 ] ifFalse: [ 2 ]",
        "x ifNil: [ 1 ] ifNotNil: [:y | y ]",
        "1 to: 10 do: [:i | i printNl ]",
        "[ x < 3 ] whileTrue: [ x := x + 1 ]",
        "x and: [ y ]",
        "3 timesRepeat: [ x foo ]",
    ] {
        let node = round_trip_statement(s);
        let z::Node::Send(send) = &node else { panic!() };
        assert!(
            zag_compiler::convert::is_inlined_send(send),
            "{s} is not inlined"
        );
    }
}

// ----- temporaries, assignment, returns ----------------------------------------------

#[test]
fn method_temporaries() {
    let src = "foo | a b | a := 1. ^ b";
    let m = method(src);
    let temps: Vec<(&str, Span)> = m
        .body
        .temporaries
        .iter()
        .map(|t| (t.name.as_str(), t.span))
        .collect();
    assert_eq!(temps, [("a", span(6, 7)), ("b", span(8, 9))]);
    assert_eq!(statements(&m.body.statements), "(a := 1). ^b");
    let z = round_trip(src);
    assert_eq!(local_names(&z, &z.temporaries), ["a", "b"]);
    assert!(z.local(z.temporaries[0]).assigned);
    assert!(!z.local(z.temporaries[1]).assigned);
    assert_eq!(z.local(z.temporaries[0]).kind, z::LocalKind::Temporary);
}

#[test]
fn empty_method_temporaries() {
    for src in ["foo || ^ 1", "foo | | ^ 1"] {
        let m = method(src);
        assert!(m.body.temporaries.is_empty(), "{src}");
        assert_eq!(statements(&m.body.statements), "^1");
        round_trip(src);
    }
}

#[test]
fn chained_assignment() {
    let src = "foo | a b | a := b := 3";
    let m = method(src);
    let Statement::Expression(Expr::Assignment(a, value, s)) = &m.body.statements[0] else {
        panic!()
    };
    assert_eq!(a.name, "a");
    assert_eq!(*s, span(12, 23));
    let Expr::Assignment(b, three, s) = &**value else {
        panic!()
    };
    assert_eq!(b.name, "b");
    assert_eq!(*s, span(17, 23));
    assert_eq!(**three, Expr::Literal(Literal::Integer(3), span(22, 23)));

    let z = round_trip(src);
    let (ta, tb) = (z.temporaries[0], z.temporaries[1]);
    assert_eq!(
        z.body[0],
        z::Node::Assign(
            z::Var::Local(ta),
            Box::new(z::Node::Assign(
                z::Var::Local(tb),
                Box::new(z::Node::Literal(Literal::Integer(3), z::Pos(0))),
                z::Pos(0)
            )),
            z::Pos(0)
        )
    );
    assert!(z.local(ta).assigned && z.local(tb).assigned);
}

#[test]
fn returns() {
    let m = method("foo 1. ^ 2");
    assert_eq!(statements(&m.body.statements), "1. ^2");
    let Statement::Return(_, s) = &m.body.statements[1] else {
        panic!()
    };
    assert_eq!(*s, span(7, 10));
    // Statements after a return are accepted, as in Pharo.
    assert_eq!(statements(&method("foo ^ 1. 2").body.statements), "^1. 2");

    // `^` in a real block returns from the method; in an inlined one it is
    // a plain method return.
    let z = round_trip("foo [ ^ 1 ] value. x ifTrue: [ ^ 2 ]. ^ 3");
    let z::Node::Send(value) = &z.body[0] else {
        panic!()
    };
    let z::Node::Block(real) = &*value.receiver else {
        panic!()
    };
    assert!(real.has_non_local_return);
    assert!(matches!(
        real.body[0],
        z::Node::Return {
            non_local: true,
            ..
        }
    ));
    let z::Node::Send(if_true) = &z.body[1] else {
        panic!()
    };
    let z::Node::Block(inlined) = &if_true.arguments[0] else {
        panic!()
    };
    assert!(inlined.inlined);
    assert!(matches!(
        inlined.body[0],
        z::Node::Return {
            non_local: false,
            ..
        }
    ));
    assert!(matches!(
        z.body[2],
        z::Node::Return {
            non_local: false,
            ..
        }
    ));
}

// ----- pseudo-variables -----------------------------------------------------------

#[test]
fn self_super_this_context_are_variables_nil_true_false_literals() {
    let src = "{ self. super. thisContext. nil. true. false }";
    let Expr::BraceArray(items, _) = expr(src) else {
        panic!()
    };
    let kinds: Vec<String> = items
        .iter()
        .map(|s| match s {
            Statement::Expression(Expr::Variable(v)) => format!("var {}", v.name),
            Statement::Expression(Expr::Literal(l, _)) => format!("lit {l:?}"),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "var self",
            "var super",
            "var thisContext",
            "lit Nil",
            "lit True",
            "lit False"
        ]
    );
    let z = round_trip(&format!("probe ^ {src}"));
    assert!(z.uses_this_context);
    let z::Node::Return { value, .. } = &z.body[0] else {
        panic!()
    };
    let z::Node::Brace(items, _) = &**value else {
        panic!()
    };
    assert_eq!(
        *items,
        [
            z::Node::Variable(z::Var::SelfRef, z::Pos(0)),
            z::Node::Variable(z::Var::Super, z::Pos(0)),
            z::Node::Variable(z::Var::ThisContext, z::Pos(0)),
            z::Node::Literal(Literal::Nil, z::Pos(0)),
            z::Node::Literal(Literal::True, z::Pos(0)),
            z::Node::Literal(Literal::False, z::Pos(0)),
        ]
    );
    assert!(!round_trip("probe ^ self").uses_this_context);
}

#[test]
fn super_sends_are_marked() {
    let z = round_trip("printOn: aStream super printOn: aStream. self foo");
    let z::Node::Send(s) = &z.body[0] else {
        panic!()
    };
    assert!(s.is_super);
    let z::Node::Send(s) = &z.body[1] else {
        panic!()
    };
    assert!(!s.is_super);
}

// ----- number literals ---------------------------------------------------------------

#[test]
fn radix_integers() {
    assert_eq!(literal("16r1F"), Literal::Integer(31));
    assert_eq!(literal("2r1010"), Literal::Integer(10));
    assert_eq!(literal("36rZZ"), Literal::Integer(1295));
    assert_eq!(literal("8r777"), Literal::Integer(511));
    assert_eq!(literal("10r99"), Literal::Integer(99));
    // The sign can come before the radix or after it.
    assert_eq!(literal("16r-1F"), Literal::Integer(-31));
    assert_eq!(literal("-16r1F"), Literal::Integer(-31));
    // Lower-case letters are digits too, as in Pharo (`Character>>digitValue`).
    assert_eq!(literal("16rff"), Literal::Integer(255));
    assert_eq!(literal("36rzz"), Literal::Integer(1295));
    // ... so in radix 16 an `e` is a digit, not an exponent,
    assert_eq!(literal("16r1e2"), Literal::Integer(0x1e2));
    // but below radix 15 it is the exponent.
    assert_eq!(literal("16r1Fe1"), Literal::Integer(0x1FE1));
    assert_eq!(literal("10r1e2"), Literal::Integer(100));
    for s in ["16r1F", "16r-1F", "16rff", "36rZZ"] {
        round_trip_statement(&format!("^ {s}"));
    }
}

#[test]
fn integers_with_exponents_are_integers() {
    assert_eq!(literal("1e10"), Literal::Integer(10_000_000_000));
    assert_eq!(literal("2r1e4"), Literal::Integer(16));
    assert_eq!(literal("3e0"), Literal::Integer(3));
    assert_eq!(literal("8r7e2"), Literal::Integer(7 * 64));
    round_trip_statement("^ 1e10");
}

#[test]
fn negative_integer_literal() {
    assert_eq!(expr("-5"), Expr::Literal(Literal::Integer(-5), span(0, 2)));
    assert_eq!(literal("-0"), Literal::Integer(0));
    assert_eq!(
        zag_value("-5"),
        z::Node::Literal(Literal::Integer(-5), z::Pos(0))
    );
    assert_eq!(sexp(&expr("-5 abs")), "(-5 abs)");
    round_trip_statement("^ -5 abs");
}

#[test]
fn large_integers() {
    match literal("16r1FFFFFFFFFFFFFFFF") {
        Literal::LargeInteger(b) => {
            assert!(!b.is_negative());
            assert_eq!(b.magnitude_digits(16), "1FFFFFFFFFFFFFFFF");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(literal("9223372036854775807"), Literal::Integer(i64::MAX));
    assert_eq!(literal("-9223372036854775808"), Literal::Integer(i64::MIN));
    match literal("-9223372036854775809") {
        Literal::LargeInteger(b) => assert_eq!(b.to_string(), "-9223372036854775809"),
        other => panic!("{other:?}"),
    }
    for s in [
        "16r1FFFFFFFFFFFFFFFF",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
    ] {
        assert_eq!(zag_value(s), z::Node::Literal(literal(s), z::Pos(0)));
    }
}

#[test]
fn floats() {
    assert_eq!(float("1.5e-3"), 1.5e-3);
    assert_eq!(float("2.0e10"), 2.0e10);
    assert_eq!(float("1.5"), 1.5);
    assert_eq!(float("-1.5"), -1.5);
    assert_eq!(float("0.1"), 0.1);
    assert_eq!(float("2r1.1"), 1.5);
    assert_eq!(float("12.5d1"), 125.0);
    assert_eq!(float("12.5q-1"), 1.25);
    assert_eq!(float("-0.0").to_bits(), (-0.0f64).to_bits());
    for s in ["1.5e-3", "2.0e10", "-0.0", "0.1", "1.0e300", "2r1.1"] {
        assert_eq!(zag_value(s), z::Node::Literal(literal(s), z::Pos(0)), "{s}");
    }
}

#[test]
fn integers_with_negative_exponents_follow_pharo() {
    // Pharo's NumberParser: not a Fraction (fractions are not literals) but
    // a Float, unless the value is whole.
    assert_eq!(float("1e-2"), 0.01);
    assert_eq!(float("-5e-1"), -0.5);
    assert_eq!(float("2r1e-2"), 0.25);
    assert_eq!(literal("100e-2"), Literal::Integer(1));
    assert_eq!(literal("-120e-1"), Literal::Integer(-12));
    for s in ["1e-2", "100e-2", "-5e-1"] {
        assert_eq!(zag_value(s), z::Node::Literal(literal(s), z::Pos(0)), "{s}");
    }
}

#[test]
fn scaled_decimals() {
    let scaled = |m: i64, decimals: u32, scale: u32| Literal::ScaledDecimal {
        mantissa: BigInt::from_i64(m),
        decimals,
        scale,
    };
    // The digits are kept as Pharo prints them: as many decimals as the
    // scale, or more when the value needs them.
    assert_eq!(literal("1.5s2"), scaled(150, 2, 2));
    assert_eq!(literal("3s"), scaled(3, 0, 0));
    assert_eq!(literal("3s2"), scaled(300, 2, 2));
    assert_eq!(literal("1.234s2"), scaled(1234, 3, 2));
    // Without digits after `s`, the scale is the number of decimals written.
    assert_eq!(literal("1.50s"), scaled(150, 2, 2));
    assert_eq!(literal("-1.5s2"), scaled(-150, 2, 2));
    // `3sqrt` is `3 sqrt`, not a scaled decimal.
    assert_eq!(sexp(&expr("3sqrt")), "(3 sqrt)");
    for s in ["1.5s2", "3s", "1.50s", "-1.5s2", "0.05s2", "1.234s2"] {
        assert_eq!(zag_value(s), z::Node::Literal(literal(s), z::Pos(0)), "{s}");
    }
}

#[test]
fn number_followed_by_a_period_ends_the_statement() {
    let m = method("foo x := 1. ^ 2.");
    assert_eq!(statements(&m.body.statements), "(x := 1). ^2");
    assert_eq!(sexp(&expr("1.5 + 1")), "(1.5 + 1)");
}

// ----- other literals ------------------------------------------------------------------

#[test]
fn characters() {
    for (src, c) in [
        ("$a", 'a'),
        ("$ ", ' '),
        ("$'", '\''),
        ("$\"", '"'),
        ("$$", '$'),
        ("$#", '#'),
        ("$é", 'é'),
        ("$\n", '\n'),
    ] {
        assert_eq!(
            expr(src),
            Expr::Literal(Literal::Character(c), span(0, src.len())),
            "{src:?}"
        );
    }
    let e = expr("$  = $'");
    assert_eq!(sexp(&e), "($  = $')");
    round_trip_statement("^ { $a. $ . $'. $\". $$ }");
}

#[test]
fn strings_double_their_quotes() {
    assert_eq!(literal("'it''s'"), Literal::String("it's".into()));
    assert_eq!(literal("''"), Literal::String(String::new()));
    assert_eq!(literal("''''"), Literal::String("'".into()));
    assert_eq!(
        literal("'a \"not a comment\" b'"),
        Literal::String("a \"not a comment\" b".into())
    );
    assert_eq!(
        literal("'line\nbreak'"),
        Literal::String("line\nbreak".into())
    );
    assert_eq!(expr("'it''s'").span(), span(0, 7));
    round_trip_statement("^ { 'it''s'. ''. ''''. 'a \"b\" c'. 'é' }");
}

#[test]
fn symbols() {
    for (src, name) in [
        ("#foo", "foo"),
        ("#foo:", "foo:"),
        ("#foo:bar:", "foo:bar:"),
        ("#+", "+"),
        ("#->", "->"),
        ("#'with space'", "with space"),
        ("#'it''s'", "it's"),
        ("##foo", "foo"),
        ("#Foo123", "Foo123"),
        ("#_private", "_private"),
    ] {
        assert_eq!(
            expr(src),
            Expr::Literal(Literal::Symbol(name.into()), span(0, src.len())),
            "{src}"
        );
    }
    round_trip_statement("^ { #foo. #foo:bar:. #+. #'with space'. #'it''s'. #'' }");
}

#[test]
fn literal_arrays_nest_with_or_without_hash() {
    let src = "#(1 #(2) (3))";
    let int = Literal::Integer;
    assert_eq!(
        expr(src),
        Expr::Literal(
            Literal::Array(vec![
                int(1),
                Literal::Array(vec![int(2)]),
                Literal::Array(vec![int(3)]),
            ]),
            span(0, 13)
        )
    );
    assert_eq!(literal("#()"), Literal::Array(vec![]));
    assert_eq!(
        literal("#(#() ())"),
        Literal::Array(vec![Literal::Array(vec![]), Literal::Array(vec![])])
    );
    round_trip_statement(&format!("^ {src}"));
}

/// Special characters in a literal array are Symbols, as Pharo reads
/// them (FFI structure definitions rely on it).
#[test]
fn literal_array_special_characters_are_symbols() {
    let sym = |s: &str| Literal::Symbol(s.into());
    assert_eq!(
        literal("#( double x; int y )"),
        Literal::Array(vec![
            sym("double"),
            sym("x"),
            sym(";"),
            sym("int"),
            sym("y")
        ])
    );
    assert_eq!(
        literal("#(a . b ^ : { })"),
        Literal::Array(vec![
            sym("a"),
            sym("."),
            sym("b"),
            sym("^"),
            sym(":"),
            sym("{"),
            sym("}")
        ])
    );
    round_trip_statement("^ #( double x; int y . z )");
}

#[test]
fn literal_array_bare_words_are_symbols() {
    let sym = |s: &str| Literal::Symbol(s.into());
    assert_eq!(
        literal("#(foo foo: foo:bar: #baz + - -> | #'^')"),
        Literal::Array(vec![
            sym("foo"),
            sym("foo:"),
            sym("foo:bar:"),
            sym("baz"),
            sym("+"),
            sym("-"),
            sym("->"),
            sym("|"),
            sym("^"),
        ])
    );
    // `foo:bar` is the keyword `foo:` then the name `bar`.
    assert_eq!(
        literal("#(foo:bar)"),
        Literal::Array(vec![sym("foo:"), sym("bar")])
    );
    round_trip_statement("^ #(foo foo: foo:bar: #baz + - ->)");
}

#[test]
fn literal_array_true_false_nil_are_values() {
    assert_eq!(
        literal("#(true false nil #true #nil truex)"),
        Literal::Array(vec![
            Literal::True,
            Literal::False,
            Literal::Nil,
            Literal::Symbol("true".into()),
            Literal::Symbol("nil".into()),
            Literal::Symbol("truex".into()),
        ])
    );
    round_trip_statement("^ #(true false nil #true #nil)");
}

#[test]
fn literal_array_other_elements() {
    assert_eq!(
        literal("#($a 'str' 1.5 -2 3s2 16rFF #[1] [2 3] #(a) ($b))"),
        Literal::Array(vec![
            Literal::Character('a'),
            Literal::String("str".into()),
            Literal::Float(Float(1.5)),
            Literal::Integer(-2),
            Literal::ScaledDecimal {
                mantissa: BigInt::from_i64(300),
                decimals: 2,
                scale: 2
            },
            Literal::Integer(255),
            Literal::ByteArray(vec![1]),
            Literal::ByteArray(vec![2, 3]),
            Literal::Array(vec![Literal::Symbol("a".into())]),
            Literal::Array(vec![Literal::Character('b')]),
        ])
    );
    // A minus not followed by a digit is a symbol; one followed by a digit
    // makes a negative number.
    assert_eq!(
        literal("#(- 1 -1 3 -5)"),
        Literal::Array(vec![
            Literal::Symbol("-".into()),
            Literal::Integer(1),
            Literal::Integer(-1),
            Literal::Integer(3),
            Literal::Integer(-5),
        ])
    );
    round_trip_statement("^ #($a 'str' 1.5 -2 3s2 #[1] [2 3] #(a) ($b) - -1)");
}

#[test]
fn byte_arrays() {
    assert_eq!(
        expr("#[1 2 255]"),
        Expr::Literal(Literal::ByteArray(vec![1, 2, 255]), span(0, 10))
    );
    assert_eq!(literal("#[]"), Literal::ByteArray(vec![]));
    assert_eq!(
        literal("#[16rFF 2r11 0]"),
        Literal::ByteArray(vec![255, 3, 0])
    );
    round_trip_statement("^ { #[1 2 255]. #[] }");
}

#[test]
fn brace_arrays() {
    let src = "{a. b}";
    let Expr::BraceArray(items, s) = expr(src) else {
        panic!()
    };
    assert_eq!(s, span(0, 6));
    assert_eq!(statements(&items), "a. b");
    let Expr::BraceArray(items, s) = expr("{}") else {
        panic!()
    };
    assert!(items.is_empty());
    assert_eq!(s, span(0, 2));
    assert_eq!(sexp(&expr("{ 1. 2. }")), "{1. 2}");
    assert_eq!(
        sexp(&expr("{ a foo: b. c := 3. {} }")),
        "{(a foo: b). (c := 3). {}}"
    );
    assert_eq!(
        zag_value("{a. b}"),
        z::Node::Brace(
            vec![
                z::Node::Variable(global("a"), z::Pos(0)),
                z::Node::Variable(global("b"), z::Pos(0)),
            ],
            z::Pos(0)
        )
    );
    assert_eq!(zag_value("{}"), z::Node::Brace(vec![], z::Pos(0)));
    round_trip_statement("^ { a foo: b. c := 3. {}. { 1 } }");
}

// ----- negative literals and binary minus ------------------------------------------------

#[test]
fn negative_literals_versus_binary_minus() {
    for (src, shape) in [
        ("3 - -2", "(3 - -2)"),
        ("3-2", "(3 - 2)"),
        ("x-1", "(x - 1)"),
        // As in Pharo, a negative literal after an operand is a subtraction.
        ("3 -5", "(3 - 5)"),
        ("x -1 abs", "(x - (1 abs))"),
        ("3 - -2 abs", "(3 - (-2 abs))"),
        ("a max: -1", "(a max: -1)"),
        ("x := -5", "(x := -5)"),
        ("3 @ -4", "(3 @ -4)"),
        ("#(1 -2) , #(-3)", "(#(1 -2) , #(-3))"),
    ] {
        assert_eq!(sexp(&expr(src)), shape, "{src}");
        round_trip_statement(&format!("^ {src}"));
    }
}

// ----- binary selectors ---------------------------------------------------------------

#[test]
fn every_binary_selector() {
    for op in [
        "->", "==>", "~~", "\\\\", "//", ",", "@", "%", "&", "|", "<=", ">=", "~=", "==", "=", "+",
        "-", "*", "/", "<", ">", "\\", "~", "?", "!", "<<", ">>", "=>", "-->", "+-",
    ] {
        let src = format!("a {op} b");
        let Expr::Message(m) = expr(&src) else {
            panic!("{src}")
        };
        assert_eq!(m.selector, op, "{src}");
        assert_eq!(m.selector_parts[0], span(2, 2 + op.len()), "{src}");
        assert_eq!(sexp(&m.receiver), "a");
        assert_eq!(sexp(&m.arguments[0]), "b");
        // Without spaces too.
        let tight = format!("a{op}b");
        assert_eq!(sexp(&expr(&tight)), format!("(a {op} b)"), "{tight}");
        round_trip_statement(&format!("^ {src}"));
    }
}

#[test]
fn binary_method_patterns() {
    for op in ["+", "->", "==>", "~~", "\\\\", ",", "|", "&", "<=", "="] {
        let src = format!("{op} other ^ other");
        let m = method(&src);
        assert_eq!(m.selector, op);
        assert_eq!(m.selector_parts[0], span(0, op.len()));
        assert_eq!(m.arguments[0].name, "other");
        let z = round_trip(&src);
        assert_eq!(z.selector, op);
        assert_eq!(local_names(&z, &z.arguments), ["other"]);
    }
}

// ----- method patterns --------------------------------------------------------------------

#[test]
fn unary_and_keyword_method_patterns() {
    let m = method("size ^ 0");
    assert_eq!(m.selector, "size");
    assert!(m.arguments.is_empty());
    assert_eq!(m.selector_parts[0], span(0, 4));

    let src = "at: index put: value ^ value";
    let m = method(src);
    assert_eq!(m.selector, "at:put:");
    let parts: Vec<(&str, Span)> = m
        .selector_parts
        .iter()
        .map(|p| (&src[p.range()], *p))
        .collect();
    assert_eq!(parts, [("at:", span(0, 3)), ("put:", span(10, 14))]);
    let args: Vec<(&str, Span)> = m
        .arguments
        .iter()
        .map(|a| (a.name.as_str(), a.span))
        .collect();
    assert_eq!(args, [("index", span(4, 9)), ("value", span(15, 20))]);
    let z = round_trip(src);
    assert_eq!(z.selector, "at:put:");
    assert_eq!(local_names(&z, &z.arguments), ["index", "value"]);
    assert_eq!(z.local(z.arguments[0]).kind, z::LocalKind::Argument);
}

#[test]
fn empty_method_body() {
    let m = method("foo");
    assert!(m.body.statements.is_empty());
    assert_eq!(m.span, span(0, 3));
    let z = round_trip("foo");
    assert!(z.body.is_empty());
    round_trip("foo: x");
}

// ----- pragmas ------------------------------------------------------------------------------

#[test]
fn numbered_primitive() {
    let src = "foo <primitive: 60> ^ nil";
    let m = method(src);
    assert_eq!(
        m.pragmas,
        [Pragma {
            selector: "primitive:".into(),
            arguments: vec![PragmaArgument::Literal(Literal::Integer(60), span(16, 18))],
            span: span(4, 19),
        }]
    );
    let z = round_trip(src);
    assert_eq!(
        z.primitive,
        Some(z::Primitive {
            index: z::PrimitiveIndex::Number(60),
            error_code: None
        })
    );
    assert!(z.pragmas.is_empty());
}

#[test]
fn primitive_with_error_code_declares_a_local() {
    let src = "at: i <primitive: 60 error: ec> ^ ec";
    let m = method(src);
    assert_eq!(m.pragmas[0].selector, "primitive:error:");
    assert_eq!(
        m.pragmas[0].arguments,
        [
            PragmaArgument::Literal(Literal::Integer(60), span(18, 20)),
            PragmaArgument::Name(Ident {
                name: "ec".into(),
                span: span(28, 30)
            }),
        ]
    );
    let z = round_trip(src);
    let ec = z.primitive.as_ref().unwrap().error_code.unwrap();
    assert_eq!(z.local(ec).name, "ec");
    assert_eq!(z.local(ec).kind, z::LocalKind::PrimitiveError);
    assert_eq!(z.local(ec).scope, 0);
    // The error code is neither an argument nor a temporary, but it is in scope.
    assert_eq!(local_names(&z, &z.arguments), ["i"]);
    assert!(z.temporaries.is_empty());
    let z::Node::Return { value, .. } = &z.body[0] else {
        panic!()
    };
    assert_eq!(**value, z::Node::Variable(z::Var::Local(ec), z::Pos(0)));
}

#[test]
fn named_primitive() {
    let src = "foo <primitive: 'primFoo' module: 'FooPlugin'> ^ self";
    let m = method(src);
    assert_eq!(m.pragmas[0].selector, "primitive:module:");
    let z = round_trip(src);
    assert_eq!(
        z.primitive,
        Some(z::Primitive {
            index: z::PrimitiveIndex::Named {
                name: "primFoo".into(),
                module: "FooPlugin".into()
            },
            error_code: None
        })
    );
    let z = round_trip("foo <primitive: 'primFoo' module: 'FooPlugin' error: code> ^ code");
    let code = z.primitive.unwrap().error_code.unwrap();
    assert_eq!(z.locals[code as usize].kind, z::LocalKind::PrimitiveError);
}

/// Every primitive form Pharo's compiler accepts: a name without a
/// module (the VM's own), `error:` with a name or a Symbol, and
/// `module:` and `error:` in either order.
#[test]
fn primitive_forms_pharo_accepts() {
    let named = |name: &str, module: &str| z::PrimitiveIndex::Named {
        name: name.into(),
        module: module.into(),
    };
    let z = round_trip("foo <primitive: 'primFoo'> ^ self");
    assert_eq!(z.primitive.unwrap().index, named("primFoo", ""));
    for src in [
        "foo <primitive: 'primFoo' error: ec> ^ ec",
        "foo <primitive: 'primFoo' error: #ec> ^ ec",
        "foo <primitive: 'primFoo' module: 'M' error: #ec> ^ ec",
        "foo <primitive: 'primFoo' error: ec module: 'M'> ^ ec",
        "foo <primitive: 60 error: #ec> ^ ec",
    ] {
        let z = round_trip(src);
        let primitive = z.primitive.unwrap();
        let ec = primitive.error_code.unwrap();
        assert_eq!(z.locals[ec as usize].name, "ec", "{src}");
        assert_eq!(z.locals[ec as usize].kind, z::LocalKind::PrimitiveError);
        let expected = if src.contains("'M'") {
            named("primFoo", "M")
        } else if src.contains("60") {
            z::PrimitiveIndex::Number(60)
        } else {
            named("primFoo", "")
        };
        assert_eq!(primitive.index, expected, "{src}");
    }
}

/// Latin-1's mathematical signs make binary selectors, as in Pharo.
#[test]
fn non_ascii_binary_selectors() {
    for op in ["±", "×", "÷", "·", "+±"] {
        let src = format!("{op} x ^ self {op} x");
        let m = method(&src);
        assert_eq!(m.selector, op);
        round_trip(&src);
        assert_eq!(literal(&format!("#{op}")), Literal::Symbol(op.into()));
    }
    assert_eq!(
        literal("#(± ×)"),
        Literal::Array(vec![
            Literal::Symbol("±".into()),
            Literal::Symbol("×".into())
        ])
    );
}

#[test]
fn unary_pragma() {
    let src = "foo <foo> ^ 1";
    let m = method(src);
    assert_eq!(
        m.pragmas,
        [Pragma {
            selector: "foo".into(),
            arguments: vec![],
            span: span(4, 9),
        }]
    );
    let z = round_trip(src);
    assert_eq!(
        z.pragmas,
        [z::Pragma {
            selector: "foo".into(),
            arguments: vec![]
        }]
    );
    assert_eq!(z.primitive, None);
}

#[test]
fn keyword_pragma_with_literal_arguments() {
    let src = "foo <foo: 1 bar: #baz> ^ 1";
    let m = method(src);
    assert_eq!(
        m.pragmas,
        [Pragma {
            selector: "foo:bar:".into(),
            arguments: vec![
                PragmaArgument::Literal(Literal::Integer(1), span(10, 11)),
                PragmaArgument::Literal(Literal::Symbol("baz".into()), span(17, 21)),
            ],
            span: span(4, 22),
        }]
    );
    let z = round_trip(src);
    assert_eq!(
        z.pragmas,
        [z::Pragma {
            selector: "foo:bar:".into(),
            arguments: vec![Literal::Integer(1), Literal::Symbol("baz".into())]
        }]
    );
    // Any literal, including negative numbers, arrays and true/false/nil.
    let z = round_trip("foo <a: -1 b: #(1 $a #[2]) c: true d: nil e: 'x' f: 1.5 g: #+ h: 0> ^ 1");
    assert_eq!(
        z.pragmas[0].arguments,
        [
            Literal::Integer(-1),
            Literal::Array(vec![
                Literal::Integer(1),
                Literal::Character('a'),
                Literal::ByteArray(vec![2])
            ]),
            Literal::True,
            Literal::Nil,
            Literal::String("x".into()),
            Literal::Float(Float(1.5)),
            Literal::Symbol("+".into()),
            Literal::Integer(0),
        ]
    );
    // A binary symbol last needs a space before the `>`: `#+>` is a symbol.
    let m = method("foo <a: #+ > ^ 1");
    assert_eq!(
        m.pragmas[0].arguments,
        [PragmaArgument::Literal(
            Literal::Symbol("+".into()),
            span(8, 10)
        )]
    );
}

/// printer.rs prints `<a: #+>`, which reads back as the symbol `#+>` and an
/// unterminated pragma: it needs a space before `>` after a binary symbol.
#[test]
fn pragma_ending_with_a_binary_symbol_round_trips() {
    round_trip("foo <a: #+ > ^ 1");
}

#[test]
fn pragmas_before_and_after_temporaries() {
    let src = "foo <first> | t | <second: 2> <primitive: 1> t := 1. ^ t";
    let m = method(src);
    let selectors: Vec<&str> = m.pragmas.iter().map(|p| p.selector.as_str()).collect();
    assert_eq!(selectors, ["first", "second:", "primitive:"]);
    assert_eq!(m.body.temporaries[0].name, "t");
    assert_eq!(statements(&m.body.statements), "(t := 1). ^t");
    let z = round_trip(src);
    assert_eq!(
        z.primitive.as_ref().map(|p| &p.index),
        Some(&z::PrimitiveIndex::Number(1))
    );
    let selectors: Vec<&str> = z.pragmas.iter().map(|p| p.selector.as_str()).collect();
    assert_eq!(selectors, ["first", "second:"]);
    assert_eq!(local_names(&z, &z.temporaries), ["t"]);
}

// ----- comments ------------------------------------------------------------------------------

#[test]
fn comments_everywhere_are_kept_with_their_spans() {
    let src = "\"lead\" at: i \"between keywords\" put: v
\t\"after the pattern\"
\t| t \"in temporaries\" |
\t<pragma \"in a pragma\">
\tt := i \"before a period\".
\t[:x \"after a block argument\" | x foo \"before a bracket\" ] value: 1.
\tTranscript show: 'a' \"in a cascade\"; cr; \"after a semicolon\" show: 'b'.
\t{ 1 \"in braces\" }.
\t#(1 \"in a literal array\" 2).
\t^ t \"say \"\"hi\"\"\" \"trailing\"
\"after everything\"";
    let m = method(src);
    let texts: Vec<&str> = m.comments.iter().map(|c| c.text.as_str()).collect();
    let expected = [
        "lead",
        "between keywords",
        "after the pattern",
        "in temporaries",
        "in a pragma",
        "before a period",
        "after a block argument",
        "before a bracket",
        "in a cascade",
        "after a semicolon",
        "in braces",
        "in a literal array",
        "say \"\"hi\"\"",
        "trailing",
        "after everything",
    ];
    assert_eq!(texts, expected);
    // Each span covers the comment with its quotes.
    for c in &m.comments {
        let quoted = format!("\"{}\"", c.text);
        let start = src.find(&quoted).unwrap();
        assert_eq!(c.span, span(start, start + quoted.len()), "{quoted}");
    }
    // The code itself is unaffected by the comments.
    assert_eq!(m.selector, "at:put:");
    assert_eq!(m.pragmas[0].selector, "pragma");
    assert_eq!(m.body.statements.len(), 6);
    let Statement::Expression(Expr::Cascade(c)) = &m.body.statements[2] else {
        panic!()
    };
    assert_eq!(c.messages.len(), 3);
    // Comments are not part of the Zag AST: the method round-trips.
    round_trip(src);
}

#[test]
fn comment_next_to_tokens_without_spaces() {
    let m = method("foo\"a\"^\"b\"1\"c\"+\"d\"2\"e\"");
    let texts: Vec<&str> = m.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["a", "b", "c", "d", "e"]);
    assert_eq!(statements(&m.body.statements), "^(1 + 2)");
    let m = method("foo \"\" ^ 1");
    assert_eq!(m.comments[0].text, "");
    assert_eq!(m.comments[0].span, span(4, 6));
}

// ----- spans ------------------------------------------------------------------------------------

#[test]
fn spans_of_nodes() {
    // `^` is at offset 8, after "max: a", a newline and a tab.
    let src = "max: a\n\t^ a > b ifTrue: [ a ] ifFalse: [ b ]";
    let m = method(src);
    assert_eq!(m.span, span(0, 44));
    assert_eq!(m.body.span, span(8, 44));
    let Statement::Return(value, ret) = &m.body.statements[0] else {
        panic!()
    };
    assert_eq!(*ret, span(8, 44));
    let Expr::Message(send) = value else { panic!() };
    assert_eq!(send.span, span(10, 44));
    assert_eq!(text_at(src, send.receiver.span()), "a > b");
    let parts: Vec<Span> = send.selector_parts.clone();
    assert_eq!(parts, [span(16, 23), span(30, 38)]);
    let Expr::Block(b) = &send.arguments[0] else {
        panic!()
    };
    assert_eq!(b.span, span(24, 29));
    assert_eq!(b.body.span, span(26, 27));
    assert_eq!(send.arguments[1].span(), span(39, 44));
    let Expr::Message(gt) = &*send.receiver else {
        panic!()
    };
    assert_eq!(gt.receiver.span(), span(10, 11));
    assert_eq!(gt.arguments[0].span(), span(14, 15));

    // The Zag AST keeps the start offsets.
    let z = convert_method(&m, &ClassScope::empty()).unwrap();
    let z::Node::Return { value, pos, .. } = &z.body[0] else {
        panic!()
    };
    assert_eq!(pos.0, 8);
    let z::Node::Send(s) = &**value else { panic!() };
    assert_eq!(s.pos.0, 10);
    let z::Node::Block(b) = &s.arguments[1] else {
        panic!()
    };
    assert_eq!(b.pos.0, 39);
}

#[test]
fn spans_of_unary_binary_and_cascade() {
    let src = "x foo bar + y baz; qux";
    let Expr::Cascade(c) = expr(src) else {
        panic!()
    };
    assert_eq!(c.span, span(0, 22));
    assert_eq!(text_at(src, c.receiver.span()), "x foo bar");
    let Expr::Message(foo_bar) = &*c.receiver else {
        panic!()
    };
    assert_eq!(text_at(src, foo_bar.receiver.span()), "x foo");
    let spans: Vec<&str> = c.messages.iter().map(|m| text_at(src, m.span)).collect();
    assert_eq!(spans, ["+ y baz", "qux"]);
    assert_eq!(text_at(src, c.messages[0].arguments[0].span()), "y baz");
}

#[test]
fn spans_count_bytes_in_utf8_text() {
    let src = "é: x ^ 'çà' , x";
    let m = method(src);
    assert_eq!(m.selector, "é:");
    let Statement::Return(Expr::Message(send), _) = &m.body.statements[0] else {
        panic!()
    };
    assert_eq!(text_at(src, send.receiver.span()), "'çà'");
    assert_eq!(text_at(src, send.arguments[0].span()), "x");
    round_trip(src);
}

// ----- do-its, expressions and scopes ---------------------------------------------------------

#[test]
fn doit_with_temporaries() {
    let src = "| a b | a := 3. b := a + 1. b";
    let seq = parse_doit(src).unwrap();
    let temps: Vec<&str> = seq.temporaries.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(temps, ["a", "b"]);
    assert_eq!(statements(&seq.statements), "(a := 3). (b := (a + 1)). b");
    assert_eq!(seq.span, span(0, 29));
    let z = convert_doit(&seq, &ClassScope::empty()).unwrap();
    assert_eq!(z.selector, "DoIt");
    assert_eq!(z.class_name, "UndefinedObject");
    assert_eq!(local_names(&z, &z.temporaries), ["a", "b"]);
    // A do-it without temporaries, and an empty one.
    assert_eq!(
        statements(&parse_doit("3 + 4").unwrap().statements),
        "(3 + 4)"
    );
    assert!(parse_doit("").unwrap().statements.is_empty());
    assert!(parse_doit("  \"nothing\"  ").unwrap().statements.is_empty());
}

#[test]
fn names_resolve_in_a_class_scope() {
    let mut env = Environment::new();
    env.add(ClassShape {
        name: "Object".into(),
        ..Default::default()
    });
    env.add(ClassShape {
        name: "Point".into(),
        superclass: Some("Object".into()),
        inst_vars: vec!["x".into(), "y".into()],
        class_vars: vec!["Origin".into()],
        ..Default::default()
    });
    let scope = env.class_scope("Point", false);
    let src = "+ other ^ (x + other x) @ (y + other y) + Origin + Smalltalk";
    let z = round_trip_in(src, &scope);
    assert_eq!(z.class_name, "Point");
    let z::Node::Return { value, .. } = &z.body[0] else {
        panic!()
    };
    let mut vars = Vec::new();
    collect_vars(value, &mut vars);
    assert_eq!(
        vars,
        [
            z::Var::InstVar {
                index: 0,
                name: "x".into()
            },
            z::Var::Local(0),
            z::Var::InstVar {
                index: 1,
                name: "y".into()
            },
            z::Var::Local(0),
            z::Var::ClassVar {
                class: "Point".into(),
                name: "Origin".into()
            },
            global("Smalltalk"),
        ]
    );
}

fn collect_vars(n: &z::Node, out: &mut Vec<z::Var>) {
    match n {
        z::Node::Variable(v, _) => out.push(v.clone()),
        z::Node::Send(s) => {
            collect_vars(&s.receiver, out);
            s.arguments.iter().for_each(|a| collect_vars(a, out));
        }
        _ => {}
    }
}

#[test]
fn a_realistic_method_round_trips() {
    let src = "printOn: aStream base: anInteger
\t\"Print the receiver in base anInteger.\"
\t| digits n |
\t<category: 'printing'>
\tself < 0 ifTrue: [ aStream nextPut: $-. ^ self negated printOn: aStream base: anInteger ].
\tdigits := OrderedCollection new.
\tn := self.
\t[ n >= anInteger ] whileTrue: [
\t\tdigits addFirst: (Character digitValue: n \\\\ anInteger).
\t\tn := n // anInteger ].
\tdigits addFirst: (Character digitValue: n).
\tdigits do: [:each | aStream nextPut: each ] separatedBy: [ ].
\t^ aStream yourself; flush; yourself";
    let z = round_trip(src);
    assert_eq!(z.selector, "printOn:base:");
    assert_eq!(z.body.len(), 7);
    assert_eq!(z.pragmas[0].arguments, [Literal::String("printing".into())]);
}
