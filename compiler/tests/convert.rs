//! Pharo AST → Zag AST: name resolution across packages, blocks, inlining,
//! returns, and conversion errors.

use zag_compiler::environment::ClassScope;
use zag_compiler::import::{convert_all, Import};
use zag_compiler::parser::parse_method;
use zag_compiler::source::SourceFile;
use zag_compiler::zag_ast::*;

/// Two packages: Kernel defines Base (and Class), App subclasses it.
fn packages() -> Import {
    let mut import = Import::default();
    for (name, text) in [
        (
            "Kernel/Base.class.st",
            "Class { #name : 'Base', #superclass : 'Object', #instVars : [ 'a', 'b' ], \
             #classVars : [ 'Registry' ], #classInstVars : [ 'instances' ], #pools : [ 'Colors' ] }",
        ),
        ("Kernel/Object.class.st", "Class { #name : 'Object', #superclass : nil }"),
        (
            "Kernel/Class.class.st",
            "Class { #name : 'Class', #superclass : 'Object', #instVars : [ 'superclass', 'methodDict', 'format' ] }",
        ),
        (
            "Kernel/Colors.class.st",
            "Class { #name : 'Colors', #superclass : 'Object', #classVars : [ 'Red' ] }",
        ),
        (
            "App/Derived.class.st",
            "Class { #name : 'Derived', #superclass : 'Base', #instVars : [ 'c' ], #classInstVars : [ 'cache' ] }\n\
             Derived >> probe [ ^ { a. b. c. Registry. Red. Transcript } ]\n\
             Derived class >> probe [ ^ { instances. cache. superclass. Registry } ]\n",
        ),
    ] {
        import.add_source(SourceFile::new(name, text));
    }
    assert!(import.errors.is_empty(), "{:?}", import.errors);
    import
}

fn probe_vars(class_side: bool) -> Vec<Var> {
    let import = packages();
    let mut errors = Vec::new();
    let env = import.environment(&mut errors);
    let methods = convert_all(&import, &env, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    let m = methods
        .iter()
        .find(|m| m.method.class_side == class_side)
        .unwrap();
    let Node::Return { value, .. } = &m.method.body[0] else {
        panic!()
    };
    let Node::Brace(items, _) = &**value else {
        panic!()
    };
    items
        .iter()
        .map(|n| match n {
            Node::Variable(v, _) => v.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn instance_side_names_resolve_across_packages() {
    assert_eq!(
        probe_vars(false),
        [
            Var::InstVar {
                index: 0,
                name: "a".into()
            },
            Var::InstVar {
                index: 1,
                name: "b".into()
            },
            Var::InstVar {
                index: 2,
                name: "c".into()
            },
            Var::ClassVar {
                class: "Base".into(),
                name: "Registry".into()
            },
            Var::PoolVar {
                pool: "Colors".into(),
                name: "Red".into()
            },
            Var::Global("Transcript".into()),
        ]
    );
}

#[test]
fn class_side_instance_variables_follow_class_layout() {
    // Class has 3 slots, so Base's class instance variable is slot 3.
    assert_eq!(
        probe_vars(true),
        [
            Var::ClassInstVar {
                index: 3,
                name: "instances".into()
            },
            Var::ClassInstVar {
                index: 4,
                name: "cache".into()
            },
            Var::InstVar {
                index: 0,
                name: "superclass".into()
            },
            Var::ClassVar {
                class: "Base".into(),
                name: "Registry".into()
            },
        ]
    );
}

fn convert(source: &str) -> Method {
    let parsed = parse_method(source).unwrap_or_else(|e| panic!("{e:?}"));
    zag_compiler::convert::convert_method(&parsed, &ClassScope::empty())
        .unwrap_or_else(|e| panic!("{e:?}"))
}

fn convert_error(source: &str) -> String {
    let parsed = parse_method(source).unwrap();
    zag_compiler::convert::convert_method(&parsed, &ClassScope::empty())
        .unwrap_err()
        .message
}

fn local(m: &Method, name: &str) -> Local {
    m.locals.iter().find(|l| l.name == name).unwrap().clone()
}

/// Real (not inlined) blocks in source order.
fn real_blocks(nodes: &[Node]) -> Vec<Block> {
    fn walk(n: &Node, out: &mut Vec<Block>) {
        if let Node::Block(b) = n {
            if !b.inlined {
                out.push((**b).clone());
            }
        }
        n.for_each_child(|c| walk(c, out));
    }
    let mut out = Vec::new();
    nodes.iter().for_each(|n| walk(n, &mut out));
    out
}

#[test]
fn blocks_record_captures_and_whether_they_write_them() {
    let m = convert("run: arg | sum count | sum := 0. #(1 2) do: [:x | sum := sum + x + arg. [ count ] value ]. ^ sum");
    let blocks = real_blocks(&m.body);
    let id = |n: &str| m.locals.iter().position(|l| l.name == n).unwrap() as LocalId;
    assert_eq!(
        blocks[0].captures,
        [
            Capture {
                local: id("sum"),
                written: true
            },
            Capture {
                local: id("arg"),
                written: false
            },
            Capture {
                local: id("count"),
                written: false
            },
        ]
    );
    // The inner block's capture of `count` passes through the outer block.
    assert_eq!(
        blocks[1].captures,
        [Capture {
            local: id("count"),
            written: false
        }]
    );
    assert!(local(&m, "sum").captured && local(&m, "sum").written_by_closure);
    assert!(local(&m, "count").captured && !local(&m, "count").written_by_closure);
    assert!(!local(&m, "x").captured);
    assert_eq!(local(&m, "x").scope, 1);
}

#[test]
fn inlined_blocks_share_the_enclosing_scope() {
    let m = convert("run | r | 1 to: 10 do: [:i | | t | t := i. r := t ]. r ifNil: [ ^ 0 ]. ^ r");
    assert!(real_blocks(&m.body).is_empty());
    let i = local(&m, "i");
    assert_eq!((i.scope, i.captured), (0, false));
    assert_eq!(local(&m, "t").scope, 0);
    let Node::Send(s) = &m.body[1] else { panic!() };
    let Node::Block(b) = &s.arguments[0] else {
        panic!()
    };
    assert!(b.inlined);
    let Node::Return { non_local, .. } = &b.body[0] else {
        panic!()
    };
    assert!(
        !non_local,
        "a ^ in an inlined block of the method is a local return"
    );
}

#[test]
fn which_control_messages_are_inlined() {
    let inlined = |src: &str| {
        let m = convert(&format!("run: x {src}"));
        real_blocks(&m.body).is_empty()
    };
    assert!(inlined("x ifTrue: [ 1 ] ifFalse: [ 2 ]"));
    assert!(inlined("x and: [ true ]"));
    assert!(inlined("[ x ] whileTrue: [ x ]"));
    assert!(inlined("[ x ] whileFalse"));
    assert!(inlined("[ x ] repeat"));
    assert!(inlined("x ifNotNil: [:y | y ]"));
    assert!(inlined("x ifNotNil: [ 1 ]"));
    assert!(inlined("x ifNil: [ 1 ] ifNotNil: [:y | y ]"));
    assert!(inlined("3 timesRepeat: [ x ]"));
    assert!(inlined("1 to: 5 by: 2 do: [:i | x ]"));
    assert!(inlined("5 to: 1 by: -1.5 do: [:i | x ]"));
    // Pharo inlines to:by:do: only for a literal, non-zero step.
    assert!(!inlined("1 to: 5 by: x do: [:i | x ]"));
    assert!(!inlined("1 to: 5 by: 0 do: [:i | x ]"));
    // Not literal blocks, or the wrong arity: real sends with real blocks.
    assert!(!inlined("x ifTrue: [:y | 1 ]"));
    assert!(!inlined("x do: [:y | 1 ]"));
    assert!(!inlined("1 to: 5 do: [ x ]"));
    let m = convert("run: x ^ x ifTrue: x");
    let Node::Return { value, .. } = &m.body[0] else {
        panic!()
    };
    assert!(matches!(&**value, Node::Send(s) if matches!(&s.arguments[0], Node::Variable(..))));
}

#[test]
fn non_local_returns_are_marked_on_the_return_and_every_enclosing_block() {
    let m = convert("find: c c do: [:x | [:y | ^ y ] value: x ]. ^ nil");
    let blocks = real_blocks(&m.body);
    assert!(blocks[0].has_non_local_return && blocks[1].has_non_local_return);
    let Node::Return { non_local, .. } = &blocks[1].body[0] else {
        panic!()
    };
    assert!(non_local);
    let Node::Return { non_local, .. } = &m.body[1] else {
        panic!()
    };
    assert!(!non_local);
}

#[test]
fn self_use_is_recorded_for_blocks() {
    let m = convert("run ^ { [ 1 ]. [ self ]. [ [ super foo ] ]. [ thisContext ] }");
    let uses: Vec<bool> = real_blocks(&m.body).iter().map(|b| b.uses_self).collect();
    assert_eq!(uses, [false, true, true, true, true]);
    assert!(m.uses_this_context);
}

#[test]
fn super_sends_are_marked() {
    let m = convert("run super foo. self bar. super a; b");
    let Node::Send(s) = &m.body[0] else { panic!() };
    assert!(s.is_super);
    let Node::Send(s) = &m.body[1] else { panic!() };
    assert!(!s.is_super);
    let Node::Cascade(c) = &m.body[2] else {
        panic!()
    };
    assert!(c.is_super);
}

#[test]
fn primitives_and_pragmas() {
    let m = convert("at: i <primitive: 60 error: ec> <foo: 1 bar: #baz> ^ ec");
    let prim = m.primitive.as_ref().unwrap();
    assert_eq!(prim.index, PrimitiveIndex::Number(60));
    let ec = prim.error_code.unwrap();
    assert_eq!(m.local(ec).kind, LocalKind::PrimitiveError);
    assert_eq!(
        m.pragmas,
        [Pragma {
            selector: "foo:bar:".into(),
            arguments: vec![Literal::Integer(1), Literal::Symbol("baz".into())]
        }]
    );
    let m = convert("hash <primitive: 'primitiveStringHash' module: 'MiscPrimitivePlugin'> ^ 0");
    assert_eq!(
        m.primitive.unwrap().index,
        PrimitiveIndex::Named {
            name: "primitiveStringHash".into(),
            module: "MiscPrimitivePlugin".into()
        }
    );
}

#[test]
fn conversion_errors() {
    assert_eq!(
        convert_error("foo: x x := 3"),
        "cannot assign to argument 'x'"
    );
    assert_eq!(
        convert_error("foo [:x | x := 3 ]"),
        "cannot assign to argument 'x'"
    );
    assert_eq!(
        convert_error("foo | a a | ^ a"),
        "'a' is already declared in this scope"
    );
    assert_eq!(
        convert_error("foo: a | a | ^ a"),
        "'a' is already declared in this scope"
    );
    assert_eq!(
        convert_error("foo <primitive: 1> <primitive: 2>"),
        "a method can have only one primitive"
    );
    assert_eq!(
        convert_error("foo <primitive: xx>"),
        "expected <primitive: N> or <primitive: 'name'>, optionally with module: 'module' \
         and error: name, found <primitive: ...>"
    );
    assert_eq!(
        convert_error("foo <bar: x>"),
        "pragma arguments must be literals, not 'x'"
    );
    // Shadowing an outer name in a block is allowed, as in Pharo.
    convert("foo | a | ^ [:a | a ]");
}
