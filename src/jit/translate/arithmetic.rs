//! Special sends in machine code: SmallInteger arithmetic and comparisons
//! on the tagged words (with tag and overflow checks), the same on
//! SmallFloat64s (decoded to doubles and encoded back when the result is
//! immediate), and comparisons fused with their conditional jump. Whatever
//! is not answered here goes to the send's handler.

use inkwell::intrinsics::Intrinsic;
use inkwell::values::{FloatValue, IntValue, ValueKind};
use inkwell::{FloatPredicate, IntPredicate};
use zag_compiler::lowering::Handler as H;

use super::{llvm, Result, Translator};
use crate::object::SMALL_FLOAT_EXPONENT_OFFSET;

/// A SmallFloat64's tag.
const TAG_SMALL_FLOAT: u64 = 0b100;

/// What the encoding of a SmallFloat64 subtracts from the rotated bits of
/// its double (the exponent's offset, in the exponent's place).
const EXPONENT_REBASE: u64 = SMALL_FLOAT_EXPONENT_OFFSET << 53;

/// Whether the interpreter answers `kind` inline for floats too.
fn has_float_operation(kind: H) -> bool {
    use H::*;
    matches!(
        kind,
        send_add
            | send_subtract
            | send_multiply
            | send_divide
            | send_less
            | send_greater
            | send_less_or_equal
            | send_greater_or_equal
            | send_equal
            | send_not_equal
    )
}

impl<'ctx> Translator<'ctx, '_> {
    pub(super) fn is_small_integer(&self, v: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let tag = llvm(self.b.build_and(v, self.constant(0b111), ""))?;
        llvm(
            self.b
                .build_int_compare(IntPredicate::EQ, tag, self.constant(0b001), ""),
        )
    }

    fn both_small_integers(&self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let (x, y) = (self.is_small_integer(a)?, self.is_small_integer(b)?);
        llvm(self.b.build_and(x, y, ""))
    }

    /// Pops the two operands of a special send; on the slow path they are
    /// written back and the handler runs.
    fn operands(&mut self) -> Result<(IntValue<'ctx>, IntValue<'ctx>)> {
        let b = self.pop()?;
        let a = self.pop()?;
        Ok((a, b))
    }

    /// `+ - *` of two SmallIntegers without overflow, on the tagged words:
    /// `a + (b - 1)`, `a - (b - 1)`, `((a - 1) >> 3) * (b - 1) + 1`.
    pub(super) fn arithmetic(&mut self, i: usize, kind: H) -> Result<()> {
        let (a, b) = self.operands()?;
        let ints = self.both_small_integers(a, b)?;
        let untagged_b = llvm(self.b.build_int_sub(b, self.constant(1), ""))?;
        let (name, x) = match kind {
            H::send_add => ("llvm.sadd.with.overflow", a),
            H::send_subtract => ("llvm.ssub.with.overflow", a),
            _ => {
                let untagged_a = llvm(self.b.build_int_sub(a, self.constant(1), ""))?;
                let shift = self.constant(3);
                (
                    "llvm.smul.with.overflow",
                    llvm(self.b.build_right_shift(untagged_a, shift, true, ""))?,
                )
            }
        };
        let intrinsic = Intrinsic::find(name).ok_or("no overflow intrinsic")?;
        let declaration = intrinsic
            .get_declaration(self.module, &[self.i64.into()])
            .ok_or("no overflow intrinsic declaration")?;
        let result = llvm(
            self.b
                .build_call(declaration, &[x.into(), untagged_b.into()], ""),
        )?;
        let pair = match result.try_as_basic_value() {
            ValueKind::Basic(v) => v.into_struct_value(),
            _ => return Err("an overflow intrinsic answers a pair".into()),
        };
        let value = llvm(self.b.build_extract_value(pair, 0, ""))?.into_int_value();
        let overflow = llvm(self.b.build_extract_value(pair, 1, ""))?.into_int_value();
        let no_overflow = llvm(self.b.build_not(overflow, ""))?;
        let fast = llvm(self.b.build_and(ints, no_overflow, ""))?;
        let value = self.int_or_float(i, kind, fast, a, b, |t| {
            if kind == H::send_multiply {
                llvm(t.b.build_or(value, t.constant(1), ""))
            } else {
                Ok(value)
            }
        })?;
        self.push(value);
        self.jump_to(i + 1)
    }

    /// The answer of a special send: `integers` when `fast` (two
    /// SmallIntegers, no overflow); else, as the interpreter's inline path
    /// answers, the operation on doubles when one operand is a SmallFloat64
    /// and the other one too or a SmallInteger that converts exactly, and
    /// the result is immediate; else the handler's (operands written back).
    fn int_or_float(
        &mut self,
        i: usize,
        kind: H,
        fast: IntValue<'ctx>,
        a: IntValue<'ctx>,
        b: IntValue<'ctx>,
        integers: impl FnOnce(&Self) -> Result<IntValue<'ctx>>,
    ) -> Result<IntValue<'ctx>> {
        if !has_float_operation(kind) {
            self.unless_fast(i, fast, &[a, b])?;
            return integers(self);
        }
        let with_strings = kind == H::send_equal;
        self.numeric_answer(
            i,
            (a, b),
            fast,
            with_strings,
            integers,
            |t, x, y| t.float_operation(kind, x, y),
            |t, equal| t.boolean(equal),
        )
    }

    /// What every special send builds: `integers` when `fast`; else
    /// `floats` of the operands as doubles when they are floats (see
    /// [`Self::float_operands`]) and it answers; else, `with_strings`,
    /// `strings` of whether two byte strings are equal when
    /// `jit::string_equality` answers; else the handler runs (a side exit).
    #[allow(clippy::too_many_arguments)]
    fn numeric_answer(
        &mut self,
        i: usize,
        (a, b): (IntValue<'ctx>, IntValue<'ctx>),
        fast: IntValue<'ctx>,
        with_strings: bool,
        integers: impl FnOnce(&Self) -> Result<IntValue<'ctx>>,
        floats: impl FnOnce(
            &Self,
            FloatValue<'ctx>,
            FloatValue<'ctx>,
        ) -> Result<(IntValue<'ctx>, IntValue<'ctx>)>,
        strings: impl FnOnce(&Self, IntValue<'ctx>) -> Result<IntValue<'ctx>>,
    ) -> Result<IntValue<'ctx>> {
        let int_block = self.new_block("int");
        let other = self.new_block("not_int");
        let float_block = self.new_block("float");
        let slow = self.new_block("slow");
        let join = self.new_block("answered");
        llvm(self.b.build_conditional_branch(fast, int_block, other))?;
        self.b.position_at_end(other);
        let (are_floats, x, y) = self.float_operands(a, b)?;
        let neither = self.new_block("not_float");
        llvm(
            self.b
                .build_conditional_branch(are_floats, float_block, neither),
        )?;
        self.b.position_at_end(neither);
        let string_answer = if with_strings {
            let (answered, equal) = self.string_equality(i, a, b)?;
            let value = strings(self, equal)?;
            llvm(self.b.build_conditional_branch(answered, join, slow))?;
            Some((value, self.current_block()))
        } else {
            llvm(self.b.build_unconditional_branch(slow))?;
            None
        };
        self.b.position_at_end(float_block);
        let (answered, float_value) = floats(self, x, y)?;
        let float_end = self.current_block();
        llvm(self.b.build_conditional_branch(answered, join, slow))?;
        self.b.position_at_end(slow);
        self.side_exit(i, &[a, b])?;
        self.b.position_at_end(int_block);
        let value = integers(self)?;
        let int_end = self.current_block();
        llvm(self.b.build_unconditional_branch(join))?;
        self.b.position_at_end(join);
        let phi = llvm(self.b.build_phi(value.get_type(), "answer"))?;
        phi.add_incoming(&[(&value, int_end), (&float_value, float_end)]);
        if let Some((v, block)) = string_answer {
            phi.add_incoming(&[(&v, block)]);
        }
        Ok(phi.as_basic_value().into_int_value())
    }

    /// Whether `a` and `b` are operands of a float operation (both
    /// numbers, one a SmallFloat64, the other a SmallFloat64 or a
    /// SmallInteger of at most 53 bits), and their values as doubles.
    fn float_operands(
        &self,
        a: IntValue<'ctx>,
        b: IntValue<'ctx>,
    ) -> Result<(IntValue<'ctx>, FloatValue<'ctx>, FloatValue<'ctx>)> {
        let (a_float, a_int, x) = self.as_double(a)?;
        let (b_float, b_int, y) = self.as_double(b)?;
        let a_number = llvm(self.b.build_or(a_float, a_int, ""))?;
        let b_number = llvm(self.b.build_or(b_float, b_int, ""))?;
        let numbers = llvm(self.b.build_and(a_number, b_number, ""))?;
        let one_float = llvm(self.b.build_or(a_float, b_float, ""))?;
        Ok((llvm(self.b.build_and(numbers, one_float, ""))?, x, y))
    }

    /// Whether `v` is a SmallFloat64, whether it is a SmallInteger that
    /// converts to a double exactly (`Vm`'s `as_float`), and its value as
    /// a double (meaningless when neither).
    fn as_double(
        &self,
        v: IntValue<'ctx>,
    ) -> Result<(IntValue<'ctx>, IntValue<'ctx>, FloatValue<'ctx>)> {
        let f64 = self.context.f64_type();
        let tag = llvm(self.b.build_and(v, self.constant(0b111), ""))?;
        let is_float = llvm(self.b.build_int_compare(
            IntPredicate::EQ,
            tag,
            self.constant(TAG_SMALL_FLOAT),
            "",
        ))?;
        let is_int = self.is_small_integer(v)?;
        let value = llvm(self.b.build_right_shift(v, self.constant(3), true, ""))?;
        // -2^53 < value < 2^53.
        let biased = self.add(value, (1 << 53) - 1)?;
        let exact = llvm(self.b.build_int_compare(
            IntPredicate::ULT,
            biased,
            self.constant((1 << 54) - 1),
            "",
        ))?;
        let is_int = llvm(self.b.build_and(is_int, exact, ""))?;
        let converted = llvm(self.b.build_signed_int_to_float(value, f64, ""))?;
        // A SmallFloat64's encoding (`Oop::small_float_value`): the double's
        // bits rotated left by one, the exponent rebased, shifted over the
        // tag; 0 and 1 (the zeroes) are not rebased.
        let encoded = llvm(self.b.build_right_shift(v, self.constant(3), false, ""))?;
        let zero =
            llvm(
                self.b
                    .build_int_compare(IntPredicate::ULE, encoded, self.constant(1), ""),
            )?;
        let rebased = self.add(encoded, EXPONENT_REBASE)?;
        let rotated = llvm(self.b.build_select(zero, encoded, rebased, ""))?.into_int_value();
        let bits = self.rotate_right_one(rotated)?;
        let decoded = llvm(self.b.build_bit_cast(bits, f64, ""))?.into_float_value();
        let value = llvm(self.b.build_select(is_float, decoded, converted, ""))?.into_float_value();
        Ok((is_float, is_int, value))
    }

    fn rotate_right_one(&self, v: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        let low = llvm(self.b.build_left_shift(v, self.constant(63), ""))?;
        let high = llvm(self.b.build_right_shift(v, self.constant(1), false, ""))?;
        llvm(self.b.build_or(low, high, ""))
    }

    /// `kind`'s operation on two doubles: whether it has an immediate
    /// answer, and the answer (a Boolean, or the result as a SmallFloat64:
    /// `Oop::small_float`).
    fn float_operation(
        &self,
        kind: H,
        x: FloatValue<'ctx>,
        y: FloatValue<'ctx>,
    ) -> Result<(IntValue<'ctx>, IntValue<'ctx>)> {
        use H::*;
        let yes = self.context.bool_type().const_all_ones();
        if matches!(
            kind,
            send_less
                | send_greater
                | send_less_or_equal
                | send_greater_or_equal
                | send_equal
                | send_not_equal
        ) {
            let condition = llvm(self.b.build_float_compare(float_predicate(kind), x, y, ""))?;
            return Ok((yes, self.boolean(condition)?));
        }
        let (result, defined) = match kind {
            send_add => (llvm(self.b.build_float_add(x, y, ""))?, yes),
            send_subtract => (llvm(self.b.build_float_sub(x, y, ""))?, yes),
            send_multiply => (llvm(self.b.build_float_mul(x, y, ""))?, yes),
            send_divide => {
                let zero = self.context.f64_type().const_zero();
                let nonzero = llvm(self.b.build_float_compare(FloatPredicate::UNE, y, zero, ""))?;
                (llvm(self.b.build_float_div(x, y, ""))?, nonzero)
            }
            _ => return Err(format!("{} has no float operation", kind.name())),
        };
        let (fits, value) = self.small_float(result)?;
        Ok((llvm(self.b.build_and(defined, fits, ""))?, value))
    }

    /// Whether `value` is immediate (`fits_small_float`), and its
    /// SmallFloat64 (meaningless when not).
    fn small_float(&self, value: FloatValue<'ctx>) -> Result<(IntValue<'ctx>, IntValue<'ctx>)> {
        let bits = llvm(self.b.build_bit_cast(value, self.i64, ""))?.into_int_value();
        let doubled = llvm(self.b.build_left_shift(bits, self.constant(1), ""))?;
        let zero = llvm(
            self.b
                .build_int_compare(IntPredicate::EQ, doubled, self.constant(0), ""),
        )?;
        let exponent = llvm(self.b.build_right_shift(bits, self.constant(52), false, ""))?;
        let exponent = llvm(self.b.build_and(exponent, self.constant(0x7FF), ""))?;
        // SMALL_FLOAT_EXPONENT_OFFSET < exponent <= SMALL_FLOAT_EXPONENT_OFFSET + 255
        let above = self.add(exponent, (SMALL_FLOAT_EXPONENT_OFFSET + 1).wrapping_neg())?;
        let in_range =
            llvm(
                self.b
                    .build_int_compare(IntPredicate::ULT, above, self.constant(255), ""),
            )?;
        let fits = llvm(self.b.build_or(zero, in_range, ""))?;
        let sign = llvm(self.b.build_right_shift(bits, self.constant(63), false, ""))?;
        let rotated = llvm(self.b.build_or(doubled, sign, ""))?;
        let small =
            llvm(
                self.b
                    .build_int_compare(IntPredicate::ULE, rotated, self.constant(1), ""),
            )?;
        let rebased = self.add(rotated, EXPONENT_REBASE.wrapping_neg())?;
        let encoded = llvm(self.b.build_select(small, rotated, rebased, ""))?.into_int_value();
        let shifted = llvm(self.b.build_left_shift(encoded, self.constant(3), ""))?;
        let oop = llvm(self.b.build_or(shifted, self.constant(TAG_SMALL_FLOAT), ""))?;
        Ok((fits, oop))
    }

    /// Comparisons of two SmallIntegers: the tagged words compare as the
    /// values do.
    pub(super) fn comparison(&mut self, i: usize, kind: H) -> Result<()> {
        let (a, b) = self.operands()?;
        let ints = self.both_small_integers(a, b)?;
        let v = self.int_or_float(i, kind, ints, a, b, |t| {
            let condition = t.compare(kind, a, b)?;
            t.boolean(condition)
        })?;
        self.push(v);
        self.jump_to(i + 1)
    }

    fn compare(&self, kind: H, a: IntValue<'ctx>, b: IntValue<'ctx>) -> Result<IntValue<'ctx>> {
        use H::*;
        let predicate = match kind {
            send_less | less_jump_if_true | less_jump_if_false => IntPredicate::SLT,
            send_greater | greater_jump_if_true | greater_jump_if_false => IntPredicate::SGT,
            send_less_or_equal | less_or_equal_jump_if_true | less_or_equal_jump_if_false => {
                IntPredicate::SLE
            }
            send_greater_or_equal
            | greater_or_equal_jump_if_true
            | greater_or_equal_jump_if_false => IntPredicate::SGE,
            send_not_equal | not_equal_jump_if_true | not_equal_jump_if_false => IntPredicate::NE,
            _ => IntPredicate::EQ,
        };
        llvm(self.b.build_int_compare(predicate, a, b, ""))
    }

    /// `bitAnd:`/`bitOr:` of two SmallIntegers keep the tag as they are.
    pub(super) fn bitwise(&mut self, i: usize, kind: H) -> Result<()> {
        let (a, b) = self.operands()?;
        let ints = self.both_small_integers(a, b)?;
        self.unless_fast(i, ints, &[a, b])?;
        let v = if kind == H::send_bit_and {
            llvm(self.b.build_and(a, b, ""))?
        } else {
            llvm(self.b.build_or(a, b, ""))?
        };
        self.push(v);
        self.jump_to(i + 1)
    }

    /// A comparison fused with the conditional jump after it.
    pub(super) fn compare_and_jump(&mut self, i: usize, kind: H) -> Result<()> {
        use H::*;
        let when = matches!(
            kind,
            less_jump_if_true
                | greater_jump_if_true
                | less_or_equal_jump_if_true
                | greater_or_equal_jump_if_true
                | equal_jump_if_true
                | not_equal_jump_if_true
                | identical_jump_if_true
        );
        let (target, after) = (self.jump_target(i + 1), i + 2);
        let (a, b) = self.operands()?;
        let identity = matches!(kind, identical_jump_if_true | identical_jump_if_false);
        let condition = if identity {
            llvm(self.b.build_int_compare(IntPredicate::EQ, a, b, ""))?
        } else {
            self.number_comparison(i, kind, a, b)?
        };
        if when {
            self.branch(condition, target, after)
        } else {
            self.branch(condition, after, target)
        }
    }

    /// The comparison of a fused compare-and-jump: of two SmallIntegers, or
    /// as doubles (see [`Self::float_operands`]); anything else goes to the
    /// handler, which sends the comparison.
    fn number_comparison(
        &mut self,
        i: usize,
        kind: H,
        a: IntValue<'ctx>,
        b: IntValue<'ctx>,
    ) -> Result<IntValue<'ctx>> {
        use H::*;
        let special = match kind {
            less_jump_if_true | less_jump_if_false => send_less,
            greater_jump_if_true | greater_jump_if_false => send_greater,
            less_or_equal_jump_if_true | less_or_equal_jump_if_false => send_less_or_equal,
            greater_or_equal_jump_if_true | greater_or_equal_jump_if_false => send_greater_or_equal,
            equal_jump_if_true | equal_jump_if_false => send_equal,
            _ => send_not_equal,
        };
        let ints = self.both_small_integers(a, b)?;
        let yes = self.context.bool_type().const_all_ones();
        self.numeric_answer(
            i,
            (a, b),
            ints,
            special == send_equal,
            |t| t.compare(kind, a, b),
            |t, x, y| {
                let condition = t.b.build_float_compare(float_predicate(special), x, y, "");
                Ok((yes, llvm(condition)?))
            },
            |_, equal| Ok(equal),
        )
    }

    /// `/`: floats as the other special sends; SmallIntegers (whose
    /// quotient may be a Fraction) go to the handler.
    pub(super) fn divide(&mut self, i: usize) -> Result<()> {
        let (a, b) = self.operands()?;
        let (floats, x, y) = self.float_operands(a, b)?;
        let float_block = self.new_block("float");
        let slow = self.new_block("slow");
        llvm(self.b.build_conditional_branch(floats, float_block, slow))?;
        self.b.position_at_end(float_block);
        let (answered, value) = self.float_operation(H::send_divide, x, y)?;
        let answered_block = self.new_block("answered");
        llvm(
            self.b
                .build_conditional_branch(answered, answered_block, slow),
        )?;
        self.b.position_at_end(slow);
        self.side_exit(i, &[a, b])?;
        self.b.position_at_end(answered_block);
        self.push(value);
        self.jump_to(i + 1)
    }

    /// `=` of byte strings as the interpreter answers it at send `i`
    /// (`jit::string_equality`): whether it answered, and the answer.
    fn string_equality(
        &self,
        i: usize,
        a: IntValue<'ctx>,
        b: IntValue<'ctx>,
    ) -> Result<(IntValue<'ctx>, IntValue<'ctx>)> {
        let helper = self.function_at(crate::jit::string_equality as *const () as u64)?;
        let fn_type = self.i64.fn_type(
            &[
                self.ptr.into(),
                self.ptr.into(),
                self.i64.into(),
                self.i64.into(),
            ],
            false,
        );
        let ip = self.ip(i)?;
        let r = self
            .call(
                helper,
                fn_type,
                &[self.vm.into(), ip.into(), a.into(), b.into()],
                "strings",
            )?
            .into_int_value();
        let answered = llvm(
            self.b
                .build_int_compare(IntPredicate::NE, r, self.constant(0), ""),
        )?;
        let equal = llvm(
            self.b
                .build_int_compare(IntPredicate::EQ, r, self.constant(2), ""),
        )?;
        Ok((answered, equal))
    }
}

/// The comparison of doubles a special send makes (Rust's, on `f64`).
fn float_predicate(special: H) -> FloatPredicate {
    use H::*;
    match special {
        send_less => FloatPredicate::OLT,
        send_greater => FloatPredicate::OGT,
        send_less_or_equal => FloatPredicate::OLE,
        send_greater_or_equal => FloatPredicate::OGE,
        send_equal => FloatPredicate::OEQ,
        _ => FloatPredicate::UNE,
    }
}
