//! Runtime methods: threaded code ready to run.
//!
//! A [`Method`] is the lowered form of the compiler's [`ThreadedMethod`]:
//! each op becomes an [`Instr`] holding the handler (a function pointer)
//! and its operands, with literals already turned into objects, as the plan
//! of `zag_compiler::lowering` says. The image's methods have static
//! instructions (build.rs laid them out); methods compiled at run time get
//! theirs here. Unit 0's first instruction is the method entry: it checks
//! the selector and counts the invocation (the counter a JIT will read).
//!
//! Methods are never freed (a redefined method may still be running), so a
//! [`MethodRef`] stays valid for the life of the VM.

use std::cell::Cell;

use zag_compiler::literal::Literal;
use zag_compiler::lowering::{self, Operand, QuickShape};
use zag_compiler::threaded::{Binding, LiteralValue, ThreadedMethod};
use zag_compiler::zag_ast::PrimitiveIndex;

use super::classes::ClassIndex;
use super::interpreter::{self as run, Handler};
use super::primitives::{self, Primitive};
use super::Vm;
use crate::object::Oop;

/// Index of a method in the VM's method registry.
pub type MethodRef = u32;

pub struct Method {
    pub selector: Oop,
    /// The class the method is installed in (super sends start above it).
    pub class: ClassIndex,
    /// Its primitive, an entry of the primitive table (resolved when the
    /// method was lowered or described), or none.
    pub primitive: Option<&'static Primitive>,
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

pub struct Unit {
    pub num_args: u16,
    pub num_copied: u16,
    pub num_temps: u16,
    pub max_stack: u16,
    pub code: Code,
}

/// A unit's instructions: static in the image, or made by the runtime
/// compiler.
pub enum Code {
    Static(&'static [Instr]),
    Owned(Box<[Instr]>),
}

impl std::ops::Deref for Code {
    type Target = [Instr];

    fn deref(&self) -> &[Instr] {
        match self {
            Code::Static(code) => code,
            Code::Owned(code) => code,
        }
    }
}

impl Unit {
    /// Frame slots: arguments, copied values, temporaries.
    pub fn frame_size(&self) -> usize {
        (self.num_args + self.num_copied + self.num_temps) as usize
    }
}

/// How a method answers without an activation, if it is that simple
/// (see [`QuickShape`]).
pub type Quick = QuickShape<Oop>;

/// One threaded word: a handler and its operands. The image's are static
/// (build.rs lays them out with this exact layout, 32 bytes), so nothing in
/// an instruction differs between VMs: a send site's inline cache is the
/// VM's, numbered by `site`, and a binding is found by number in the VM's
/// table.
#[repr(C)]
pub struct Instr {
    pub handler: Handler,
    /// An object (a constant, a selector) or 0.
    pub operand: u64,
    pub a: u32,
    pub b: u32,
    /// The number of a send site's inline cache in the universe's caches.
    pub site: u32,
    /// Which plan handler `handler` is ([`lowering::Handler::kind`]), or
    /// [`Instr::INTERNAL`] for the VM's own continuations. Function
    /// addresses do not identify a function in Rust (one function may have
    /// several), so code that needs to know what an instruction does (a
    /// JIT, a disassembler) reads this.
    pub kind: u32,
}

const _: () = assert!(std::mem::size_of::<Instr>() == 32);

/// A send site's last lookup. Defining a method empties every entry (see
/// `Vm::install`), so a hit needs one comparison; an empty entry names
/// class 0, which is no class, and never hits.
#[derive(Clone, Copy, Debug, Default)]
pub struct CacheEntry {
    pub class: ClassIndex,
    pub method: MethodRef,
}

impl Instr {
    /// The kind of the VM's own continuations, which no plan makes.
    pub const INTERNAL: u32 = u32::MAX;

    /// An instruction the VM itself jumps to (a continuation).
    pub(crate) fn internal(handler: Handler) -> Instr {
        Instr {
            handler,
            operand: 0,
            a: 0,
            b: 0,
            site: 0,
            kind: Instr::INTERNAL,
        }
    }

    /// The plan handler this instruction runs (None for the VM's
    /// continuations).
    pub fn plan_handler(&self) -> Option<lowering::Handler> {
        lowering::Handler::from_kind(self.kind)
    }

    pub fn operand_oop(&self) -> Oop {
        // SAFETY: lowering stores only valid Oops in `operand` for the
        // handlers that read it as one.
        unsafe { Oop::from_bits(self.operand) }
    }
}

/// Lowers a method compiled at run time, to be installed in `class`: the
/// plan `zag_compiler::lowering` makes (as build.rs does for the image),
/// with its operands made objects of this VM.
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
    let args = threaded.units[0].num_args as usize;
    let primitive = match &threaded.primitive {
        None => None,
        Some(PrimitiveIndex::Number(n)) => primitives::numbered(*n, args),
        Some(PrimitiveIndex::Named { name, module }) => primitives::named(module, name, args),
    };
    let selector = vm.intern(&threaded.selector);
    let plan = lowering::lower(threaded);
    let object = |vm: &Vm, operand: Operand| match operand {
        Operand::None | Operand::Binding(_) => None,
        Operand::Nil => Some(vm.universe.nil),
        Operand::True => Some(vm.universe.true_object),
        Operand::False => Some(vm.universe.false_object),
        Operand::Literal(i) => Some(literals[i as usize]),
        Operand::MethodSelector => Some(selector),
    };
    let units = threaded
        .units
        .iter()
        .zip(plan.units)
        .map(|(unit, code)| {
            let code = code
                .iter()
                .map(|i| Instr {
                    handler: run::function(i.handler),
                    operand: object(vm, i.operand).map_or(0, Oop::bits),
                    a: match i.operand {
                        Operand::Binding(literal) => {
                            vm.universe.binding_number(literals[literal as usize])
                        }
                        _ => i.a,
                    },
                    b: i.b,
                    site: if i.send_site {
                        vm.universe.new_send_site()
                    } else {
                        0
                    },
                    kind: i.handler.kind(),
                })
                .collect();
            Unit {
                num_args: unit.num_args,
                num_copied: unit.num_copied,
                num_temps: unit.num_temps,
                max_stack: unit.max_stack,
                code: Code::Owned(code),
            }
        })
        .collect();
    let quick = plan
        .quick
        .map(|constant| object(vm, *constant).unwrap_or(vm.universe.nil));
    Ok(Method::new(
        vm,
        selector,
        class,
        primitive,
        threaded.primitive_error_slot,
        quick,
        units,
        MethodSource::Ast(Box::new(ast)),
    ))
}

impl Method {
    /// A method ready to register (its CompiledMethod and AST objects are
    /// attached then).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        vm: &Vm,
        selector: Oop,
        class: ClassIndex,
        primitive: Option<&'static Primitive>,
        primitive_error_slot: Option<u16>,
        quick: Quick,
        units: Vec<Unit>,
        source: MethodSource,
    ) -> Method {
        Method {
            selector,
            class,
            primitive,
            primitive_error_slot,
            quick,
            plain: quick == Quick::No && primitive.is_none(),
            units,
            invocations: Cell::new(0),
            source,
            object: vm.universe.nil,
            ast_object: vm.universe.nil,
        }
    }

    /// Whether its primitive is `primitive` (a marker such as
    /// [`primitives::ENSURE_MARKER`]).
    #[inline]
    pub fn has_primitive(&self, primitive: &'static Primitive) -> bool {
        self.primitive.is_some_and(|p| std::ptr::eq(p, primitive))
    }
}

/// The object for an entry of the literal frame.
fn literal_object(vm: &mut Vm, literal: &LiteralValue, class: ClassIndex) -> Result<Oop, String> {
    match literal {
        LiteralValue::Value(l) => vm.literal(l),
        LiteralValue::Selector(s) => Ok(vm.intern(s)),
        LiteralValue::Binding(Binding::Global(name)) => Ok(vm.global_binding(name)),
        LiteralValue::Binding(Binding::ClassVar { class: owner, name }) => vm
            .universe
            .class_variable(owner, name)
            .ok_or_else(|| format!("class variable {owner}>>{name} is not defined")),
        LiteralValue::Binding(Binding::PoolVar { pool, name }) => {
            vm.universe.class_variable(pool, name).ok_or_else(|| {
                format!(
                    "pool variable {pool}>>{name} is not defined (in {})",
                    vm.universe.classes.name(class)
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
