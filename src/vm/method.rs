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

use zag_compiler::lowering::{self, Operand, QuickShape};
use zag_compiler::threaded::{Binding, LiteralValue, ThreadedMethod};
use zag_compiler::zag_ast::PrimitiveIndex;

use super::classes::ClassIndex;
use super::interpreter::{self as run, Handler, Ip};
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
    /// How the method answers without an activation, if it is that simple
    /// (its [`MethodInfo`] says the same in fixed layout).
    pub quick: Quick,
    pub units: Vec<Unit>,
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
    /// What reflection tells of a block (`isClean`, `hasNonLocalReturn`).
    pub facts: zag_compiler::threaded::BlockFacts,
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

/// What a send needs to know of a method, in fixed layout (`#[repr(C)]`,
/// offsets in `vm::abi`) for code that is not Rust: one per registered
/// method, in the universe's table of them (`Universe::infos`, indexed by
/// [`MethodRef`]), which never moves. Derived from the [`Method`] when it
/// is registered; only the entry (when its code is replaced) and the
/// invocation count change afterwards.
#[repr(C)]
pub struct MethodInfo {
    /// Unit 0's first instruction in this VM (`Universe::replace_code`
    /// may give it other code than the image's).
    pub entry: Cell<Ip>,
    /// Invocations so far (the method entry and quick answers count them).
    pub invocations: Cell<u64>,
    /// A quick method's operand: the constant's bits, or the slot index.
    pub quick_operand: u64,
    /// [`MethodInfo::PLAIN`], [`MethodInfo::QUICK`], [`MethodInfo::PRIMITIVE`].
    pub flags: u16,
    /// A quick method's shape: one of the `QUICK_*` constants.
    pub quick_shape: u16,
    /// Unit 0's frame: arguments, temporaries, maximum operand stack depth.
    pub num_args: u16,
    pub num_temps: u16,
    pub max_stack: u16,
}

// SAFETY: all zeroes is a method with no flags and a null entry; nothing
// in it needs dropping.
unsafe impl super::block::Zeroable for MethodInfo {}

impl MethodInfo {
    /// Neither quick nor with a primitive: a send activates its code.
    pub const PLAIN: u16 = 1;
    /// Answers without an activation ([`Quick`]).
    pub const QUICK: u16 = 2;
    /// Has a primitive, which runs before its code.
    pub const PRIMITIVE: u16 = 4;

    pub const QUICK_NONE: u16 = 0;
    pub const QUICK_RETURN_SELF: u16 = 1;
    pub const QUICK_RETURN_CONSTANT: u16 = 2;
    pub const QUICK_RETURN_INST_VAR: u16 = 3;
    pub const QUICK_STORE_INST_VAR: u16 = 4;

    /// The info of `method`, whose unit 0 starts at `entry`.
    pub fn of(method: &Method) -> MethodInfo {
        let (quick_shape, quick_operand) = match method.quick {
            Quick::No => (Self::QUICK_NONE, 0),
            Quick::ReturnSelf => (Self::QUICK_RETURN_SELF, 0),
            Quick::ReturnConstant(value) => (Self::QUICK_RETURN_CONSTANT, value.bits()),
            Quick::ReturnInstVar(index) => (Self::QUICK_RETURN_INST_VAR, index as u64),
            Quick::StoreInstVar(index) => (Self::QUICK_STORE_INST_VAR, index as u64),
        };
        let mut flags = 0;
        if quick_shape != Self::QUICK_NONE {
            flags |= Self::QUICK;
        }
        if method.primitive.is_some() {
            flags |= Self::PRIMITIVE;
        }
        if flags == 0 {
            flags = Self::PLAIN;
        }
        let unit = &method.units[0];
        MethodInfo {
            entry: Cell::new(unit.code.as_ptr()),
            invocations: Cell::new(0),
            quick_operand,
            flags,
            quick_shape,
            num_args: unit.num_args,
            num_temps: unit.num_temps,
            max_stack: unit.max_stack,
        }
    }

    pub fn is_plain(&self) -> bool {
        self.flags == Self::PLAIN
    }

    /// Counts one more invocation; answers the count.
    #[inline]
    pub fn count_invocation(&self) -> u64 {
        let count = self.invocations.get() + 1;
        self.invocations.set(count);
        count
    }
}

/// One threaded word: a handler and its operands. The image's are static
/// (build.rs lays them out with this exact layout, 32 bytes), so nothing in
/// an instruction differs between VMs: a send site's inline cache is the
/// VM's, numbered by `site`, and a binding is found by number in the VM's
/// table.
#[derive(Clone, Copy, Debug)]
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

// SAFETY: all zeroes is the empty entry (class 0 is no class).
unsafe impl super::block::Zeroable for CacheEntry {}

/// A send site's last lookup. Defining a method empties every entry (see
/// `Vm::install`), so a hit needs one comparison; an empty entry names
/// class 0, which is no class, and never hits.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
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

    /// An instruction running `handler` (a plan handler, whose kind it
    /// records) with these operands, for no send site: for code made by
    /// hand (tests) or by a code generator.
    pub fn new(handler: lowering::Handler, operand: u64, a: u32, b: u32) -> Instr {
        Instr {
            handler: run::function(handler),
            operand,
            a,
            b,
            site: 0,
            kind: handler.kind(),
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
                .map(|i| {
                    Ok(Instr {
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
                            vm.universe.new_send_site()?
                        } else {
                            0
                        },
                        kind: i.handler.kind(),
                    })
                })
                .collect::<Result<_, String>>()?;
            Ok(Unit {
                num_args: unit.num_args,
                num_copied: unit.num_copied,
                num_temps: unit.num_temps,
                max_stack: unit.max_stack,
                facts: unit.facts,
                code: Code::Owned(code),
            })
        })
        .collect::<Result<_, String>>()?;
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
            units,
            source,
            object: vm.universe.nil,
            ast_object: vm.universe.nil,
        }
    }

    /// Whether its code (its blocks' included) reads or writes its
    /// receiver's instance variables by their places.
    pub fn uses_inst_vars(&self) -> bool {
        use lowering::Handler as H;
        self.units.iter().flat_map(|u| u.code.iter()).any(|i| {
            matches!(
                i.plan_handler(),
                Some(
                    H::push_inst_var
                        | H::push_inst_var_chained
                        | H::store_inst_var
                        | H::store_inst_var_chained
                        | H::pop_into_inst_var
                        | H::pop_into_inst_var_chained
                        | H::return_inst_var
                )
            )
        })
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
