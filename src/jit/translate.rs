//! One code unit's threaded instructions → one LLVM function with the
//! handler contract: `fn(vm, ip) -> next ip`.
//!
//! The function runs on the interpreter's frames and value stack and is
//! the handler of the unit's *entries* in the VM's copy of the unit: its
//! first instruction, every jump target, and every instruction where
//! control may come back after an instruction that the function hands to
//! the interpreter's handler (a return address). It starts by dispatching
//! on `ip` to the entry's block.
//!
//! Straight-line instructions are done natively: pushes, stores, pops,
//! jumps, SmallInteger arithmetic and comparisons (with tag and overflow
//! checks), comparisons fused with their conditional jump, identity and
//! nil tests. Within a block the operand stack is kept in SSA values; it
//! is written back to the value stack (and its length set) before
//! anything that leaves the block, so nothing lives only in a register
//! across a call that may collect garbage or run Smalltalk.
//!
//! Every other instruction is delegated: the function calls the
//! interpreter's handler of that instruction (its unchained variant) with
//! the instruction's address in the copy, and dispatches on the answer: an
//! entry of this unit continues natively, anything else (a callee's first
//! instruction, a caller's return address, null) goes back to the
//! trampoline. Non-local return, unwinding, exceptions, `thisContext`,
//! sends and primitives thereby keep the interpreter's semantics exactly.

use inkwell::basic_block::BasicBlock;
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::module::Module;
use inkwell::types::{FunctionType, IntType, PointerType};
use inkwell::values::{
    BasicMetadataValueEnum, BasicValueEnum, FunctionValue, IntValue, PhiValue, PointerValue,
    ValueKind,
};
use inkwell::{AddressSpace, IntPredicate};
use zag_compiler::lowering::Handler as H;

use crate::object::Oop;
use crate::vm::abi;
use crate::vm::interpreter::function;
use crate::vm::method::Instr;

mod analysis;
mod arithmetic;
mod flow;
mod sends;
mod variables;

use analysis::{entries, stack_depths};

/// What the translation needs of a unit and its VM.
pub(super) struct UnitInput<'a> {
    /// The unit's instructions, as the VM's copy holds them.
    pub code: &'a [Instr],
    /// The copy's address (instruction pointers are compared with it).
    pub copy: usize,
    /// The method's info (its invocation counter), which never moves.
    pub info: usize,
    /// The VM's inline caches: a block that never moves.
    pub caches: usize,
    /// The VM's method infos (`Universe::infos`): a block that never moves.
    pub infos: usize,
    /// The VM's bindings (Associations in old space, which never move).
    pub bindings: &'a [Oop],
    /// The VM's nursery (young objects), for the write barrier.
    pub nursery: std::ops::Range<u64>,
    /// What each send's inline cache held (by instruction), and the
    /// lookup epoch those guesses are valid in.
    pub speculations: &'a [Option<super::speculation::Speculation>],
    pub epoch: u32,
    pub nil: Oop,
    pub true_object: Oop,
    pub false_object: Oop,
}

fn plan_kind(i: &Instr) -> H {
    i.plan_handler().expect("unit code records plan handlers")
}

fn is_compare_and_jump(kind: H) -> bool {
    matches!(
        kind,
        H::less_jump_if_true
            | H::less_jump_if_false
            | H::greater_jump_if_true
            | H::greater_jump_if_false
            | H::less_or_equal_jump_if_true
            | H::less_or_equal_jump_if_false
            | H::greater_or_equal_jump_if_true
            | H::greater_or_equal_jump_if_false
            | H::equal_jump_if_true
            | H::equal_jump_if_false
            | H::not_equal_jump_if_true
            | H::not_equal_jump_if_false
            | H::identical_jump_if_true
            | H::identical_jump_if_false
    )
}

/// Whether the function does `kind` itself (without calling its handler
/// on the common path).
fn is_native(kind: H) -> bool {
    use H::*;
    matches!(
        kind,
        method_entry
            | method_entry_chained
            | push_self
            | push_self_chained
            | push_constant
            | push_constant_chained
            | push_temp
            | push_temp_chained
            | store_temp
            | store_temp_chained
            | pop
            | pop_chained
            | dup
            | dup_chained
            | pop_into_temp
            | pop_into_temp_chained
            | jump
            | jump_back
            | jump_if_nil
            | jump_if_not_nil
    )
}

/// The handler the function calls for `kind`: the unchained variant, so
/// that the handler answers its successor instead of running it.
fn delegate_for(kind: H) -> H {
    let base = kind.name().trim_end_matches("_chained");
    H::ALL
        .iter()
        .copied()
        .find(|h| h.name() == base)
        .unwrap_or(kind)
}

struct Translator<'ctx, 'a> {
    context: &'ctx Context,
    module: &'a Module<'ctx>,
    b: Builder<'ctx>,
    function: FunctionValue<'ctx>,
    i64: IntType<'ctx>,
    ptr: PointerType<'ctx>,
    vm: PointerValue<'ctx>,
    input: &'a UnitInput<'a>,
    /// Each entry's body (where control within the function arrives,
    /// with the state in SSA values) and landing (where the dispatch
    /// arrives: it loads the state from the VM).
    bodies: Vec<Option<Body<'ctx>>>,
    landings: Vec<Option<BasicBlock<'ctx>>>,
    dispatch: PhiValue<'ctx>,
    dispatch_block: BasicBlock<'ctx>,
    // The value stack's first slot, the frame's base, the stack's length
    // below the operands held in SSA values (`len_changed`: the VM's
    // length may differ), and those operands.
    first: PointerValue<'ctx>,
    len: IntValue<'ctx>,
    base: IntValue<'ctx>,
    len_changed: bool,
    stack: Vec<IntValue<'ctx>>,
    terminated: bool,
}

type Result<T> = std::result::Result<T, String>;

/// The start of an entry's code: phis for the frame's base, the stack's
/// length below the operands, and the operands (as many as the stack
/// depth there).
struct Body<'ctx> {
    block: BasicBlock<'ctx>,
    base: PhiValue<'ctx>,
    len: PhiValue<'ctx>,
    operands: Vec<PhiValue<'ctx>>,
}

/// How deep machine code nests calls into callees' code before it hands
/// them to the trampoline instead (each level is a few Rust frames).
const MAX_NATIVE_DEPTH: u64 = 200;

fn llvm<T, E: std::fmt::Display>(r: std::result::Result<T, E>) -> Result<T> {
    r.map_err(|e| format!("LLVM: {e}"))
}

/// Translates the unit into a function named `name` in `module`; answers
/// which of its instructions are the function's entries (in the copy,
/// they get the function as their handler).
pub(super) fn translate<'ctx>(
    context: &'ctx Context,
    module: &Module<'ctx>,
    name: &str,
    input: &UnitInput,
) -> Result<Vec<bool>> {
    let ptr = context.ptr_type(AddressSpace::default());
    let i64 = context.i64_type();
    let fn_type = ptr.fn_type(&[ptr.into(), ptr.into()], false);
    let function = module.add_function(name, fn_type, None);
    let b = context.create_builder();
    let entry = context.append_basic_block(function, "entry");
    let dispatch_block = context.append_basic_block(function, "dispatch");
    b.position_at_end(dispatch_block);
    let dispatch = llvm(b.build_phi(ptr, "ip"))?;
    let vm = function
        .get_nth_param(0)
        .expect("two parameters")
        .into_pointer_value();
    let depths = stack_depths(input.code)?;
    let entries = entries(input.code, &depths);
    let mut bodies = Vec::with_capacity(entries.len());
    let mut landings = Vec::with_capacity(entries.len());
    for (i, &entry) in entries.iter().enumerate() {
        let depth = depths[i].filter(|_| entry);
        bodies.push(match depth {
            Some(depth) => {
                let block = context.append_basic_block(function, &format!("i{i}"));
                b.position_at_end(block);
                Some(Body {
                    block,
                    base: llvm(b.build_phi(i64, "base"))?,
                    len: llvm(b.build_phi(i64, "len"))?,
                    operands: (0..depth)
                        .map(|k| llvm(b.build_phi(i64, &format!("operand{k}"))))
                        .collect::<Result<_>>()?,
                })
            }
            None => None,
        });
        landings.push(depth.map(|_| context.append_basic_block(function, &format!("land{i}"))));
    }
    let null_ptr = ptr.const_null();
    let zero = i64.const_zero();
    let mut t = Translator {
        context,
        module,
        b,
        function,
        i64,
        ptr,
        vm,
        input,
        bodies,
        landings,
        dispatch,
        dispatch_block,
        first: null_ptr,
        len: zero,
        base: zero,
        len_changed: false,
        stack: Vec::new(),
        terminated: true,
    };
    // entry: dispatch on the ip the trampoline passed.
    t.b.position_at_end(entry);
    // The value stack's block never moves: its address is loaded once.
    t.first = llvm(t.b.build_load(ptr, t.field(abi::STACK_FIRST)?, "first"))?.into_pointer_value();
    let ip = function
        .get_nth_param(1)
        .expect("two parameters")
        .into_pointer_value();
    t.dispatch.add_incoming(&[(&ip, entry)]);
    llvm(t.b.build_unconditional_branch(dispatch_block))?;
    t.build_dispatch()?;
    t.build_landings()?;
    for i in 0..input.code.len() {
        if t.bodies[i].is_some() {
            if !t.terminated {
                t.jump_to(i)?;
            }
            t.start_body(i)?;
        }
        if t.terminated {
            // Not reachable in straight line from an entry (the fused pair
            // partner, or dead code): the interpreter's handler stays.
            continue;
        }
        t.instruction(i)?;
    }
    if !t.terminated {
        return Err("a unit falls off its end".into());
    }
    Ok(entries)
}

impl<'ctx> Translator<'ctx, '_> {
    /// `dispatch`: the block of the entry `ip` names, or return `ip` to the
    /// trampoline when it is no entry of this unit.
    fn build_dispatch(&mut self) -> Result<()> {
        self.b.position_at_end(self.dispatch_block);
        let ip = self.dispatch.as_basic_value().into_pointer_value();
        let at = llvm(self.b.build_ptr_to_int(ip, self.i64, "at"))?;
        let offset = llvm(self.b.build_int_sub(
            at,
            self.i64.const_int(self.input.copy as u64, false),
            "offset",
        ))?;
        let shift = (abi::INSTR_SIZE as u64).trailing_zeros() as u64;
        let index = llvm(self.b.build_right_shift(
            offset,
            self.i64.const_int(shift, false),
            false,
            "index",
        ))?;
        let leave = self.context.append_basic_block(self.function, "leave");
        let cases: Vec<_> = self
            .landings
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.map(|b| (self.i64.const_int(i as u64, false), b)))
            .collect();
        llvm(self.b.build_switch(index, leave, &cases))?;
        self.b.position_at_end(leave);
        llvm(self.b.build_return(Some(&ip)))?;
        Ok(())
    }

    /// The address of the VM's field at `offset`.
    fn field(&self, offset: usize) -> Result<PointerValue<'ctx>> {
        let i8 = self.context.i8_type();
        // SAFETY (of the IR): the offsets are the Vm's own (`vm::abi`).
        llvm(unsafe {
            self.b
                .build_gep(i8, self.vm, &[self.i64.const_int(offset as u64, false)], "")
        })
    }

    fn slot(&self, index: IntValue<'ctx>) -> Result<PointerValue<'ctx>> {
        // SAFETY (of the IR): the index is inside the value stack's block.
        llvm(unsafe { self.b.build_gep(self.i64, self.first, &[index], "") })
    }

    fn load_slot(&self, index: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        Ok(llvm(self.b.build_load(self.i64, self.slot(index)?, ""))?.into_int_value())
    }

    fn constant(&self, value: u64) -> IntValue<'ctx> {
        self.i64.const_int(value, false)
    }

    fn add(&self, a: IntValue<'ctx>, b: u64) -> Result<IntValue<'ctx>> {
        llvm(self.b.build_int_add(a, self.constant(b), ""))
    }

    /// The stack index of frame slot `slot` (arguments, temporaries).
    fn frame_slot(&self, slot: u32) -> Result<IntValue<'ctx>> {
        self.add(self.base, 1 + slot as u64)
    }

    fn push(&mut self, value: IntValue<'ctx>) {
        self.stack.push(value);
    }

    fn pop(&mut self) -> Result<IntValue<'ctx>> {
        if let Some(v) = self.stack.pop() {
            return Ok(v);
        }
        self.len = llvm(self.b.build_int_sub(self.len, self.constant(1), "len"))?;
        self.len_changed = true;
        self.load_slot(self.len)
    }

    /// The operand `depth` below the top (0: the top), without popping.
    fn peek(&self, depth: usize) -> Result<IntValue<'ctx>> {
        let held = self.stack.len();
        if depth < held {
            return Ok(self.stack[held - 1 - depth]);
        }
        let at = llvm(self.b.build_int_sub(
            self.len,
            self.constant((depth - held + 1) as u64),
            "",
        ))?;
        self.load_slot(at)
    }

    fn top(&mut self) -> Result<IntValue<'ctx>> {
        let v = self.pop()?;
        self.push(v);
        Ok(v)
    }

    /// Writes `values` above `len` and sets the stack's length.
    fn write_stack(
        &self,
        len: IntValue<'ctx>,
        values: &[IntValue<'ctx>],
        changed: bool,
    ) -> Result<()> {
        for (j, v) in values.iter().enumerate() {
            let at = self.add(len, j as u64)?;
            llvm(self.b.build_store(self.slot(at)?, *v))?;
        }
        if changed || !values.is_empty() {
            let new_len = self.add(len, values.len() as u64)?;
            llvm(self.b.build_store(self.field(abi::STACK_LEN)?, new_len))?;
        }
        Ok(())
    }

    /// Writes the operand stack back to the value stack.
    fn flush(&mut self) -> Result<()> {
        self.write_stack(self.len, &self.stack, self.len_changed)?;
        self.len = self.add(self.len, self.stack.len() as u64)?;
        self.len_changed = false;
        self.stack.clear();
        Ok(())
    }

    /// The address of instruction `i` in the copy.
    fn ip(&self, i: usize) -> Result<PointerValue<'ctx>> {
        let at = self.constant((self.input.copy + i * abi::INSTR_SIZE) as u64);
        llvm(self.b.build_int_to_ptr(at, self.ptr, "ip"))
    }

    /// Calls the interpreter's handler of instruction `i` (the operand
    /// stack written back first) and dispatches on its answer.
    fn call_handler(&mut self, i: usize) -> Result<()> {
        let next = self.handler_call(i)?;
        let here = self.current_block();
        self.dispatch.add_incoming(&[(&next, here)]);
        llvm(self.b.build_unconditional_branch(self.dispatch_block))?;
        self.terminated = true;
        Ok(())
    }

    /// Calls the interpreter's handler of instruction `i`; answers what it
    /// answers.
    fn handler_call(&mut self, i: usize) -> Result<PointerValue<'ctx>> {
        let kind = delegate_for(plan_kind(&self.input.code[i]));
        let handler = self.function_at(function(kind) as *const () as u64)?;
        let ip = self.ip(i)?;
        let next = self.call(
            handler,
            self.handler_type(),
            &[self.vm.into(), ip.into()],
            "next",
        )?;
        Ok(next.into_pointer_value())
    }

    /// A handler's type: `fn(vm, ip) -> ip`.
    fn handler_type(&self) -> FunctionType<'ctx> {
        self.ptr.fn_type(&[self.ptr.into(), self.ptr.into()], false)
    }

    /// The function at `address` (a Rust function's).
    fn function_at(&self, address: u64) -> Result<PointerValue<'ctx>> {
        llvm(
            self.b
                .build_int_to_ptr(self.constant(address), self.ptr, "function"),
        )
    }

    /// Calls `callee`, of type `fn_type`; answers what it answers.
    fn call(
        &self,
        callee: PointerValue<'ctx>,
        fn_type: FunctionType<'ctx>,
        args: &[BasicMetadataValueEnum<'ctx>],
        name: &str,
    ) -> Result<BasicValueEnum<'ctx>> {
        let call = llvm(self.b.build_indirect_call(fn_type, callee, args, name))?;
        match call.try_as_basic_value() {
            ValueKind::Basic(v) => Ok(v),
            _ => Err(format!("{name}: the function answers nothing")),
        }
    }

    /// Whether the value stack's alarm byte is clear (see `vm::stack`):
    /// activations and loop back-edges take the slow way when it is not.
    fn alarm_is_quiet(&self) -> Result<IntValue<'ctx>> {
        let i8 = self.context.i8_type();
        let alarm = llvm(
            self.b
                .build_load(i8, self.field(abi::STACK_ALARM)?, "alarm"),
        )?
        .into_int_value();
        llvm(
            self.b
                .build_int_compare(IntPredicate::EQ, alarm, i8.const_zero(), "quiet"),
        )
    }

    fn delegate(&mut self, i: usize) -> Result<()> {
        self.flush()?;
        self.call_handler(i)
    }

    fn jump_target(&self, at: usize) -> usize {
        (at as i64 + self.input.code[at].a as i32 as i64) as usize
    }

    fn current_block(&self) -> BasicBlock<'ctx> {
        self.b
            .get_insert_block()
            .expect("the builder is positioned")
    }

    fn new_block(&self, name: &str) -> BasicBlock<'ctx> {
        self.context.append_basic_block(self.function, name)
    }

    fn instruction(&mut self, i: usize) -> Result<()> {
        let instr = &self.input.code[i];
        let kind = plan_kind(instr);
        use H::*;
        match kind {
            push_self | push_self_chained => {
                let v = self.load_slot(self.base)?;
                self.push(v);
            }
            push_constant | push_constant_chained => self.push(self.constant(instr.operand)),
            push_temp | push_temp_chained => {
                let v = self.load_slot(self.frame_slot(instr.a)?)?;
                self.push(v);
            }
            store_temp | store_temp_chained => {
                let v = self.top()?;
                llvm(self.b.build_store(self.slot(self.frame_slot(instr.a)?)?, v))?;
            }
            pop | pop_chained => {
                self.pop()?;
            }
            dup | dup_chained => {
                let v = self.top()?;
                self.push(v);
            }
            pop_into_temp | pop_into_temp_chained => {
                let v = self.pop()?;
                llvm(self.b.build_store(self.slot(self.frame_slot(instr.a)?)?, v))?;
                // The pop after it is part of the pair.
                self.jump_to(i + 2)?;
            }
            jump => self.jump_to(self.jump_target(i))?,
            jump_back => {
                // The handler signals OutOfMemory when the stack's alarm
                // says so (a loop that makes no activation).
                let quiet = self.alarm_is_quiet()?;
                self.unless_fast(i, quiet, &[])?;
                self.jump_to(self.jump_target(i))?;
            }
            jump_if_nil | jump_if_not_nil => {
                let v = self.pop()?;
                let nil = self.constant(self.input.nil.bits());
                let is_nil = llvm(self.b.build_int_compare(IntPredicate::EQ, v, nil, ""))?;
                let (target, next) = (self.jump_target(i), i + 1);
                if kind == jump_if_nil {
                    self.branch(is_nil, target, next)?;
                } else {
                    self.branch(is_nil, next, target)?;
                }
            }
            jump_if_true | jump_if_false => self.boolean_jump(i, kind == jump_if_true)?,
            send_add | send_subtract | send_multiply => self.arithmetic(i, kind)?,
            send_less
            | send_greater
            | send_less_or_equal
            | send_greater_or_equal
            | send_equal
            | send_not_equal => self.comparison(i, kind)?,
            send_bit_and | send_bit_or => self.bitwise(i, kind)?,
            send_divide => self.divide(i)?,
            send_identical => {
                let b = self.pop()?;
                let a = self.pop()?;
                let same = llvm(self.b.build_int_compare(IntPredicate::EQ, a, b, ""))?;
                let v = self.boolean(same)?;
                self.push(v);
                self.jump_to(i + 1)?;
            }
            k if is_compare_and_jump(k) => self.compare_and_jump(i, k)?,
            method_entry | method_entry_chained => self.method_entry(i)?,
            return_top => {
                let v = self.pop()?;
                self.return_value(v)?;
            }
            return_self => {
                let v = self.load_slot(self.base)?;
                self.return_value(v)?;
            }
            return_temp => {
                let v = self.load_slot(self.frame_slot(instr.a)?)?;
                self.return_value(v)?;
            }
            return_constant => self.return_value(self.constant(instr.operand))?,
            send => self.send(i)?,
            push_inst_var | push_inst_var_chained => self.push_inst_var(i)?,
            store_inst_var | store_inst_var_chained => self.store_inst_var(i, false)?,
            pop_into_inst_var | pop_into_inst_var_chained => self.store_inst_var(i, true)?,
            push_binding | push_binding_chained => self.push_binding(i)?,
            _ => self.delegate(i)?,
        }
        Ok(())
    }

    fn field_at(&self, address: PointerValue<'ctx>, offset: usize) -> Result<PointerValue<'ctx>> {
        let i8 = self.context.i8_type();
        // SAFETY (of the IR): `offset` is a field of the record at `address`.
        llvm(unsafe {
            self.b
                .build_gep(i8, address, &[self.constant(offset as u64)], "")
        })
    }

    /// The method entry: checks the selector and counts the invocation
    /// (the handler reports a wrong selector).
    fn method_entry(&mut self, i: usize) -> Result<()> {
        let selector = llvm(
            self.b
                .build_load(self.i64, self.field(abi::SENT_SELECTOR)?, "sent"),
        )?
        .into_int_value();
        let expected = self.constant(self.input.code[i].operand);
        let right = llvm(
            self.b
                .build_int_compare(IntPredicate::EQ, selector, expected, ""),
        )?;
        let counted = self.new_block("counted");
        let wrong = self.new_block("wrong_selector");
        llvm(self.b.build_conditional_branch(right, counted, wrong))?;
        self.b.position_at_end(wrong);
        self.side_exit(i, &[])?;
        self.b.position_at_end(counted);
        let info = llvm(self.b.build_int_to_ptr(
            self.constant(self.input.info as u64),
            self.ptr,
            "info",
        ))?;
        let counter = self.field_at(info, abi::METHOD_INFO_INVOCATIONS)?;
        let count = llvm(self.b.build_load(self.i64, counter, "count"))?.into_int_value();
        llvm(self.b.build_store(counter, self.add(count, 1)?))?;
        Ok(())
    }

    /// Returns `value` from the current frame, as `Vm::return_from_frame`
    /// does: pops the frame, and continues at its return address (natively
    /// when that is an entry of this unit), or answers null to Rust.
    fn return_value(&mut self, value: IntValue<'ctx>) -> Result<()> {
        // The frame's operands go with it.
        self.stack.clear();
        self.len_changed = false;
        let frames = llvm(
            self.b
                .build_load(self.ptr, self.field(abi::FRAMES_FIRST)?, "frames"),
        )?
        .into_pointer_value();
        let count = llvm(
            self.b
                .build_load(self.i64, self.field(abi::FRAMES_LEN)?, "frames_len"),
        )?
        .into_int_value();
        let last = self.add(count, u64::MAX)?;
        let offset = llvm(
            self.b
                .build_int_mul(last, self.constant(abi::FRAME_SIZE as u64), ""),
        )?;
        let i8 = self.context.i8_type();
        // SAFETY (of the IR): the current frame, inside the frame block.
        let frame = llvm(unsafe { self.b.build_gep(i8, frames, &[offset], "frame") })?;
        let load = |offset: usize, name: &str| -> Result<IntValue<'ctx>> {
            Ok(llvm(
                self.b
                    .build_load(self.i64, self.field_at(frame, offset)?, name),
            )?
            .into_int_value())
        };
        let frame_base = load(abi::FRAME_BASE, "frame_base")?;
        let caller_base = load(abi::FRAME_CALLER_BASE, "caller_base")?;
        let return_ip = llvm(self.b.build_load(
            self.ptr,
            self.field_at(frame, abi::FRAME_RETURN_IP)?,
            "return_ip",
        ))?
        .into_pointer_value();
        llvm(self.b.build_store(self.field(abi::FRAMES_LEN)?, last))?;
        llvm(self.b.build_store(self.field(abi::BASE)?, caller_base))?;
        let to_rust = self.new_block("to_rust");
        let to_caller = self.new_block("to_caller");
        let is_null = llvm(self.b.build_is_null(return_ip, ""))?;
        llvm(self.b.build_conditional_branch(is_null, to_rust, to_caller))?;
        self.b.position_at_end(to_rust);
        llvm(self.b.build_store(self.field(abi::RESULT)?, value))?;
        llvm(self.b.build_store(self.field(abi::STACK_LEN)?, frame_base))?;
        llvm(self.b.build_return(Some(&self.ptr.const_null())))?;
        self.b.position_at_end(to_caller);
        llvm(self.b.build_store(self.slot(frame_base)?, value))?;
        llvm(
            self.b
                .build_store(self.field(abi::STACK_LEN)?, self.add(frame_base, 1)?),
        )?;
        self.dispatch.add_incoming(&[(&return_ip, to_caller)]);
        llvm(self.b.build_unconditional_branch(self.dispatch_block))?;
        self.terminated = true;
        Ok(())
    }

    /// Whether `object` is a pointer with more than `index` slots (a slot
    /// count of 255 means more, counted in the word before the header).
    fn has_slot(&self, object: IntValue<'ctx>, index: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        self.slot_check(object, index, false)
    }

    /// Whether `object` has slot `index` (see [`Self::has_slot`]) and may
    /// be written (it is not read-only: static objects are read-only).
    fn has_writable_slot(
        &self,
        object: IntValue<'ctx>,
        index: IntValue<'ctx>,
    ) -> Result<IntValue<'ctx>> {
        self.slot_check(object, index, true)
    }

    fn slot_check(
        &self,
        object: IntValue<'ctx>,
        index: IntValue<'ctx>,
        writable: bool,
    ) -> Result<IntValue<'ctx>> {
        let pointer = self.is_pointer(object)?;
        let has = self.new_block("has_slot");
        let no = self.new_block("no_slot");
        let join = self.new_block("slot_known");
        llvm(self.b.build_conditional_branch(pointer, has, no))?;
        self.b.position_at_end(has);
        let header = self.load_field(object, u64::MAX)?;
        let count = llvm(
            self.b
                .build_right_shift(header, self.constant(56), false, ""),
        )?;
        let mut enough = llvm(
            self.b
                .build_int_compare(IntPredicate::UGT, count, index, ""),
        )?;
        if writable {
            let mutable = self.is_mutable(header)?;
            enough = llvm(self.b.build_and(enough, mutable, ""))?;
        }
        llvm(self.b.build_unconditional_branch(join))?;
        self.b.position_at_end(no);
        llvm(self.b.build_unconditional_branch(join))?;
        self.b.position_at_end(join);
        let phi = llvm(self.b.build_phi(self.context.bool_type(), "has"))?;
        phi.add_incoming(&[(&enough, has), (&self.context.bool_type().const_zero(), no)]);
        Ok(phi.as_basic_value().into_int_value())
    }

    /// Whether an object with `header` may be written (static objects and
    /// literals are read-only).
    fn is_mutable(&self, header: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let bit = self.constant(crate::object::Header::IMMUTABLE_BIT);
        let immutable = llvm(self.b.build_and(header, bit, ""))?;
        llvm(
            self.b
                .build_int_compare(IntPredicate::EQ, immutable, self.constant(0), ""),
        )
    }

    fn is_pointer(&self, v: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let tag = llvm(self.b.build_and(v, self.constant(0b111), ""))?;
        llvm(
            self.b
                .build_int_compare(IntPredicate::EQ, tag, self.constant(0), ""),
        )
    }

    /// Word `index` after the header of `object` (`u64::MAX`: the header).
    fn load_field(&self, object: IntValue<'ctx>, index: u64) -> Result<IntValue<'ctx>> {
        let address = self.add(object, index.wrapping_add(1).wrapping_mul(8))?;
        let p = llvm(self.b.build_int_to_ptr(address, self.ptr, ""))?;
        Ok(llvm(self.b.build_load(self.i64, p, ""))?.into_int_value())
    }

    fn address(&self, at: IntValue<'ctx>) -> Result<PointerValue<'ctx>> {
        llvm(self.b.build_int_to_ptr(at, self.ptr, ""))
    }

    fn load_as(
        &self,
        width: IntType<'ctx>,
        at: IntValue<'ctx>,
        offset: usize,
    ) -> Result<IntValue<'ctx>> {
        let p = self.address(self.add(at, offset as u64)?)?;
        let v = llvm(self.b.build_load(width, p, ""))?.into_int_value();
        if width == self.i64 {
            return Ok(v);
        }
        llvm(self.b.build_int_z_extend(v, self.i64, ""))
    }

    /// The Boolean object for an `i1`.
    fn boolean(&self, condition: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let t = self.constant(self.input.true_object.bits());
        let f = self.constant(self.input.false_object.bits());
        Ok(llvm(self.b.build_select(condition, t, f, ""))?.into_int_value())
    }

    /// `jump_if_true`/`jump_if_false`: true and false branch natively; any
    /// other value goes to the handler, which reports it.
    fn boolean_jump(&mut self, i: usize, when: bool) -> Result<()> {
        let v = self.pop()?;
        let t = self.constant(self.input.true_object.bits());
        let f = self.constant(self.input.false_object.bits());
        let is_true = llvm(self.b.build_int_compare(IntPredicate::EQ, v, t, ""))?;
        let is_false = llvm(self.b.build_int_compare(IntPredicate::EQ, v, f, ""))?;
        let (on_true, on_false) = if when {
            (self.jump_target(i), i + 1)
        } else {
            (i + 1, self.jump_target(i))
        };
        let true_block = self.new_block("true");
        let not_true = self.new_block("not_true");
        let false_block = self.new_block("false");
        let neither = self.new_block("not_boolean");
        llvm(
            self.b
                .build_conditional_branch(is_true, true_block, not_true),
        )?;
        self.b.position_at_end(not_true);
        llvm(
            self.b
                .build_conditional_branch(is_false, false_block, neither),
        )?;
        for (block, target) in [(true_block, on_true), (false_block, on_false)] {
            self.b.position_at_end(block);
            self.with_state(self.len, self.stack.clone(), |t| t.jump_to(target))?;
        }
        self.b.position_at_end(neither);
        self.side_exit(i, &[v])?;
        self.terminated = true;
        Ok(())
    }

    /// Branches to `slow` (the handler, with the operands back on the
    /// stack) unless `fast`; continues in a new block on the fast path.
    fn unless_fast(
        &mut self,
        i: usize,
        fast: IntValue<'ctx>,
        operands: &[IntValue<'ctx>],
    ) -> Result<()> {
        let fast_block = self.new_block("fast");
        let slow_block = self.new_block("slow");
        llvm(
            self.b
                .build_conditional_branch(fast, fast_block, slow_block),
        )?;
        self.b.position_at_end(slow_block);
        self.side_exit(i, operands)?;
        self.b.position_at_end(fast_block);
        Ok(())
    }

    /// In the current (side) block: writes the operand stack back with
    /// `operands` above it and runs instruction `i`'s handler, leaving the
    /// translator's state as it was for the main path, which goes on with
    /// the operand stack in SSA values.
    fn side_exit(&mut self, i: usize, operands: &[IntValue<'ctx>]) -> Result<()> {
        let mut values = self.stack.clone();
        values.extend_from_slice(operands);
        let changed = self.len_changed || !operands.is_empty();
        self.write_stack(self.len, &values, changed)?;
        self.call_handler(i)?;
        self.terminated = false;
        Ok(())
    }
}
