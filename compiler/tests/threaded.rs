//! Threaded code: compiled methods are run on a small reference stack
//! machine (below), which checks the layout as it goes: a frame has exactly
//! `frame_size` slots, the operand stack never grows past `max_stack`, and
//! jumps land inside the unit. It knows integers, booleans, nil, arrays and
//! closures, which is enough to check control flow, closures, temp vectors
//! and non-local returns end to end.

use std::cell::RefCell;
use std::rc::Rc;

use zag_compiler::convert::convert_method;
use zag_compiler::environment::ClassScope;
use zag_compiler::literal::Literal;
use zag_compiler::parser::parse_method;
use zag_compiler::threaded::*;

#[derive(Clone, Debug)]
enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Array(Rc<RefCell<Vec<Value>>>),
    Closure(Rc<Closure>),
    /// The class `Array` (the only global these tests use).
    ArrayClass,
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) | (Value::ArrayClass, Value::ArrayClass) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => *a.borrow() == *b.borrow(),
            _ => false,
        }
    }
}

#[derive(Debug)]
struct Closure {
    unit: u16,
    copied: Vec<Value>,
    /// Identity of the home method activation, for `^` in the block.
    home: usize,
}

/// How an activation ended.
enum Exit {
    Return(Value),
    /// A `^` from a block, on its way to the activation `home`.
    NonLocal {
        home: usize,
        value: Value,
    },
}

struct Machine<'m> {
    method: &'m ThreadedMethod,
    next_activation: usize,
    /// Home activations still running (a `^` to a dead one is an error).
    live_homes: Vec<usize>,
}

impl Machine<'_> {
    fn run_method(&mut self, args: Vec<Value>) -> Value {
        let home = self.new_activation();
        self.live_homes.push(home);
        let exit = self.run(0, args, Vec::new(), home);
        self.live_homes.pop();
        match exit {
            Exit::Return(v) => v,
            Exit::NonLocal {
                home: target,
                value,
            } => {
                assert_eq!(target, home, "non-local return escaped its home");
                value
            }
        }
    }

    fn new_activation(&mut self) -> usize {
        self.next_activation += 1;
        self.next_activation
    }

    fn run(&mut self, unit: u16, args: Vec<Value>, copied: Vec<Value>, home: usize) -> Exit {
        let u = &self.method.units[unit as usize];
        assert_eq!(args.len(), u.num_args as usize, "argument count");
        assert_eq!(copied.len(), u.num_copied as usize, "copied values");
        let mut frame: Vec<Value> = args;
        frame.extend(copied);
        frame.resize(u.frame_size(), Value::Nil);
        let mut stack: Vec<Value> = Vec::new();
        let mut pc = 0usize;
        loop {
            assert!(pc < u.code.len(), "pc {pc} ran off the end of unit {unit}");
            let op = &u.code[pc];
            pc += 1;
            match op {
                Op::PushSelf => stack.push(Value::Nil),
                Op::PushNil => stack.push(Value::Nil),
                Op::PushTrue => stack.push(Value::Bool(true)),
                Op::PushFalse => stack.push(Value::Bool(false)),
                Op::PushThisContext => unimplemented!(),
                Op::PushLiteral(i) => stack.push(literal(&self.method.literals[*i as usize])),
                Op::PushTemp(s) => stack.push(frame[*s as usize].clone()),
                Op::StoreTemp(s) => frame[*s as usize] = stack.last().unwrap().clone(),
                Op::PushRemote { vector, index } => {
                    stack.push(remote(&frame, *vector)[*index as usize].clone())
                }
                Op::StoreRemote { vector, index } => {
                    let value = stack.last().unwrap().clone();
                    let Value::Array(a) = &frame[*vector as usize] else {
                        panic!("no temp vector")
                    };
                    a.borrow_mut()[*index as usize] = value;
                }
                Op::PushInstVar(_) | Op::StoreInstVar(_) | Op::StoreBinding(_) => unimplemented!(),
                Op::PushBinding(i) => {
                    assert_eq!(
                        self.method.literals[*i as usize],
                        LiteralValue::Binding(Binding::Global("Array".into()))
                    );
                    stack.push(Value::ArrayClass)
                }
                Op::MakeTempVector { slot, size } => {
                    frame[*slot as usize] =
                        Value::Array(Rc::new(RefCell::new(vec![Value::Nil; *size as usize])))
                }
                Op::Pop => {
                    stack.pop().expect("pop on an empty stack");
                }
                Op::Dup => stack.push(stack.last().unwrap().clone()),
                Op::Send { selector, args } => {
                    let LiteralValue::Selector(selector) =
                        &self.method.literals[*selector as usize]
                    else {
                        panic!()
                    };
                    let args: Vec<Value> = stack.split_off(stack.len() - *args as usize);
                    let receiver = stack.pop().unwrap();
                    match self.send(receiver, selector, args) {
                        Ok(v) => stack.push(v),
                        Err(exit) => return exit,
                    }
                }
                Op::SuperSend { .. } => unimplemented!(),
                Op::Jump(t) => pc = *t as usize,
                Op::JumpIfTrue(t) | Op::JumpIfFalse(t) => {
                    let Value::Bool(b) = stack.pop().unwrap() else {
                        panic!("mustBeBoolean")
                    };
                    if b == matches!(op, Op::JumpIfTrue(_)) {
                        pc = *t as usize;
                    }
                }
                Op::JumpIfNil(t) | Op::JumpIfNotNil(t) => {
                    let is_nil = stack.pop().unwrap() == Value::Nil;
                    if is_nil == matches!(op, Op::JumpIfNil(_)) {
                        pc = *t as usize;
                    }
                }
                Op::MakeArray(n) => {
                    let items = stack.split_off(stack.len() - *n as usize);
                    stack.push(Value::Array(Rc::new(RefCell::new(items))));
                }
                Op::PushClosure { unit, copied } => {
                    let copied = stack.split_off(stack.len() - *copied as usize);
                    stack.push(Value::Closure(Rc::new(Closure {
                        unit: *unit,
                        copied,
                        home,
                    })));
                }
                Op::ReturnTop => return Exit::Return(stack.pop().unwrap()),
                Op::NonLocalReturn => {
                    assert!(self.live_homes.contains(&home), "BlockCannotReturn");
                    return Exit::NonLocal {
                        home,
                        value: stack.pop().unwrap(),
                    };
                }
            }
            assert!(
                stack.len() <= u.max_stack as usize,
                "stack {} > max_stack {}",
                stack.len(),
                u.max_stack
            );
        }
    }

    /// A send: `Err` carries a non-local return passing through.
    fn send(&mut self, receiver: Value, selector: &str, args: Vec<Value>) -> Result<Value, Exit> {
        use Value::*;
        Ok(match (receiver, selector, args.as_slice()) {
            (Int(a), "+", [Int(b)]) => Int(a + b),
            (Int(a), "-", [Int(b)]) => Int(a - b),
            (Int(a), "*", [Int(b)]) => Int(a * b),
            (Int(a), "<", [Int(b)]) => Bool(a < *b),
            (Int(a), "<=", [Int(b)]) => Bool(a <= *b),
            (Int(a), ">", [Int(b)]) => Bool(a > *b),
            (Int(a), ">=", [Int(b)]) => Bool(a >= *b),
            (Int(a), "=", [Int(b)]) => Bool(a == *b),
            (Bool(a), "not", []) => Bool(!a),
            (ArrayClass, "new:", [Int(n)]) => Array(Rc::new(RefCell::new(vec![Nil; *n as usize]))),
            (Array(a), "at:", [Int(i)]) => a.borrow()[*i as usize - 1].clone(),
            (Array(a), "at:put:", [Int(i), v]) => {
                a.borrow_mut()[*i as usize - 1] = v.clone();
                v.clone()
            }
            (Array(a), "size", []) => Int(a.borrow().len() as i64),
            (Closure(c), "value" | "value:" | "value:value:", args) => {
                match self.run(c.unit, args.to_vec(), c.copied.clone(), c.home) {
                    Exit::Return(v) => v,
                    nonlocal => return Err(nonlocal),
                }
            }
            (r, s, a) => panic!("no method: {r:?} {s} {a:?}"),
        })
    }
}

fn remote(frame: &[Value], vector: u16) -> Vec<Value> {
    match &frame[vector as usize] {
        Value::Array(a) => a.borrow().clone(),
        other => panic!("not a temp vector: {other:?}"),
    }
}

fn literal(l: &LiteralValue) -> Value {
    match l {
        LiteralValue::Value(Literal::Integer(i)) => Value::Int(*i),
        LiteralValue::Value(Literal::Array(items)) => Value::Array(Rc::new(RefCell::new(
            items
                .iter()
                .map(|i| literal(&LiteralValue::Value(i.clone())))
                .collect(),
        ))),
        other => panic!("unsupported literal {other:?}"),
    }
}

fn compile(source: &str) -> ThreadedMethod {
    let parsed = parse_method(source).unwrap_or_else(|e| panic!("{e:?}"));
    let method = convert_method(&parsed, &ClassScope::empty()).unwrap_or_else(|e| panic!("{e:?}"));
    compile_method(&method).unwrap()
}

/// Runs a method (with integer arguments) and answers its result.
fn run(source: &str, args: &[i64]) -> Value {
    let method = compile(source);
    let mut machine = Machine {
        method: &method,
        next_activation: 0,
        live_homes: Vec::new(),
    };
    machine.run_method(args.iter().map(|&i| Value::Int(i)).collect())
}

fn int(source: &str) -> i64 {
    match run(source, &[]) {
        Value::Int(i) => i,
        other => panic!("{source} answered {other:?}"),
    }
}

fn ints(values: &[i64]) -> Value {
    Value::Array(Rc::new(RefCell::new(
        values.iter().map(|&i| Value::Int(i)).collect(),
    )))
}

#[test]
fn arithmetic_and_temporaries() {
    assert_eq!(int("m ^ 3 + 4"), 7);
    assert_eq!(int("m | a b | a := 3. b := a * a. ^ b - 1"), 8);
    assert_eq!(run("m: x ^ x * 2", &[21]), Value::Int(42));
    assert_eq!(int("m | a | ^ a := 5"), 5);
}

#[test]
fn a_method_without_return_answers_self() {
    assert_eq!(run("m 3 + 4", &[]), Value::Nil);
    let m = compile("m 3 + 4");
    assert_eq!(
        m.units[0].code[m.units[0].code.len() - 2..],
        [Op::PushSelf, Op::ReturnTop]
    );
}

#[test]
fn conditionals() {
    assert_eq!(int("m ^ 1 < 2 ifTrue: [10] ifFalse: [20]"), 10);
    assert_eq!(int("m ^ 1 > 2 ifTrue: [10] ifFalse: [20]"), 20);
    assert_eq!(int("m ^ 1 > 2 ifFalse: [10] ifTrue: [20]"), 10);
    assert_eq!(run("m ^ 1 > 2 ifTrue: [10]", &[]), Value::Nil);
    assert_eq!(run("m ^ 1 < 2 ifFalse: [10]", &[]), Value::Nil);
    assert_eq!(run("m ^ 1 < 2 ifTrue: []", &[]), Value::Nil);
    assert_eq!(
        run("m: x x > 0 ifTrue: [^ 1]. x < 0 ifTrue: [^ -1]. ^ 0", &[0]),
        Value::Int(0)
    );
    assert_eq!(
        run("m: x x > 0 ifTrue: [^ 1]. x < 0 ifTrue: [^ -1]. ^ 0", &[3]),
        Value::Int(1)
    );
    assert_eq!(
        run("m: x x > 0 ifTrue: [^ 1]. x < 0 ifTrue: [^ -1]. ^ 0", &[-5]),
        Value::Int(-1)
    );
    assert_eq!(int("m ^ (1 < 2 ifTrue: [3] ifFalse: [4]) + 10"), 13);
}

#[test]
fn short_circuit_booleans() {
    assert_eq!(run("m ^ 1 < 2 and: [2 < 3]", &[]), Value::Bool(true));
    assert_eq!(run("m ^ 1 > 2 and: [nil foo]", &[]), Value::Bool(false));
    assert_eq!(run("m ^ 1 < 2 or: [nil foo]", &[]), Value::Bool(true));
    assert_eq!(run("m ^ 1 > 2 or: [2 > 3]", &[]), Value::Bool(false));
}

#[test]
fn nil_tests() {
    assert_eq!(int("m | x | ^ x ifNil: [7]"), 7);
    assert_eq!(int("m | x | x := 3. ^ x ifNil: [7]"), 3);
    assert_eq!(run("m | x | ^ x ifNotNil: [:v | v + 1]", &[]), Value::Nil);
    assert_eq!(int("m | x | x := 3. ^ x ifNotNil: [:v | v + 1]"), 4);
    assert_eq!(int("m | x | x := 3. ^ x ifNotNil: [ 9 ]"), 9);
    assert_eq!(int("m | x | ^ x ifNil: [1] ifNotNil: [:v | v + 1]"), 1);
    assert_eq!(
        int("m | x | x := 5. ^ x ifNil: [1] ifNotNil: [:v | v + 1]"),
        6
    );
    assert_eq!(
        int("m | x | x := 5. ^ x ifNotNil: [:v | v * 2] ifNil: [0]"),
        10
    );
}

#[test]
fn loops() {
    assert_eq!(int("m | i sum | i := 1. sum := 0. [i <= 10] whileTrue: [sum := sum + i. i := i + 1]. ^ sum"), 55);
    assert_eq!(
        int("m | i | i := 0. [i >= 5] whileFalse: [i := i + 1]. ^ i"),
        5
    );
    assert_eq!(int("m | i | i := 0. [(i := i + 1) < 7] whileTrue. ^ i"), 7);
    assert_eq!(
        int("m | i | i := 0. [i := i + 1. i = 4 ifTrue: [^ i * 10]] repeat"),
        40
    );
    assert_eq!(
        int("m | sum | sum := 0. 1 to: 10 do: [:i | sum := sum + i]. ^ sum"),
        55
    );
    assert_eq!(
        int("m | sum | sum := 0. 10 to: 1 by: -3 do: [:i | sum := sum + i]. ^ sum"),
        22
    );
    assert_eq!(
        int("m | sum | sum := 0. 1 to: 10 by: 4 do: [:i | sum := sum + i]. ^ sum"),
        15
    );
    assert_eq!(int("m | n | n := 0. 4 timesRepeat: [n := n + 3]. ^ n"), 12);
    assert_eq!(
        int("m ^ 3 to: 5 do: [:i | i]"),
        3,
        "to:do: answers its receiver"
    );
    assert_eq!(int("m ^ 4 timesRepeat: [nil]"), 4);
    assert_eq!(run("m ^ [false] whileTrue", &[]), Value::Nil);
    // Nested loops use separate hidden counters.
    assert_eq!(
        int("m | n | n := 0. 1 to: 3 do: [:i | 1 to: i do: [:j | n := n + j]. 2 timesRepeat: [n := n + 100]]. ^ n"),
        610
    );
}

#[test]
fn cascades_and_brace_arrays() {
    assert_eq!(int("m ^ 3 + 1; * 2"), 6);
    assert_eq!(
        run(
            "m | a | a := Array new: 2. a at: 1 put: 5; at: 2 put: 6. ^ a",
            &[]
        ),
        ints(&[5, 6])
    );
    assert_eq!(run("m ^ { 1. 1 + 1. 3 }", &[]), ints(&[1, 2, 3]));
    assert_eq!(run("m ^ { }", &[]), ints(&[]));
    assert_eq!(run("m ^ #(1 2 3)", &[]), ints(&[1, 2, 3]));
}

#[test]
fn closures_copy_what_is_never_assigned() {
    assert_eq!(run("m: x ^ [:y | x + y] value: 2", &[40]), Value::Int(42));
    let m = compile("m: x ^ [:y | x + y]");
    assert_eq!(m.units[1].num_copied, 1);
    assert!(!m.units[0]
        .code
        .iter()
        .any(|op| matches!(op, Op::MakeTempVector { .. })));
}

#[test]
fn assigned_captured_variables_are_shared_through_a_temp_vector() {
    // The block sees the later assignment, and the method sees the block's.
    assert_eq!(int("m | x b | x := 1. b := [x]. x := 2. ^ b value"), 2);
    assert_eq!(
        int("m | n inc | n := 0. inc := [n := n + 1]. inc value. inc value. ^ n"),
        2
    );
    let m = compile("m | n inc | n := 0. inc := [n := n + 1]. inc value. ^ n");
    assert_eq!(m.units[0].code[0], Op::MakeTempVector { slot: 1, size: 1 });
    // Two closures over the same variable share it.
    assert_eq!(
        int("m | n inc get | n := 10. inc := [n := n + 1]. get := [n]. inc value. inc value. ^ get value"),
        12
    );
}

#[test]
fn nested_closures_pass_captures_through() {
    assert_eq!(
        run("m: x ^ [:a | [:b | x + a + b] value: 2] value: 1", &[100]),
        Value::Int(103)
    );
    assert_eq!(int("m | n | n := 0. [[n := n + 5] value] value. ^ n"), 5);
    assert_eq!(
        int("m | n | n := 1. ^ [:a | | t | t := a. [t := t + n. t] value] value: 10"),
        11
    );
}

#[test]
fn loop_variables_are_copied_per_closure() {
    assert_eq!(
        run(
            "m | blocks | blocks := Array new: 3. 1 to: 3 do: [:i | blocks at: i put: [i * 10]]. \
             ^ { (blocks at: 1) value. (blocks at: 2) value. (blocks at: 3) value }",
            &[]
        ),
        ints(&[10, 20, 30])
    );
}

#[test]
fn non_local_return_leaves_the_home_method() {
    assert_eq!(int("m [:x | x > 1 ifTrue: [^ x * 100]] value: 5. ^ 0"), 500);
    assert_eq!(int("m [:x | [:y | ^ y] value: x + 1] value: 5. ^ 0"), 6);
    assert_eq!(int("m #(1 2 3) size. [:x | x] value: 1. ^ 9"), 9);
    let m = compile("m [:x | ^ x] value: 1");
    assert!(m.units[1].code.contains(&Op::NonLocalReturn));
}

#[test]
fn literal_frame_is_deduplicated() {
    let m = compile("m ^ (3 + 3) + (3 + 3)");
    assert_eq!(
        m.literals,
        [
            LiteralValue::Value(Literal::Integer(3)),
            LiteralValue::Selector("+".into())
        ]
    );
}

#[test]
fn primitive_error_code_gets_a_slot() {
    let m = compile("at: i <primitive: 60 error: ec> ^ ec");
    assert_eq!(
        m.primitive,
        Some(zag_compiler::zag_ast::PrimitiveIndex::Number(60))
    );
    assert_eq!(m.primitive_error_slot, Some(1));
    assert_eq!(m.units[0].frame_size(), 2);
}

#[test]
fn every_method_of_the_pharo_sources_compiles() {
    use std::path::Path;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/pharo/src");
    if !root.is_dir() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: {} is absent (it comes with ../shared)",
            root.display()
        );
        return;
    }
    let import = zag_compiler::import::Import::read(&[root]);
    let mut errors = Vec::new();
    let env = import.environment(&mut errors);
    let methods = zag_compiler::import::convert_all(&import, &env, &mut errors);
    assert!(errors.is_empty());
    let mut units = 0;
    for m in &methods {
        let t = compile_method(&m.method)
            .unwrap_or_else(|e| panic!("{}>>{}: {e}", m.method.class_name, m.method.selector));
        for u in &t.units {
            // Every jump lands inside its unit, and the unit ends with a
            // return or a backward jump.
            for op in &u.code {
                if let Op::Jump(t)
                | Op::JumpIfTrue(t)
                | Op::JumpIfFalse(t)
                | Op::JumpIfNil(t)
                | Op::JumpIfNotNil(t) = op
                {
                    assert!(
                        (*t as usize) < u.code.len(),
                        "{}>>{}",
                        m.method.class_name,
                        m.method.selector
                    );
                }
            }
            assert!(matches!(
                u.code.last(),
                Some(Op::ReturnTop | Op::NonLocalReturn | Op::PushNil)
            ));
        }
        units += t.units.len();
    }
    assert!(units > methods.len());
}
