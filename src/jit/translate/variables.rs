//! Instance variables and bindings in machine code: loads, and stores
//! with the interpreter's checks (the receiver has the slot and is not
//! read-only; otherwise its handler runs, which reports the error or sends
//! `attemptToAssign:withIndex:`) and the generational write barrier.

use inkwell::values::IntValue;
use inkwell::IntPredicate;

use super::{llvm, Result, Translator};

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
        let offset = llvm(
            self.b
                .build_int_mul(self.add(index, 1)?, self.constant(8), ""),
        )?;
        let at = llvm(self.b.build_int_add(object, offset, ""))?;
        llvm(self.b.build_store(self.address(at)?, value))?;
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
}
