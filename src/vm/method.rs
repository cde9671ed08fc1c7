//! Runtime methods: threaded code ready to run.
//!
//! A [`Method`] is the lowered form of the compiler's [`ThreadedMethod`]:
//! each op becomes an [`Instr`] holding the handler (a function pointer)
//! and its operands, with literals already turned into objects. Unit 0's first
//! instruction is the method entry: it checks the selector and counts the
//! invocation (the counter a JIT will read).
//!
//! Methods are never freed (a redefined method may still be running), so a
//! [`MethodRef`] stays valid for the life of the VM.

use std::cell::Cell;

use zag_compiler::literal::Literal;
use zag_compiler::threaded::{Binding, LiteralValue, Op, ThreadedMethod};
use zag_compiler::zag_ast::PrimitiveIndex;

use super::classes::ClassIndex;
use super::interpreter::{self as run, Handler};
use super::Vm;
use crate::object::Oop;

/// Index of a method in the VM's method registry.
pub type MethodRef = u32;

pub struct Method {
    pub selector: Oop,
    /// The class the method is installed in (super sends start above it).
    pub class: ClassIndex,
    /// Pharo primitive number, 0 for none.
    pub primitive: u32,
    /// The function that runs it (resolved from the number).
    pub primitive_fn: super::primitives::PrimitiveFn,
    pub primitive_error_slot: Option<u16>,
    /// How the method answers without an activation, if it is that simple.
    pub quick: Quick,
    /// Neither quick nor with a primitive: a send activates its code.
    pub plain: bool,
    pub units: Vec<Unit>,
    pub invocations: Cell<u64>,
    pub source: MethodSource,
    /// The method as a Smalltalk CompiledMethod (made when registered).
    pub object: Oop,
    /// Its AST as Smalltalk objects (made on the first `ast`), or nil.
    pub ast_object: Oop,
}

/// Where a method's source can be had from.
pub enum MethodSource {
    /// Compiled at run time: its resolved AST.
    Ast(Box<zag_compiler::zag_ast::Method>),
    /// Baked into the image: the source printed from its AST at build time.
    Image(&'static str),
}

/// What lowering needs of a compiled method, borrowed from a
/// `ThreadedMethod` (run-time compilation) or from the image's statics.
pub struct MethodParts<'a> {
    pub selector: &'a str,
    pub primitive: u32,
    pub primitive_error_slot: Option<u16>,
    /// The literal frame, already as objects.
    pub literals: Vec<Oop>,
    pub units: &'a [UnitParts<'a>],
    pub source: MethodSource,
}

/// A code unit as lowering takes it: borrowed from a `ThreadedMethod`, or
/// a `static` of the image (build.rs writes these directly).
pub struct UnitParts<'a> {
    pub num_args: u16,
    pub num_copied: u16,
    pub num_temps: u16,
    pub max_stack: u16,
    pub code: &'a [Op],
}

pub struct Unit {
    pub num_args: u16,
    pub num_copied: u16,
    pub num_temps: u16,
    pub max_stack: u16,
    pub code: Vec<Instr>,
}

impl Unit {
    /// Frame slots: arguments, copied values, temporaries.
    pub fn frame_size(&self) -> usize {
        (self.num_args + self.num_copied + self.num_temps) as usize
    }
}

/// A method whose whole body is one of these shapes answers at the send,
/// without a frame (Pharo's quick methods, extended to setters): accessors
/// dominate object-heavy code, and activating a frame to read one slot
/// costs several times the read. Like Pharo's quick methods they never
/// appear in a stack trace; their invocations are still counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quick {
    /// Runs its code.
    No,
    /// `^ self` (also the empty method).
    ReturnSelf,
    /// `^ nil`, `^ true`, `^ 3`, `^ #foo`... (a literal never moves).
    ReturnConstant(Oop),
    /// `^ instVar`.
    ReturnInstVar(u32),
    /// `instVar := argument` (answering self).
    StoreInstVar(u32),
}

impl Quick {
    /// Recognises the quick shapes in unit 0 of a method without a
    /// primitive or blocks.
    fn of(unit: &UnitParts, literals: &[Oop], vm: &Vm) -> Quick {
        if unit.num_temps != 0 || unit.num_copied != 0 {
            return Quick::No;
        }
        match (unit.code, unit.num_args) {
            ([Op::PushSelf, Op::ReturnTop], _) => Quick::ReturnSelf,
            ([Op::PushNil, Op::ReturnTop], _) => Quick::ReturnConstant(vm.nil),
            ([Op::PushTrue, Op::ReturnTop], _) => Quick::ReturnConstant(vm.true_object),
            ([Op::PushFalse, Op::ReturnTop], _) => Quick::ReturnConstant(vm.false_object),
            ([Op::PushLiteral(i), Op::ReturnTop], _) => {
                Quick::ReturnConstant(literals[*i as usize])
            }
            ([Op::PushInstVar(i), Op::ReturnTop], _) => Quick::ReturnInstVar(*i),
            ([Op::PushTemp(0), Op::StoreInstVar(i), Op::Pop, Op::PushSelf, Op::ReturnTop], 1) => {
                Quick::StoreInstVar(*i)
            }
            _ => Quick::No,
        }
    }
}

/// One threaded word: a handler and its operands.
pub struct Instr {
    pub handler: Handler,
    /// An object (a constant, a selector, an association) or 0.
    pub operand: u64,
    pub a: u32,
    pub b: u32,
    /// The inline cache of a send site.
    pub cache: Cell<CacheEntry>,
}

/// A send site's last lookup: valid while the VM's method epoch is unchanged.
#[derive(Clone, Copy, Debug, Default)]
pub struct CacheEntry {
    pub class: ClassIndex,
    pub method: MethodRef,
    pub epoch: u32,
}

impl Instr {
    fn new(handler: Handler, operand: u64, a: u32, b: u32) -> Instr {
        Instr {
            handler,
            operand,
            a,
            b,
            cache: Cell::new(CacheEntry::default()),
        }
    }

    /// An instruction the VM itself jumps to (a continuation).
    pub(crate) fn internal(handler: Handler) -> Instr {
        Instr::new(handler, 0, 0, 0)
    }

    pub fn operand_oop(&self) -> Oop {
        // SAFETY: lowering stores only valid Oops in `operand` for the
        // handlers that read it as one.
        unsafe { Oop::from_bits(self.operand) }
    }
}

/// Lowers a method compiled at run time, to be installed in `class`.
pub fn lower(
    vm: &mut Vm,
    threaded: &ThreadedMethod,
    class: ClassIndex,
    ast: zag_compiler::zag_ast::Method,
) -> Result<Method, String> {
    let literals = threaded
        .literals
        .iter()
        .map(|l| literal_object(vm, l, class))
        .collect::<Result<Vec<Oop>, String>>()?;
    let primitive = match &threaded.primitive {
        None => 0,
        Some(PrimitiveIndex::Number(n)) => *n,
        Some(PrimitiveIndex::Named { name, module }) => super::primitives::named(module, name),
    };
    let units: Vec<UnitParts> = threaded
        .units
        .iter()
        .map(|u| UnitParts {
            num_args: u.num_args,
            num_copied: u.num_copied,
            num_temps: u.num_temps,
            max_stack: u.max_stack,
            code: &u.code,
        })
        .collect();
    let parts = MethodParts {
        selector: &threaded.selector,
        primitive,
        primitive_error_slot: threaded.primitive_error_slot,
        literals,
        units: &units,
        source: MethodSource::Ast(Box::new(ast)),
    };
    Ok(lower_parts(vm, parts, class))
}

/// Gives straight-line instructions the handlers that run their successor
/// directly (see chaining in the interpreter), at most `MAX_CHAIN` in a
/// row. `code` is `ops` lowered, after `shift` leading instructions (the
/// method entry); `fused_with_next` says which ops got a fused handler,
/// `special_sends` which are sends with a specialized handler.
fn chain(
    code: &mut [Instr],
    ops: &[Op],
    shift: usize,
    fused_with_next: &[bool],
    special_sends: &[bool],
) {
    // The chained handler of the instruction lowered from `op`, and how
    // many instructions it covers.
    let chained = |k: usize| -> Option<(Handler, usize)> {
        let fused = fused_with_next[k];
        Some(match (&ops[k], fused) {
            (Op::PushSelf, false) => (run::push_self_chained, 1),
            (Op::PushLiteral(_) | Op::PushNil | Op::PushTrue | Op::PushFalse, false) => {
                (run::push_constant_chained, 1)
            }
            (Op::PushTemp(_), false) => (run::push_temp_chained, 1),
            (Op::PushInstVar(_), false) => (run::push_inst_var_chained, 1),
            (Op::PushBinding(_), false) => (run::push_binding_chained, 1),
            (Op::PushRemote { .. }, false) => (run::push_remote_chained, 1),
            (Op::StoreTemp(_), false) => (run::store_temp_chained, 1),
            (Op::StoreInstVar(_), false) => (run::store_inst_var_chained, 1),
            (Op::StoreTemp(_), true) => (run::pop_into_temp_chained, 2),
            (Op::StoreInstVar(_), true) => (run::pop_into_inst_var_chained, 2),
            (Op::Pop, false) => (run::pop_chained, 1),
            (Op::Dup, false) => (run::dup_chained, 1),
            _ => return None,
        })
    };
    // From the end: how many chained instructions start at each op.
    let mut run_length = vec![0usize; ops.len() + 2];
    for k in (0..ops.len()).rev() {
        // A special send (arithmetic, comparison, `==`) chains when it
        // answers inline: the same handler, marked in its `b` operand.
        if special_sends[k] && !fused_with_next[k] {
            if k + 1 < ops.len() && run_length[k + 1] < run::MAX_CHAIN {
                code[k + shift].b = run::CHAINED;
                run_length[k] = run_length[k + 1] + 1;
            }
            continue;
        }
        let Some((handler, width)) = chained(k) else {
            continue;
        };
        let successor = k + width;
        if successor >= ops.len() || run_length[successor] >= run::MAX_CHAIN {
            continue;
        }
        code[k + shift].handler = handler;
        run_length[k] = run_length[successor] + 1;
    }
    if shift == 1 && !ops.is_empty() && run_length[0] < run::MAX_CHAIN {
        code[0].handler = run::method_entry_chained;
    }
}

/// The handler doing the work of `first` and `second`, which follow each
/// other, if there is one (see the fused pairs in the interpreter).
fn fused<'a>(first: &Op, second: &Op, selector: impl Fn(&u16) -> &'a str) -> Option<Handler> {
    Some(match (first, second) {
        (Op::StoreTemp(_), Op::Pop) => run::pop_into_temp,
        (Op::StoreInstVar(_), Op::Pop) => run::pop_into_inst_var,
        (Op::PushSelf, Op::ReturnTop) => run::return_self,
        (Op::PushTemp(_), Op::ReturnTop) => run::return_temp,
        (Op::PushInstVar(_), Op::ReturnTop) => run::return_inst_var,
        (Op::PushLiteral(_) | Op::PushNil | Op::PushTrue | Op::PushFalse, Op::ReturnTop) => {
            run::return_constant
        }
        (
            Op::Send {
                selector: s,
                args: 1,
            },
            Op::JumpIfTrue(_),
        ) => run::compare_and_jump_handler(selector(s), true)?,
        (
            Op::Send {
                selector: s,
                args: 1,
            },
            Op::JumpIfFalse(_),
        ) => run::compare_and_jump_handler(selector(s), false)?,
        _ => return None,
    })
}

/// Turns each op into an instruction, for a method installed in `class`.
pub fn lower_parts(vm: &mut Vm, parts: MethodParts, class: ClassIndex) -> Method {
    let selector = vm.intern(parts.selector);
    let literals = &parts.literals;
    let superclass = vm
        .classes
        .get(class)
        .and_then(|c| c.superclass)
        .unwrap_or(0);
    let quick = match parts.units {
        [unit] if parts.primitive == 0 => Quick::of(unit, literals, vm),
        _ => Quick::No,
    };
    let mut units = Vec::with_capacity(parts.units.len());
    for (index, unit) in parts.units.iter().enumerate() {
        let mut code = Vec::with_capacity(unit.code.len() + 1);
        // Jump targets move by one in unit 0, past the entry instruction.
        let shift = if index == 0 {
            code.push(Instr::new(run::method_entry, selector.bits(), 0, 0));
            1
        } else {
            0
        };
        // Which ops are sends with a specialized handler.
        let mut special_sends = vec![false; unit.code.len()];
        for (k, op) in unit.code.iter().enumerate() {
            let lit = |i: &u16| literals[*i as usize];
            // Jumps hold their target relative to themselves.
            let here = code.len() as i64;
            let target = |t: &u32| ((*t + shift) as i64 - here) as i32 as u32;
            let nil = vm.nil.bits();
            code.push(match op {
                Op::PushSelf => Instr::new(run::push_self, 0, 0, 0),
                Op::PushNil => Instr::new(run::push_constant, nil, 0, 0),
                Op::PushTrue => Instr::new(run::push_constant, vm.true_object.bits(), 0, 0),
                Op::PushFalse => Instr::new(run::push_constant, vm.false_object.bits(), 0, 0),
                Op::PushThisContext => Instr::new(run::push_this_context, 0, 0, 0),
                Op::PushLiteral(i) => Instr::new(run::push_constant, lit(i).bits(), 0, 0),
                Op::PushTemp(s) => Instr::new(run::push_temp, 0, *s as u32, 0),
                Op::StoreTemp(s) => Instr::new(run::store_temp, 0, *s as u32, 0),
                Op::PushRemote { vector, index } => {
                    Instr::new(run::push_remote, 0, *vector as u32, *index as u32)
                }
                Op::StoreRemote { vector, index } => {
                    Instr::new(run::store_remote, 0, *vector as u32, *index as u32)
                }
                Op::PushInstVar(i) => Instr::new(run::push_inst_var, 0, *i, 0),
                Op::StoreInstVar(i) => Instr::new(run::store_inst_var, 0, *i, 0),
                Op::PushBinding(i) => Instr::new(run::push_binding, lit(i).bits(), 0, 0),
                Op::StoreBinding(i) => Instr::new(run::store_binding, lit(i).bits(), 0, 0),
                Op::MakeTempVector { slot, size } => {
                    Instr::new(run::make_temp_vector, nil, *slot as u32, *size as u32)
                }
                Op::Pop => Instr::new(run::pop, 0, 0, 0),
                Op::Dup => Instr::new(run::dup, 0, 0, 0),
                Op::Send { selector, args } => {
                    let name = vm.symbol_str(lit(selector));
                    let handler = match (*args, run::special_send_handler(name)) {
                        (1, Some(special)) => {
                            special_sends[k] = true;
                            special
                        }
                        _ => run::send as Handler,
                    };
                    Instr::new(handler, lit(selector).bits(), *args as u32, 0)
                }
                Op::SuperSend { selector, args } => Instr::new(
                    run::super_send,
                    lit(selector).bits(),
                    *args as u32,
                    superclass,
                ),
                Op::Jump(t) => Instr::new(run::jump, 0, target(t), 0),
                Op::JumpIfTrue(t) => Instr::new(run::jump_if_true, 0, target(t), 0),
                Op::JumpIfFalse(t) => Instr::new(run::jump_if_false, 0, target(t), 0),
                Op::JumpIfNil(t) => Instr::new(run::jump_if_nil, 0, target(t), 0),
                Op::JumpIfNotNil(t) => Instr::new(run::jump_if_not_nil, 0, target(t), 0),
                Op::MakeArray(n) => Instr::new(run::make_array, 0, *n as u32, 0),
                Op::PushClosure { unit, copied } => {
                    Instr::new(run::push_closure, 0, *unit as u32, *copied as u32)
                }
                Op::ReturnTop => Instr::new(run::return_top, 0, 0, 0),
                Op::NonLocalReturn => Instr::new(run::non_local_return, 0, 0, 0),
            });
        }
        let shift = shift as usize;
        let mut fused_with_next = vec![false; unit.code.len()];
        for (k, pair) in unit.code.windows(2).enumerate() {
            let selector = |i: &u16| vm.symbol_str(literals[*i as usize]);
            if let Some(handler) = fused(&pair[0], &pair[1], selector) {
                code[k + shift].handler = handler;
                fused_with_next[k] = true;
            }
        }
        chain(
            &mut code,
            unit.code,
            shift,
            &fused_with_next,
            &special_sends,
        );
        units.push(Unit {
            num_args: unit.num_args,
            num_copied: unit.num_copied,
            num_temps: unit.num_temps,
            max_stack: unit.max_stack,
            code,
        });
    }
    Method {
        selector,
        class,
        primitive: parts.primitive,
        primitive_fn: super::primitives::function_for(parts.primitive),
        primitive_error_slot: parts.primitive_error_slot,
        quick,
        plain: quick == Quick::No && parts.primitive == 0,
        units,
        invocations: Cell::new(0),
        source: parts.source,
        object: vm.nil,
        ast_object: vm.nil,
    }
}

/// The object for an entry of the literal frame.
fn literal_object(vm: &mut Vm, literal: &LiteralValue, class: ClassIndex) -> Result<Oop, String> {
    match literal {
        LiteralValue::Value(l) => vm.literal(l),
        LiteralValue::Selector(s) => Ok(vm.intern(s)),
        LiteralValue::Binding(Binding::Global(name)) => Ok(vm.global_binding(name)),
        LiteralValue::Binding(Binding::ClassVar { class: owner, name }) => vm
            .class_variable(owner, name)
            .ok_or_else(|| format!("class variable {owner}>>{name} is not defined")),
        LiteralValue::Binding(Binding::PoolVar { pool, name }) => {
            vm.class_variable(pool, name).ok_or_else(|| {
                format!(
                    "pool variable {pool}>>{name} is not defined (in {})",
                    vm.classes.name(class)
                )
            })
        }
    }
}

/// Literal kinds the VM cannot build yet are reported, not faked.
pub fn unsupported_literal(l: &Literal) -> String {
    format!(
        "literal {} is not supported yet",
        zag_compiler::printer::print_literal(l)
    )
}
