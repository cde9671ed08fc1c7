//! Instance variables and bindings in machine code: loads, and stores
//! with the interpreter's checks (the receiver has the slot and is not
//! read-only; otherwise its handler runs, which reports the error or sends
//! `attemptToAssign:withIndex:`) and the generational write barrier.

use inkwell::basic_block::BasicBlock;
use inkwell::values::IntValue;
use inkwell::IntPredicate;

use super::{llvm, Result, Translator};
use crate::object::{Format, Header};

/// The format of objects with indexable pointer slots only (Array).
const INDEXABLE_FORMAT: u64 = Format::Indexable.code();

/// The value slot of an Association (a binding).
const BINDING_VALUE: u64 = 1;

impl<'ctx> Translator<'ctx, '_> {
    /// `push_inst_var`: the receiver's slot `a`.
    pub(super) fn push_inst_var(&mut self, i: usize) -> Result<()> {
        let index = self.input.code[i].a as u64;
        let receiver = self.load_slot(self.base)?;
        let fast = self.has_slot(receiver, self.constant(index))?;
        self.unless_fast(i, fast, &[])?;
        let v = self.load_field(receiver, index)?;
        self.push(v);
        Ok(())
    }

    /// `store_inst_var` (the value stays on the stack) or
    /// `pop_into_inst_var` (it is popped, and the pop after it is part of
    /// the pair).
    pub(super) fn store_inst_var(&mut self, i: usize, pops: bool) -> Result<()> {
        let index = self.input.code[i].a as u64;
        let receiver = self.load_slot(self.base)?;
        let value = if pops { self.pop()? } else { self.top()? };
        let fast = self.has_writable_slot(receiver, self.constant(index))?;
        let operands: &[IntValue<'ctx>] = if pops { &[value] } else { &[] };
        self.unless_fast(i, fast, operands)?;
        self.store_field(receiver, self.constant(index), value)?;
        if pops {
            self.jump_to(i + 2)?;
        }
        Ok(())
    }

    /// `push_binding`: the value of a global, class or pool variable (its
    /// Association never moves: it is in old space).
    pub(super) fn push_binding(&mut self, i: usize) -> Result<()> {
        let number = self.input.code[i].a as usize;
        let binding = self
            .input
            .bindings
            .get(number)
            .copied()
            .filter(|&b| crate::memory::slot_count(b) > BINDING_VALUE as usize);
        let Some(binding) = binding else {
            return self.delegate(i);
        };
        let v = self.load_field(self.constant(binding.bits()), BINDING_VALUE)?;
        self.push(v);
        Ok(())
    }

    /// Stores `value` into slot `index` of `object` (checked to have it),
    /// then remembers `object` when it is old and `value` young.
    pub(super) fn store_field(
        &mut self,
        object: IntValue<'ctx>,
        index: IntValue<'ctx>,
        value: IntValue<'ctx>,
    ) -> Result<()> {
        let at = self.slot_address(object, index)?;
        llvm(self.b.build_store(self.address(at)?, value))?;
        self.remember_if_needed(object, value)
    }

    /// The write barrier after storing `value` into `object`: remembers
    /// `object` when it is old and `value` young.
    pub(super) fn remember_if_needed(
        &mut self,
        object: IntValue<'ctx>,
        value: IntValue<'ctx>,
    ) -> Result<()> {
        let value_young = self.is_young(value)?;
        let object_young = self.is_young(object)?;
        let object_old = llvm(self.b.build_not(object_young, ""))?;
        let remember = llvm(self.b.build_and(value_young, object_old, ""))?;
        let barrier = self.new_block("write_barrier");
        let done = self.new_block("stored");
        llvm(self.b.build_conditional_branch(remember, barrier, done))?;
        self.b.position_at_end(barrier);
        let helper = self.function_at(crate::jit::remember as *const () as u64)?;
        let fn_type = self
            .context
            .void_type()
            .fn_type(&[self.ptr.into(), self.i64.into(), self.i64.into()], false);
        llvm(self.b.build_indirect_call(
            fn_type,
            helper,
            &[self.vm.into(), object.into(), value.into()],
            "",
        ))?;
        llvm(self.b.build_unconditional_branch(done))?;
        self.b.position_at_end(done);
        Ok(())
    }

    /// Whether `v` is an object in the nursery.
    fn is_young(&self, v: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let nursery = &self.input.nursery;
        let offset = llvm(self.b.build_int_sub(v, self.constant(nursery.start), ""))?;
        let inside = llvm(self.b.build_int_compare(
            IntPredicate::ULT,
            offset,
            self.constant(nursery.end - nursery.start),
            "",
        ))?;
        let pointer = self.is_pointer(v)?;
        llvm(self.b.build_and(inside, pointer, ""))
    }

    /// The number of slots of `object`, a pointer (a count of 255 in the
    /// header means the count is in the word before it).
    fn slot_count(&self, object: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let header = self.load_field(object, u64::MAX)?;
        let field = llvm(
            self.b
                .build_right_shift(header, self.constant(56), false, ""),
        )?;
        let overflow = llvm(self.b.build_int_compare(
            IntPredicate::EQ,
            field,
            self.constant(Header::OVERFLOW_SLOTS),
            "",
        ))?;
        let before = llvm(self.b.build_int_sub(object, self.constant(8), ""))?;
        // (Loaded only when the header says so.)
        let large = self.new_block("large");
        let join = self.new_block("counted");
        let from = self.current_block();
        llvm(self.b.build_conditional_branch(overflow, large, join))?;
        self.b.position_at_end(large);
        let word = self.load_word(before)?;
        let count = llvm(
            self.b
                .build_and(word, self.constant(!crate::object::OVERFLOW_MARK), ""),
        )?;
        llvm(self.b.build_unconditional_branch(join))?;
        self.b.position_at_end(join);
        let phi = llvm(self.b.build_phi(self.i64, "slots"))?;
        phi.add_incoming(&[(&field, from), (&count, large)]);
        Ok(phi.as_basic_value().into_int_value())
    }

    /// The number of elements of `array` (an object of class Array, as the
    /// caller checked), when it has Array's format (indexable slots only);
    /// otherwise to `otherwise`.
    pub(super) fn array_size(
        &mut self,
        array: IntValue<'ctx>,
        otherwise: BasicBlock<'ctx>,
    ) -> Result<IntValue<'ctx>> {
        let header = self.load_field(array, u64::MAX)?;
        let shift = self.constant(Header::FORMAT_SHIFT as u64);
        let format = llvm(self.b.build_right_shift(header, shift, false, ""))?;
        let format = llvm(
            self.b
                .build_and(format, self.constant(Header::FORMAT_MASK), ""),
        )?;
        let indexable = llvm(self.b.build_int_compare(
            IntPredicate::EQ,
            format,
            self.constant(INDEXABLE_FORMAT),
            "",
        ))?;
        let array_block = self.new_block("array");
        llvm(
            self.b
                .build_conditional_branch(indexable, array_block, otherwise),
        )?;
        self.b.position_at_end(array_block);
        self.slot_count(array)
    }

    /// The address of element `index` (an Oop) of `array` (of class
    /// Array), when it is a SmallInteger within bounds (and, `for_store`,
    /// the array is not read-only); otherwise to `otherwise`.
    pub(super) fn array_index(
        &mut self,
        array: IntValue<'ctx>,
        index: IntValue<'ctx>,
        for_store: bool,
        otherwise: BasicBlock<'ctx>,
    ) -> Result<IntValue<'ctx>> {
        let is_int = self.is_small_integer(index)?;
        let int_block = self.new_block("index");
        llvm(
            self.b
                .build_conditional_branch(is_int, int_block, otherwise),
        )?;
        self.b.position_at_end(int_block);
        if for_store {
            let header = self.load_field(array, u64::MAX)?;
            let mutable = self.is_mutable(header)?;
            let writable = self.new_block("writable");
            llvm(
                self.b
                    .build_conditional_branch(mutable, writable, otherwise),
            )?;
            self.b.position_at_end(writable);
        }
        let count = self.array_size(array, otherwise)?;
        let i = llvm(self.b.build_right_shift(index, self.constant(3), true, "i"))?;
        let offset = llvm(self.b.build_int_sub(i, self.constant(1), ""))?;
        let inside = llvm(
            self.b
                .build_int_compare(IntPredicate::ULT, offset, count, ""),
        )?;
        let element = self.new_block("element");
        llvm(self.b.build_conditional_branch(inside, element, otherwise))?;
        self.b.position_at_end(element);
        // Element i (1-based) is the word i after the header.
        let bytes = llvm(self.b.build_left_shift(i, self.constant(3), ""))?;
        llvm(self.b.build_int_add(array, bytes, "element"))
    }

    /// The address of slot `index` of `object` (the word `index + 1`
    /// after its header).
    pub(super) fn slot_address(
        &self,
        object: IntValue<'ctx>,
        index: IntValue<'ctx>,
    ) -> Result<IntValue<'ctx>> {
        let offset = llvm(
            self.b
                .build_int_mul(self.add(index, 1)?, self.constant(8), ""),
        )?;
        llvm(self.b.build_int_add(object, offset, ""))
    }

    /// A SmallInteger for `value` (which fits).
    pub(super) fn small_integer(&self, value: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let shifted = llvm(self.b.build_left_shift(value, self.constant(3), ""))?;
        llvm(self.b.build_or(shifted, self.constant(1), ""))
    }

    /// The word at address `at`.
    pub(super) fn load_word(&self, at: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        Ok(llvm(self.b.build_load(self.i64, self.address(at)?, ""))?.into_int_value())
    }
}
