//! Sends in machine code.
//!
//! Where the site's cache held a method when the unit was compiled (see
//! `jit::speculation`), the send first checks that guess (the receiver's
//! class, and no lookup invalidated since). When it holds, a quick method
//! or an Array's indexing answers from the operands in registers, a plain
//! method gets its frame (of known size) pushed inline, as
//! `Vm::push_frame` does, and a block's `value` goes through one helper.
//!
//! Otherwise the site's inline cache is checked inline: a hit invokes the
//! cached method through `jit::invoke_cached` (the interpreter's `invoke`
//! without the lookup), a miss is the send handler's (lookup,
//! doesNotUnderstand:).
//!
//! Whatever the send answers (a callee's first instruction, or the return
//! address when it answered at once) is entered by calling its handler:
//! the callee's machine code when it is compiled, the interpreter's chained
//! handlers when it is not. The function goes on natively when the call
//! answers the send's return address, and through its dispatch otherwise.

use inkwell::values::{IntValue, PointerValue};
use inkwell::IntPredicate;

use super::{llvm, Result, Translator, MAX_NATIVE_DEPTH};
use crate::jit::speculation::{Shape, Speculation};
use crate::object::classes;
use crate::vm::abi;
use crate::vm::interpreter::{MAX_FRAMES, MAX_STACK_SLOTS};

impl<'ctx> Translator<'ctx, '_> {
    /// The class index of `v`: from its tag, or from its header.
    fn class_of(&self, v: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let pointer = self.is_pointer(v)?;
        let object = self.new_block("object");
        let immediate = self.new_block("immediate");
        let join = self.new_block("class_known");
        llvm(self.b.build_conditional_branch(pointer, object, immediate))?;
        self.b.position_at_end(object);
        let header = self.load_field(v, u64::MAX)?;
        let index = llvm(self.b.build_and(header, self.constant((1 << 22) - 1), ""))?;
        llvm(self.b.build_unconditional_branch(join))?;
        self.b.position_at_end(immediate);
        let tag = llvm(self.b.build_and(v, self.constant(0b111), ""))?;
        let is_int =
            llvm(
                self.b
                    .build_int_compare(IntPredicate::EQ, tag, self.constant(0b001), ""),
            )?;
        let is_char =
            llvm(
                self.b
                    .build_int_compare(IntPredicate::EQ, tag, self.constant(0b010), ""),
            )?;
        let c = |k: u32| self.constant(k as u64);
        let other =
            llvm(
                self.b
                    .build_select(is_char, c(classes::CHARACTER), c(classes::SMALL_FLOAT), ""),
            )?
            .into_int_value();
        let tagged = llvm(
            self.b
                .build_select(is_int, c(classes::SMALL_INTEGER), other, ""),
        )?
        .into_int_value();
        llvm(self.b.build_unconditional_branch(join))?;
        self.b.position_at_end(join);
        let phi = llvm(self.b.build_phi(self.i64, "class"))?;
        phi.add_incoming(&[(&index, object), (&tagged, immediate)]);
        Ok(phi.as_basic_value().into_int_value())
    }

    /// A send (see the module's comment).
    pub(super) fn send(&mut self, i: usize) -> Result<()> {
        let args = self.input.code[i].a as usize;
        let receiver = self.peek(args)?;
        let speculation = self.input.speculations.get(i).copied().flatten();
        let go_on = self.new_block("go_on");
        let mut answers = Vec::new();
        let Some(s) = speculation else {
            self.flush()?;
            let class = self.class_of(receiver)?;
            return self.generic_send(i, class, go_on, answers);
        };
        // A quick answer comes from the operands in registers: nothing is
        // written to the stack unless the guess fails.
        let quick = s.shape.is_quick();
        if !quick {
            self.flush()?;
        }
        let class = self.class_of(receiver)?;
        let speculated = self.new_block("speculated");
        let generic = self.new_block("generic");
        let holds = self.speculation_holds(&s, class)?;
        llvm(self.b.build_conditional_branch(holds, speculated, generic))?;
        self.b.position_at_end(speculated);
        if quick {
            self.answer_speculated(i, &s, receiver, generic)?;
        } else {
            let method = self.constant(s.method as u64);
            let entry = if s.shape == Shape::BlockValue {
                self.call_invoker(i, crate::jit::value_block as *const () as u64, method)?
            } else {
                self.activate_inline(i, &s, generic)?
            };
            answers.push((entry, self.current_block()));
            llvm(self.b.build_unconditional_branch(go_on))?;
        }
        self.b.position_at_end(generic);
        if quick {
            self.flush()?;
        }
        self.generic_send(i, class, go_on, answers)
    }

    /// Calls `helper`, a function invoking `method` for send `i` as
    /// `jit::invoke_cached` does (same arguments); answers where to go on.
    fn call_invoker(
        &self,
        i: usize,
        helper: u64,
        method: IntValue<'ctx>,
    ) -> Result<PointerValue<'ctx>> {
        let instr = self.input.code[i];
        let helper = self.function_at(helper)?;
        let fn_type = self.ptr.fn_type(
            &[
                self.ptr.into(),
                self.i64.into(),
                self.i64.into(),
                self.ptr.into(),
                self.i64.into(),
            ],
            false,
        );
        let call_args = [
            self.vm.into(),
            method.into(),
            self.constant(instr.a as u64).into(),
            self.ip(i + 1)?.into(),
            self.constant(instr.operand).into(),
        ];
        Ok(self
            .call(helper, fn_type, &call_args, "next")?
            .into_pointer_value())
    }

    /// The stack index of the receiver of a send with `args` arguments,
    /// the operand stack written back.
    fn receiver_at(&self, args: usize) -> Result<IntValue<'ctx>> {
        llvm(
            self.b
                .build_int_sub(self.len, self.constant(args as u64 + 1), "receiver_at"),
        )
    }

    /// The address of `method`'s info.
    fn info_address(&self, method: crate::vm::method::MethodRef) -> u64 {
        (self.input.infos + method as usize * abi::METHOD_INFO_SIZE) as u64
    }

    /// A send through the site's inline cache (see the module's comment),
    /// the operand stack written back. `go_on` is where every way of
    /// invoking goes with where to go on, also those in `answers` already.
    fn generic_send(
        &mut self,
        i: usize,
        class: IntValue<'ctx>,
        go_on: inkwell::basic_block::BasicBlock<'ctx>,
        mut answers: Vec<(PointerValue<'ctx>, inkwell::basic_block::BasicBlock<'ctx>)>,
    ) -> Result<()> {
        let instr = self.input.code[i];
        let entry =
            self.constant((self.input.caches + instr.site as usize * abi::CACHE_ENTRY_SIZE) as u64);
        let i32 = self.context.i32_type();
        let cached = self.load_as(i32, entry, abi::CACHE_ENTRY_CLASS)?;
        let hit = llvm(
            self.b
                .build_int_compare(IntPredicate::EQ, cached, class, "hit"),
        )?;
        let miss = self.new_block("send_miss");
        let on_hit = self.new_block("cache_hit");
        llvm(self.b.build_conditional_branch(hit, on_hit, miss))?;

        self.b.position_at_end(miss);
        let next = self.handler_call(i)?;
        answers.push((next, self.current_block()));
        llvm(self.b.build_unconditional_branch(go_on))?;

        self.b.position_at_end(on_hit);
        let method = self.load_as(i32, entry, abi::CACHE_ENTRY_METHOD)?;
        let next = self.call_invoker(i, crate::jit::invoke_cached as *const () as u64, method)?;
        answers.push((next, self.current_block()));
        llvm(self.b.build_unconditional_branch(go_on))?;

        self.b.position_at_end(go_on);
        let phi = llvm(self.b.build_phi(self.ptr, "callee"))?;
        for (value, block) in &answers {
            phi.add_incoming(&[(value, *block)]);
        }
        self.enter(phi.as_basic_value().into_pointer_value(), Some(i + 1))
    }

    /// The guessed plain method `s`'s activation, as `Vm::push_frame` does
    /// it for a method (the receiver and arguments are on the stack, the
    /// operand stack written back): unless the frame would not fit (then
    /// `otherwise`, where the interpreter reports the overflow), its
    /// temporaries are set to nil and its frame record is pushed. Answers
    /// the callee's first instruction.
    fn activate_inline(
        &mut self,
        i: usize,
        s: &Speculation,
        otherwise: inkwell::basic_block::BasicBlock<'ctx>,
    ) -> Result<PointerValue<'ctx>> {
        let Shape::Plain {
            num_temps,
            max_stack,
        } = s.shape
        else {
            return Err("only a plain method gets a frame".into());
        };
        let i16 = self.context.i16_type();
        let i8 = self.context.i8_type();
        let len = self.len;
        let receiver_at = self.receiver_at(self.input.code[i].a as usize)?;
        let method = self.constant(s.method as u64);
        let info = self.constant(self.info_address(s.method));
        let (num_temps, max_stack) = (
            self.constant(num_temps as u64),
            self.constant(max_stack as u64),
        );
        let need = llvm(self.b.build_int_add(len, num_temps, ""))?;
        let need = llvm(self.b.build_int_add(need, max_stack, ""))?;
        let need = self.add(need, 8)?;
        let fits = llvm(self.b.build_int_compare(
            IntPredicate::ULE,
            need,
            self.constant(MAX_STACK_SLOTS as u64),
            "",
        ))?;
        let clear = self.alarm_is_quiet()?;
        let frames_len = llvm(self.b.build_load(
            self.i64,
            self.field(abi::FRAMES_LEN)?,
            "frames_len",
        ))?
        .into_int_value();
        let room = llvm(self.b.build_int_compare(
            IntPredicate::ULT,
            frames_len,
            self.constant(MAX_FRAMES as u64),
            "",
        ))?;
        let ok = llvm(self.b.build_and(fits, clear, ""))?;
        let ok = llvm(self.b.build_and(ok, room, ""))?;
        let push = self.new_block("push_frame");
        llvm(self.b.build_conditional_branch(ok, push, otherwise))?;

        self.b.position_at_end(push);
        self.nil_temporaries(len, num_temps)?;

        let last = self.field(abi::LAST_ACTIVATION)?;
        let id = llvm(self.b.build_load(self.i64, last, "last_activation"))?.into_int_value();
        let id = self.add(id, 1)?;
        llvm(self.b.build_store(last, id))?;
        let frames = llvm(
            self.b
                .build_load(self.ptr, self.field(abi::FRAMES_FIRST)?, "frames"),
        )?
        .into_pointer_value();
        let offset = llvm(self.b.build_int_mul(
            frames_len,
            self.constant(abi::FRAME_SIZE as u64),
            "",
        ))?;
        // SAFETY (of the IR): the next frame record, inside the frame block
        // (the count was checked against its capacity above).
        let frame = llvm(unsafe { self.b.build_gep(i8, frames, &[offset], "frame") })?;
        let i32 = self.context.i32_type();
        let method32 = llvm(self.b.build_int_truncate(method, i32, ""))?;
        llvm(
            self.b
                .build_store(self.field_at(frame, abi::FRAME_METHOD)?, method32),
        )?;
        llvm(
            self.b
                .build_store(self.field_at(frame, abi::FRAME_UNIT)?, i16.const_zero()),
        )?;
        llvm(
            self.b
                .build_store(self.field_at(frame, abi::FRAME_BASE)?, receiver_at),
        )?;
        llvm(
            self.b
                .build_store(self.field_at(frame, abi::FRAME_RETURN_IP)?, self.ip(i + 1)?),
        )?;
        llvm(self.b.build_store(self.field_at(frame, abi::FRAME_ID)?, id))?;
        llvm(
            self.b
                .build_store(self.field_at(frame, abi::FRAME_HOME)?, id),
        )?;
        llvm(
            self.b
                .build_store(self.field_at(frame, abi::FRAME_HOME_INDEX)?, frames_len),
        )?;
        llvm(
            self.b
                .build_store(self.field_at(frame, abi::FRAME_CALLER_BASE)?, self.base),
        )?;
        llvm(
            self.b
                .build_store(self.field(abi::FRAMES_LEN)?, self.add(frames_len, 1)?),
        )?;
        llvm(self.b.build_store(self.field(abi::BASE)?, receiver_at))?;
        let new_len = llvm(self.b.build_int_add(len, num_temps, ""))?;
        llvm(self.b.build_store(self.field(abi::STACK_LEN)?, new_len))?;
        let selector = self.constant(self.input.code[i].operand);
        llvm(
            self.b
                .build_store(self.field(abi::SENT_SELECTOR)?, selector),
        )?;
        let address = self.add(info, abi::METHOD_INFO_ENTRY as u64)?;
        let entry = llvm(
            self.b
                .build_load(self.ptr, self.address(address)?, "callee_entry"),
        )?
        .into_pointer_value();
        Ok(entry)
    }

    /// Whether the guess `s` holds for a receiver of class `class`: the
    /// class is the one the cache held, and no lookup was invalidated
    /// since (a method defined or redefined, a class changed).
    fn speculation_holds(&self, s: &Speculation, class: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let same_class = llvm(self.b.build_int_compare(
            IntPredicate::EQ,
            class,
            self.constant(s.class as u64),
            "",
        ))?;
        let i32 = self.context.i32_type();
        let epoch =
            llvm(self.b.build_load(i32, self.field(abi::EPOCH)?, "epoch"))?.into_int_value();
        let same_epoch = llvm(self.b.build_int_compare(
            IntPredicate::EQ,
            epoch,
            i32.const_int(self.input.epoch as u64, false),
            "",
        ))?;
        llvm(self.b.build_and(same_class, same_epoch, "guess_holds"))
    }

    /// The answer of the quick method `s` guessed (its receiver's class
    /// checked), from the operands in registers: a getter's slot, a
    /// setter's store, a constant or the receiver; a receiver without the
    /// slot (or read-only, for a setter) goes to `otherwise`.
    fn answer_speculated(
        &mut self,
        i: usize,
        s: &Speculation,
        receiver: IntValue<'ctx>,
        otherwise: inkwell::basic_block::BasicBlock<'ctx>,
    ) -> Result<()> {
        let args = self.input.code[i].a as usize;
        let answer = match s.shape {
            Shape::Constant(bits) => self.constant(bits),
            Shape::Receiver => receiver,
            Shape::Getter(index) => {
                let has = self.has_slot(receiver, self.constant(index))?;
                let load = self.new_block("getter");
                llvm(self.b.build_conditional_branch(has, load, otherwise))?;
                self.b.position_at_end(load);
                self.load_field(receiver, index)?
            }
            Shape::Setter(index) => {
                let value = self.peek(0)?;
                let writable = self.has_writable_slot(receiver, self.constant(index))?;
                let store = self.new_block("setter");
                llvm(self.b.build_conditional_branch(writable, store, otherwise))?;
                self.b.position_at_end(store);
                self.store_field(receiver, self.constant(index), value)?;
                receiver
            }
            Shape::ArraySize => {
                let count = self.array_size(receiver, otherwise)?;
                self.small_integer(count)?
            }
            Shape::ArrayAt => {
                let index = self.peek(0)?;
                let at = self.array_index(receiver, index, false, otherwise)?;
                self.load_word(at)?
            }
            Shape::ArrayAtPut => {
                let (index, value) = (self.peek(1)?, self.peek(0)?);
                let at = self.array_index(receiver, index, true, otherwise)?;
                llvm(self.b.build_store(self.address(at)?, value))?;
                self.remember_if_needed(receiver, value)?;
                value
            }
            Shape::Plain { .. } | Shape::BlockValue => {
                return Err("a send that activates code has no quick answer".into())
            }
        };
        if matches!(
            s.shape,
            Shape::Receiver | Shape::Constant(_) | Shape::Getter(_) | Shape::Setter(_)
        ) {
            // As `Vm::invoke`: quick methods count their invocations.
            self.count_invocation(self.constant(self.info_address(s.method)))?;
        }
        self.with_state(self.len, self.stack.clone(), |t| {
            for _ in 0..=args {
                t.pop()?;
            }
            t.push(answer);
            t.jump_to(i + 1)
        })
    }

    /// Sets the `count` temporaries from stack index `from` on to nil: in
    /// a loop, unless the count is a small constant.
    fn nil_temporaries(&mut self, from: IntValue<'ctx>, count: IntValue<'ctx>) -> Result<()> {
        let nil = self.constant(self.input.nil.bits());
        if let Some(n) = count.get_zero_extended_constant().filter(|&n| n <= 8) {
            for k in 0..n {
                llvm(self.b.build_store(self.slot(self.add(from, k)?)?, nil))?;
            }
            return Ok(());
        }
        let fill = self.new_block("nil_temps");
        let filled = self.new_block("temps_set");
        let before = self.current_block();
        let any = llvm(
            self.b
                .build_int_compare(IntPredicate::NE, count, self.constant(0), ""),
        )?;
        llvm(self.b.build_conditional_branch(any, fill, filled))?;
        self.b.position_at_end(fill);
        let k = llvm(self.b.build_phi(self.i64, "k"))?;
        let k_value = k.as_basic_value().into_int_value();
        let at = llvm(self.b.build_int_add(from, k_value, ""))?;
        llvm(self.b.build_store(self.slot(at)?, nil))?;
        let k_next = self.add(k_value, 1)?;
        k.add_incoming(&[(&self.constant(0), before), (&k_next, fill)]);
        let more = llvm(
            self.b
                .build_int_compare(IntPredicate::ULT, k_next, count, ""),
        )?;
        llvm(self.b.build_conditional_branch(more, fill, filled))?;
        self.b.position_at_end(filled);
        Ok(())
    }

    /// Adds one to the invocation count in the method info at `info`.
    fn count_invocation(&self, info: IntValue<'ctx>) -> Result<()> {
        let counter = self.address(self.add(info, abi::METHOD_INFO_INVOCATIONS as u64)?)?;
        let count = llvm(self.b.build_load(self.i64, counter, "count"))?.into_int_value();
        llvm(self.b.build_store(counter, self.add(count, 1)?))?;
        Ok(())
    }

    /// Goes on at `next`, which a send answered: natively when it is in
    /// this unit (the return address, or this unit's start in a
    /// recursion); else, while calls are nested less than
    /// [`MAX_NATIVE_DEPTH`] deep, by calling its handler (the callee's
    /// machine code, when it is compiled) and going on where that answers:
    /// straight to `continuation`'s block when it answers that instruction
    /// (the usual return), through the dispatch otherwise; else from the
    /// trampoline.
    pub(super) fn enter(
        &mut self,
        next: PointerValue<'ctx>,
        continuation: Option<usize>,
    ) -> Result<()> {
        let from = self.current_block();
        let at = llvm(self.b.build_ptr_to_int(next, self.i64, ""))?;
        let offset = llvm(
            self.b
                .build_int_sub(at, self.constant(self.input.copy as u64), ""),
        )?;
        let size = (self.input.code.len() * abi::INSTR_SIZE) as u64;
        let here =
            llvm(
                self.b
                    .build_int_compare(IntPredicate::ULT, offset, self.constant(size), ""),
            )?;
        let elsewhere = self.new_block("elsewhere");
        let nest = self.new_block("nest");
        llvm(
            self.b
                .build_conditional_branch(here, self.dispatch_block, elsewhere),
        )?;
        self.dispatch.add_incoming(&[(&next, from)]);
        self.b.position_at_end(elsewhere);
        let depth = llvm(
            self.b
                .build_load(self.i64, self.field(abi::NATIVE_DEPTH)?, "depth"),
        )?
        .into_int_value();
        let shallow = llvm(self.b.build_int_compare(
            IntPredicate::ULT,
            depth,
            self.constant(MAX_NATIVE_DEPTH),
            "",
        ))?;
        // (Null, the end of the computation or an error, goes back up.)
        let somewhere = llvm(self.b.build_is_not_null(next, ""))?;
        let nests = llvm(self.b.build_and(shallow, somewhere, ""))?;
        llvm(
            self.b
                .build_conditional_branch(nests, nest, self.dispatch_block),
        )?;
        self.dispatch.add_incoming(&[(&next, elsewhere)]);
        self.b.position_at_end(nest);
        llvm(
            self.b
                .build_store(self.field(abi::NATIVE_DEPTH)?, self.add(depth, 1)?),
        )?;
        let handler = llvm(self.b.build_load(self.ptr, next, "callee"))?.into_pointer_value();
        let back = self
            .call(
                handler,
                self.handler_type(),
                &[self.vm.into(), next.into()],
                "back",
            )?
            .into_pointer_value();
        llvm(self.b.build_store(self.field(abi::NATIVE_DEPTH)?, depth))?;
        if let Some(c) = continuation {
            let expected = self.ip(c)?;
            let returned = llvm(self.b.build_int_compare(
                IntPredicate::EQ,
                llvm(self.b.build_ptr_to_int(back, self.i64, ""))?,
                llvm(self.b.build_ptr_to_int(expected, self.i64, ""))?,
                "returned",
            ))?;
            let other = self.new_block("returned_elsewhere");
            llvm(
                self.b
                    .build_conditional_branch(returned, self.landing(c)?, other),
            )?;
            self.b.position_at_end(other);
        }
        let after = self.current_block();
        self.dispatch.add_incoming(&[(&back, after)]);
        llvm(self.b.build_unconditional_branch(self.dispatch_block))?;
        self.terminated = true;
        Ok(())
    }
}
