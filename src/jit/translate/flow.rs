//! Control flow between a unit's entries, with the state in registers.
//!
//! Each entry has a *body*, which starts with phis for the frame's base,
//! the stack's length below the operands and the operands themselves (as
//! many as the stack depth there), and a *landing*, where the dispatch
//! arrives: it loads that state from the VM. Control within the function
//! goes straight to a body with the state in SSA values, so operands stay
//! in registers across branches and loops; they reach the value stack only
//! before something that may look at it (a call, a return to the
//! trampoline).

use inkwell::basic_block::BasicBlock;
use inkwell::values::IntValue;

use super::{abi, llvm, Result, Translator};

impl<'ctx> Translator<'ctx, '_> {
    /// Builds every entry's landing: the state loaded from the VM, then
    /// the body.
    pub(super) fn build_landings(&mut self) -> Result<()> {
        for i in 0..self.landings.len() {
            let Some(landing) = self.landings[i] else {
                continue;
            };
            self.b.position_at_end(landing);
            let depth = self.body(i)?.operands.len();
            let len = llvm(
                self.b
                    .build_load(self.i64, self.field(abi::STACK_LEN)?, "len"),
            )?
            .into_int_value();
            self.base =
                llvm(self.b.build_load(self.i64, self.field(abi::BASE)?, "base"))?.into_int_value();
            self.len = len;
            self.stack.clear();
            self.terminated = false;
            self.normalize(depth)?;
            self.jump_to(i)?;
        }
        Ok(())
    }

    /// Where the dispatch enters instruction `i`.
    pub(super) fn landing(&self, i: usize) -> Result<BasicBlock<'ctx>> {
        self.landings
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| format!("instruction {i} is not an entry"))
    }

    fn body(&self, i: usize) -> Result<&super::Body<'ctx>> {
        self.bodies
            .get(i)
            .and_then(Option::as_ref)
            .ok_or_else(|| format!("instruction {i} is not an entry"))
    }

    /// Positions the builder at entry `i`'s body and takes its state.
    pub(super) fn start_body(&mut self, i: usize) -> Result<()> {
        let body = self.body(i)?;
        let block = body.block;
        let base = body.base.as_basic_value().into_int_value();
        let len = body.len.as_basic_value().into_int_value();
        let operands: Vec<_> = body
            .operands
            .iter()
            .map(|phi| phi.as_basic_value().into_int_value())
            .collect();
        self.b.position_at_end(block);
        self.base = base;
        self.len = len;
        self.stack = operands;
        // The VM's length is the body's only when it came from a landing.
        self.len_changed = true;
        self.terminated = false;
        Ok(())
    }

    /// Makes the top `depth` operands SSA values (loading those that are
    /// only on the value stack), as an entry's body expects them.
    fn normalize(&mut self, depth: usize) -> Result<()> {
        let held = self.stack.len();
        if held > depth {
            return Err(format!(
                "{held} operands in registers where the stack holds {depth}"
            ));
        }
        let missing = depth - held;
        if missing == 0 {
            return Ok(());
        }
        let low = llvm(
            self.b
                .build_int_sub(self.len, self.constant(missing as u64), "len"),
        )?;
        let mut operands = Vec::with_capacity(depth);
        for k in 0..missing {
            operands.push(self.load_slot(self.add(low, k as u64)?)?);
        }
        operands.append(&mut self.stack);
        self.stack = operands;
        self.len = low;
        self.len_changed = true;
        Ok(())
    }

    /// Adds the current state, from the current block, to entry `i`'s
    /// phis.
    fn pass_state(&mut self, i: usize) -> Result<BasicBlock<'ctx>> {
        let depth = self.body(i)?.operands.len();
        self.normalize(depth)?;
        let from = self.current_block();
        let body = self.body(i)?;
        body.base.add_incoming(&[(&self.base, from)]);
        body.len.add_incoming(&[(&self.len, from)]);
        for (phi, v) in body.operands.iter().zip(&self.stack) {
            phi.add_incoming(&[(v, from)]);
        }
        Ok(body.block)
    }

    /// Goes on at entry `i`, keeping the state in registers.
    pub(super) fn jump_to(&mut self, i: usize) -> Result<()> {
        let block = self.pass_state(i)?;
        llvm(self.b.build_unconditional_branch(block))?;
        self.terminated = true;
        Ok(())
    }

    /// A branch on `condition` to the entries `then` and `otherwise`,
    /// which expect the same stack depth.
    pub(super) fn branch(
        &mut self,
        condition: IntValue<'ctx>,
        then: usize,
        otherwise: usize,
    ) -> Result<()> {
        if then == otherwise {
            return self.jump_to(then);
        }
        if self.body(then)?.operands.len() != self.body(otherwise)?.operands.len() {
            return Err(format!(
                "the branches to {then} and {otherwise} expect different stack depths"
            ));
        }
        let then_block = self.pass_state(then)?;
        let otherwise_block = self.pass_state(otherwise)?;
        llvm(
            self.b
                .build_conditional_branch(condition, then_block, otherwise_block),
        )?;
        self.terminated = true;
        Ok(())
    }

    /// Runs `f` with the state set to `len` and `operands` above it, then
    /// restores the state as it was (for a side path that ends in a jump).
    pub(super) fn with_state(
        &mut self,
        len: IntValue<'ctx>,
        operands: Vec<IntValue<'ctx>>,
        f: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        let saved = (
            self.len,
            std::mem::replace(&mut self.stack, operands),
            self.len_changed,
            self.terminated,
        );
        self.len = len;
        self.len_changed = true;
        let result = f(self);
        (self.len, self.stack, self.len_changed, self.terminated) = saved;
        result
    }
}
