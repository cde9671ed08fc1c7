//! Lowering: a method's threaded ops → the interpreter's instructions, as a
//! plan that names each instruction's handler and operands symbolically.
//!
//! build.rs turns the plan into static instructions in the image (a
//! handler becomes its function's symbol, a literal the address of its
//! static object); the runtime turns it into instructions for methods it
//! compiles (`eval`, file-in). Both therefore run the same code for the
//! same method. The plan is where the interpreter's specializations are
//! chosen:
//!
//! - sends of the arithmetic and comparison selectors get handlers that
//!   answer SmallIntegers and immediate floats inline (Pharo's
//!   special-selector bytecodes), and `==` is never looked up;
//! - pairs of ops that often follow each other get one handler on the
//!   first of them, which continues after the second (*fusion*);
//! - straight-line instructions run their successor's handler themselves
//!   (*chaining*), at most [`MAX_CHAIN`] in a row;
//! - unit 0 starts with the method entry, which checks the selector and
//!   counts invocations;
//! - a method whose whole body is an accessor or a constant is *quick*.

use crate::threaded::{LiteralValue, Op, ThreadedMethod};

/// Calls `$callback! { name, ... }` with the name of every handler a plan
/// can use: each is a function of the same name in the interpreter
/// (`zag::vm::interpreter`), so this list is the one place that ties a
/// plan's [`Handler`] to the function that runs it.
#[macro_export]
macro_rules! for_each_handler {
    ($callback:ident) => {
        $callback! {
            method_entry, method_entry_chained,
            push_self, push_self_chained,
            push_constant, push_constant_chained,
            push_this_context,
            push_temp, push_temp_chained, store_temp, store_temp_chained,
            push_remote, push_remote_chained, store_remote,
            push_inst_var, push_inst_var_chained, store_inst_var, store_inst_var_chained,
            push_binding, push_binding_chained, store_binding,
            make_temp_vector,
            pop, pop_chained, dup, dup_chained,
            send, super_send,
            send_identical, send_add, send_subtract, send_multiply, send_divide,
            send_less, send_greater, send_less_or_equal, send_greater_or_equal,
            send_equal, send_not_equal, send_modulo, send_floor_divide,
            send_bit_and, send_bit_or,
            pop_into_temp, pop_into_temp_chained, pop_into_inst_var, pop_into_inst_var_chained,
            return_self, return_temp, return_inst_var, return_constant,
            less_jump_if_true, less_jump_if_false,
            greater_jump_if_true, greater_jump_if_false,
            less_or_equal_jump_if_true, less_or_equal_jump_if_false,
            greater_or_equal_jump_if_true, greater_or_equal_jump_if_false,
            equal_jump_if_true, equal_jump_if_false,
            not_equal_jump_if_true, not_equal_jump_if_false,
            identical_jump_if_true, identical_jump_if_false,
            jump, jump_back, jump_if_true, jump_if_false, jump_if_nil, jump_if_not_nil,
            make_array, push_closure, return_top, non_local_return,
        }
    };
}

macro_rules! define_handlers {
    ($($name:ident),* $(,)?) => {
        /// An interpreter handler, named as its function.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Handler {
            $($name),*
        }

        impl Handler {
            pub const ALL: &'static [Handler] = &[$(Handler::$name),*];

            /// The handler recorded as `kind` (its place in [`Handler::ALL`]).
            pub fn from_kind(kind: u32) -> Option<Handler> {
                Handler::ALL.get(kind as usize).copied()
            }

            /// The number instructions record for it (their `kind`): its
            /// place in [`Handler::ALL`].
            pub fn kind(self) -> u32 {
                self as u32
            }

            /// The name of the interpreter function that runs it.
            pub fn name(self) -> &'static str {
                match self {
                    $(Handler::$name => stringify!($name)),*
                }
            }
        }
    };
}

for_each_handler!(define_handlers);

/// The longest run of chained instructions: bounds the nesting where the
/// Rust compiler does not make the tail call.
pub const MAX_CHAIN: usize = 8;

/// The `b` operand of a special send whose inline answer chains.
pub const CHAINED: u32 = 1;

/// What an instruction's object operand is, before it is an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// No object (the operand word is 0).
    None,
    Nil,
    True,
    False,
    /// The literal at this index of the method's literal frame (a
    /// constant, or the selector of a send).
    Literal(u16),
    /// The method's own selector (the method entry checks it).
    MethodSelector,
    /// The variable whose binding is the literal at this index: the
    /// operand word stays 0 and `a` holds the binding's number in the
    /// VM's table of bindings (which differs between VMs).
    Binding(u16),
}

/// One instruction of the plan. `a` and `b` are as the handler reads them
/// (slot indexes, argument counts, relative jump offsets...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instruction {
    pub handler: Handler,
    pub operand: Operand,
    pub a: u32,
    pub b: u32,
    /// A send site: it needs an inline cache (numbered by whoever makes
    /// the instructions, since the caches belong to a VM).
    pub send_site: bool,
}

impl Instruction {
    fn new(handler: Handler, operand: Operand, a: u32, b: u32) -> Instruction {
        Instruction {
            handler,
            operand,
            a,
            b,
            send_site: false,
        }
    }

    fn send(handler: Handler, selector: u16, args: u8, b: u32) -> Instruction {
        Instruction {
            send_site: true,
            ..Instruction::new(handler, Operand::Literal(selector), args as u32, b)
        }
    }
}

/// A method whose whole body is one of these shapes answers at the send,
/// without a frame (Pharo's quick methods, extended to setters): accessors
/// dominate object-heavy code, and activating a frame to read one slot
/// costs several times the read. Like Pharo's quick methods they never
/// appear in a stack trace; their invocations are still counted. `C` is
/// how the constant of `ReturnConstant` is given: an [`Operand`] in a plan,
/// an object in the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuickShape<C> {
    /// Runs its code.
    No,
    /// `^ self` (also the empty method).
    ReturnSelf,
    /// `^ nil`, `^ true`, `^ 3`, `^ #foo`... (a literal never moves).
    ReturnConstant(C),
    /// `^ instVar`.
    ReturnInstVar(u32),
    /// `instVar := argument` (answering self).
    StoreInstVar(u32),
}

impl<C> QuickShape<C> {
    /// The same shape with its constant given another way.
    pub fn map<D>(&self, constant: impl FnOnce(&C) -> D) -> QuickShape<D> {
        match self {
            QuickShape::No => QuickShape::No,
            QuickShape::ReturnSelf => QuickShape::ReturnSelf,
            QuickShape::ReturnConstant(c) => QuickShape::ReturnConstant(constant(c)),
            QuickShape::ReturnInstVar(i) => QuickShape::ReturnInstVar(*i),
            QuickShape::StoreInstVar(i) => QuickShape::StoreInstVar(*i),
        }
    }
}

/// A method's plan: one instruction list per code unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoweredMethod {
    pub units: Vec<Vec<Instruction>>,
    pub quick: QuickShape<Operand>,
}

/// Plans the instructions of a compiled method.
pub fn lower(method: &ThreadedMethod) -> LoweredMethod {
    let selector = |i: u16| match method.literals.get(i as usize) {
        Some(LiteralValue::Selector(s)) => s.as_str(),
        _ => "",
    };
    let units = method
        .units
        .iter()
        .enumerate()
        .map(|(index, unit)| lower_unit(&unit.code, index == 0, &selector))
        .collect();
    let quick = match &method.units[..] {
        [unit] if method.primitive.is_none() && unit.num_temps == 0 && unit.num_copied == 0 => {
            quick_shape(&unit.code, unit.num_args)
        }
        _ => QuickShape::No,
    };
    LoweredMethod { units, quick }
}

fn quick_shape(code: &[Op], num_args: u16) -> QuickShape<Operand> {
    use QuickShape::*;
    match (code, num_args) {
        ([Op::PushSelf, Op::ReturnTop], _) => ReturnSelf,
        ([Op::PushNil, Op::ReturnTop], _) => ReturnConstant(Operand::Nil),
        ([Op::PushTrue, Op::ReturnTop], _) => ReturnConstant(Operand::True),
        ([Op::PushFalse, Op::ReturnTop], _) => ReturnConstant(Operand::False),
        ([Op::PushLiteral(i), Op::ReturnTop], _) => ReturnConstant(Operand::Literal(*i)),
        ([Op::PushInstVar(i), Op::ReturnTop], _) => ReturnInstVar(*i),
        ([Op::PushTemp(0), Op::StoreInstVar(i), Op::Pop, Op::PushSelf, Op::ReturnTop], 1) => {
            StoreInstVar(*i)
        }
        _ => No,
    }
}

/// The instructions of one code unit (`is_method`: unit 0, which starts
/// with the method entry).
fn lower_unit<'a>(
    ops: &[Op],
    is_method: bool,
    selector: &impl Fn(u16) -> &'a str,
) -> Vec<Instruction> {
    use Handler as H;
    let mut code = Vec::with_capacity(ops.len() + 1);
    // Jump targets move by one in unit 0, past the entry instruction.
    let shift = usize::from(is_method);
    if is_method {
        code.push(Instruction::new(
            H::method_entry,
            Operand::MethodSelector,
            0,
            0,
        ));
    }
    // Which ops are sends with a specialized handler.
    let mut special_sends = vec![false; ops.len()];
    for (k, op) in ops.iter().enumerate() {
        // Jumps hold their target relative to themselves.
        let here = code.len() as i64;
        let target = |t: &u32| (*t as i64 + shift as i64 - here) as i32 as u32;
        let plain = |h: Handler, a: u32, b: u32| Instruction::new(h, Operand::None, a, b);
        let constant = |o: Operand| Instruction::new(H::push_constant, o, 0, 0);
        code.push(match op {
            Op::PushSelf => plain(H::push_self, 0, 0),
            Op::PushNil => constant(Operand::Nil),
            Op::PushTrue => constant(Operand::True),
            Op::PushFalse => constant(Operand::False),
            Op::PushLiteral(i) => constant(Operand::Literal(*i)),
            Op::PushThisContext => plain(H::push_this_context, 0, 0),
            Op::PushTemp(s) => plain(H::push_temp, *s as u32, 0),
            Op::StoreTemp(s) => plain(H::store_temp, *s as u32, 0),
            Op::PushRemote { vector, index } => {
                plain(H::push_remote, *vector as u32, *index as u32)
            }
            Op::StoreRemote { vector, index } => {
                plain(H::store_remote, *vector as u32, *index as u32)
            }
            Op::PushInstVar(i) => plain(H::push_inst_var, *i, 0),
            Op::StoreInstVar(i) => plain(H::store_inst_var, *i, 0),
            Op::PushBinding(i) => Instruction::new(H::push_binding, Operand::Binding(*i), 0, 0),
            Op::StoreBinding(i) => Instruction::new(H::store_binding, Operand::Binding(*i), 0, 0),
            Op::MakeTempVector { slot, size } => Instruction::new(
                H::make_temp_vector,
                Operand::Nil,
                *slot as u32,
                *size as u32,
            ),
            Op::Pop => plain(H::pop, 0, 0),
            Op::Dup => plain(H::dup, 0, 0),
            Op::Send { selector: s, args } => {
                let special = if *args == 1 {
                    special_send(selector(*s))
                } else {
                    None
                };
                special_sends[k] = special.is_some();
                Instruction::send(special.unwrap_or(H::send), *s, *args, 0)
            }
            Op::SuperSend { selector, args } => {
                Instruction::send(H::super_send, *selector, *args, 0)
            }
            // A loop's back-edge counts towards the JIT's threshold.
            Op::Jump(t) if (*t as i64 + shift as i64) < here => plain(H::jump_back, target(t), 0),
            Op::Jump(t) => plain(H::jump, target(t), 0),
            Op::JumpIfTrue(t) => plain(H::jump_if_true, target(t), 0),
            Op::JumpIfFalse(t) => plain(H::jump_if_false, target(t), 0),
            Op::JumpIfNil(t) => plain(H::jump_if_nil, target(t), 0),
            Op::JumpIfNotNil(t) => plain(H::jump_if_not_nil, target(t), 0),
            Op::MakeArray(n) => plain(H::make_array, *n as u32, 0),
            Op::PushClosure { unit, copied } => {
                plain(H::push_closure, *unit as u32, *copied as u32)
            }
            Op::ReturnTop => plain(H::return_top, 0, 0),
            Op::NonLocalReturn => plain(H::non_local_return, 0, 0),
        });
    }
    let mut fused_with_next = vec![false; ops.len()];
    for (k, pair) in ops.windows(2).enumerate() {
        if let Some(handler) = fused(&pair[0], &pair[1], selector) {
            code[k + shift].handler = handler;
            fused_with_next[k] = true;
        }
    }
    chain(&mut code, ops, shift, &fused_with_next, &special_sends);
    code
}

/// The specialized handler for sends of `selector` with one argument.
fn special_send(selector: &str) -> Option<Handler> {
    use Handler as H;
    Some(match selector {
        "==" => H::send_identical,
        "+" => H::send_add,
        "-" => H::send_subtract,
        "*" => H::send_multiply,
        "/" => H::send_divide,
        "<" => H::send_less,
        ">" => H::send_greater,
        "<=" => H::send_less_or_equal,
        ">=" => H::send_greater_or_equal,
        "=" => H::send_equal,
        "~=" => H::send_not_equal,
        "\\\\" => H::send_modulo,
        "//" => H::send_floor_divide,
        "bitAnd:" => H::send_bit_and,
        "bitOr:" => H::send_bit_or,
        _ => return None,
    })
}

/// The fused handler for a send of `selector` (one argument) followed by
/// a jump if true (`jump_when`) or if false: a comparison whose Boolean is
/// never pushed when it answers inline.
fn compare_and_jump(selector: &str, jump_when: bool) -> Option<Handler> {
    use Handler as H;
    let (if_true, if_false) = match selector {
        "<" => (H::less_jump_if_true, H::less_jump_if_false),
        ">" => (H::greater_jump_if_true, H::greater_jump_if_false),
        "<=" => (
            H::less_or_equal_jump_if_true,
            H::less_or_equal_jump_if_false,
        ),
        ">=" => (
            H::greater_or_equal_jump_if_true,
            H::greater_or_equal_jump_if_false,
        ),
        "=" => (H::equal_jump_if_true, H::equal_jump_if_false),
        "~=" => (H::not_equal_jump_if_true, H::not_equal_jump_if_false),
        "==" => (H::identical_jump_if_true, H::identical_jump_if_false),
        _ => return None,
    };
    Some(if jump_when { if_true } else { if_false })
}

/// The handler doing the work of `first` and `second`, which follow each
/// other, if there is one (see the fused pairs in the interpreter).
fn fused<'a>(first: &Op, second: &Op, selector: &impl Fn(u16) -> &'a str) -> Option<Handler> {
    use Handler as H;
    Some(match (first, second) {
        (Op::StoreTemp(_), Op::Pop) => H::pop_into_temp,
        (Op::StoreInstVar(_), Op::Pop) => H::pop_into_inst_var,
        (Op::PushSelf, Op::ReturnTop) => H::return_self,
        (Op::PushTemp(_), Op::ReturnTop) => H::return_temp,
        (Op::PushInstVar(_), Op::ReturnTop) => H::return_inst_var,
        (Op::PushLiteral(_) | Op::PushNil | Op::PushTrue | Op::PushFalse, Op::ReturnTop) => {
            H::return_constant
        }
        (
            Op::Send {
                selector: s,
                args: 1,
            },
            Op::JumpIfTrue(_),
        ) => compare_and_jump(selector(*s), true)?,
        (
            Op::Send {
                selector: s,
                args: 1,
            },
            Op::JumpIfFalse(_),
        ) => compare_and_jump(selector(*s), false)?,
        _ => return None,
    })
}

/// Gives straight-line instructions the handlers that run their successor
/// directly, at most `MAX_CHAIN` in a row. `code` is `ops` lowered, after
/// `shift` leading instructions (the method entry); `fused_with_next`
/// says which ops got a fused handler, `special_sends` which are sends
/// with a specialized handler.
fn chain(
    code: &mut [Instruction],
    ops: &[Op],
    shift: usize,
    fused_with_next: &[bool],
    special_sends: &[bool],
) {
    use Handler as H;
    // The chained handler of the instruction lowered from `op`, and how
    // many instructions it covers.
    let chained = |k: usize| -> Option<(Handler, usize)> {
        Some(match (&ops[k], fused_with_next[k]) {
            (Op::PushSelf, false) => (H::push_self_chained, 1),
            (Op::PushLiteral(_) | Op::PushNil | Op::PushTrue | Op::PushFalse, false) => {
                (H::push_constant_chained, 1)
            }
            (Op::PushTemp(_), false) => (H::push_temp_chained, 1),
            (Op::PushInstVar(_), false) => (H::push_inst_var_chained, 1),
            (Op::PushBinding(_), false) => (H::push_binding_chained, 1),
            (Op::PushRemote { .. }, false) => (H::push_remote_chained, 1),
            (Op::StoreTemp(_), false) => (H::store_temp_chained, 1),
            (Op::StoreInstVar(_), false) => (H::store_inst_var_chained, 1),
            (Op::StoreTemp(_), true) => (H::pop_into_temp_chained, 2),
            (Op::StoreInstVar(_), true) => (H::pop_into_inst_var_chained, 2),
            (Op::Pop, false) => (H::pop_chained, 1),
            (Op::Dup, false) => (H::dup_chained, 1),
            _ => return None,
        })
    };
    // From the end: how many chained instructions start at each op.
    let mut run_length = vec![0usize; ops.len() + 2];
    for k in (0..ops.len()).rev() {
        // A special send (arithmetic, comparison, `==`) chains when it
        // answers inline: the same handler, marked in its `b` operand.
        if special_sends[k] && !fused_with_next[k] {
            if k + 1 < ops.len() && run_length[k + 1] < MAX_CHAIN {
                code[k + shift].b = CHAINED;
                run_length[k] = run_length[k + 1] + 1;
            }
            continue;
        }
        let Some((handler, width)) = chained(k) else {
            continue;
        };
        let successor = k + width;
        if successor >= ops.len() || run_length[successor] >= MAX_CHAIN {
            continue;
        }
        code[k + shift].handler = handler;
        run_length[k] = run_length[successor] + 1;
    }
    if shift == 1 && !ops.is_empty() && run_length[0] < MAX_CHAIN {
        code[0].handler = H::method_entry_chained;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threaded::CodeUnit;

    fn method(literals: Vec<LiteralValue>, code: Vec<Op>, num_args: u16) -> ThreadedMethod {
        ThreadedMethod {
            class_name: "Foo".into(),
            class_side: false,
            selector: "foo".into(),
            primitive: None,
            primitive_error_slot: None,
            literals,
            units: vec![CodeUnit {
                num_args,
                num_copied: 0,
                num_temps: 0,
                max_stack: 2,
                facts: Default::default(),
                code,
            }],
        }
    }

    #[test]
    fn handler_names_are_distinct() {
        let mut names: Vec<_> = Handler::ALL.iter().map(|h| h.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Handler::ALL.len());
    }

    #[test]
    fn a_comparison_before_a_jump_is_fused_and_arithmetic_is_special() {
        let m = method(
            vec![
                LiteralValue::Selector("<".into()),
                LiteralValue::Selector("+".into()),
            ],
            vec![
                Op::PushTemp(0),
                Op::PushTemp(0),
                Op::Send {
                    selector: 0,
                    args: 1,
                },
                Op::JumpIfFalse(7),
                Op::PushTemp(0),
                Op::PushTemp(0),
                Op::Send {
                    selector: 1,
                    args: 1,
                },
                Op::ReturnTop,
            ],
            1,
        );
        let code = &lower(&m).units[0];
        assert_eq!(code[0].handler, Handler::method_entry_chained);
        assert_eq!(code[3].handler, Handler::less_jump_if_false);
        assert!(code[3].send_site);
        // The jump keeps its own handler (it may be a target) and its
        // offset counts from itself: op 7 is instruction 8.
        assert_eq!(code[4].handler, Handler::jump_if_false);
        assert_eq!(code[4].a, 4);
        assert_eq!(code[7].handler, Handler::send_add);
        assert_eq!(code[7].b, CHAINED);
        assert_eq!(code[1].handler, Handler::push_temp_chained);
    }

    #[test]
    fn accessors_and_constants_are_quick() {
        let getter = method(vec![], vec![Op::PushInstVar(2), Op::ReturnTop], 0);
        assert_eq!(lower(&getter).quick, QuickShape::ReturnInstVar(2));
        let setter = method(
            vec![],
            vec![
                Op::PushTemp(0),
                Op::StoreInstVar(1),
                Op::Pop,
                Op::PushSelf,
                Op::ReturnTop,
            ],
            1,
        );
        assert_eq!(lower(&setter).quick, QuickShape::StoreInstVar(1));
        let constant = method(vec![], vec![Op::PushLiteral(0), Op::ReturnTop], 0);
        assert_eq!(
            lower(&constant).quick,
            QuickShape::ReturnConstant(Operand::Literal(0))
        );
        let send = method(
            vec![LiteralValue::Selector("x".into())],
            vec![
                Op::PushSelf,
                Op::Send {
                    selector: 0,
                    args: 0,
                },
                Op::ReturnTop,
            ],
            0,
        );
        assert_eq!(lower(&send).quick, QuickShape::No);
    }

    #[test]
    fn chains_are_bounded() {
        let mut code = vec![Op::PushSelf; 20];
        code.push(Op::ReturnTop);
        let m = method(vec![], code, 0);
        let lowered = &lower(&m).units[0];
        let longest = lowered
            .split(|i| !i.handler.name().ends_with("_chained"))
            .map(<[_]>::len)
            .max();
        assert_eq!(longest, Some(MAX_CHAIN));
    }
}
