//! Sends: the inline cache, invoking what a lookup found (a quick
//! method's answer, a primitive, or an activation), `doesNotUnderstand:`,
//! and the send handlers, among them the special sends that do the
//! arithmetic and comparisons of SmallIntegers and SmallFloat64s inline
//! (with the operations of `primitives::small_integer` and
//! `primitives::float`, which the primitives use too).

use super::*;

impl Vm {
    /// The method the send site's inline cache holds for `class`, if any.
    #[inline(always)]
    fn cache_hit(&self, site: &Instr, class: ClassIndex) -> Option<MethodRef> {
        debug_assert!((site.site as usize) < self.universe.caches.len());
        // SAFETY: every instruction this VM runs has a site below its
        // cache count: the image's sites are counted at boot before any
        // code runs, run-time code gets its sites from `new_send_site`,
        // other instructions have site 0, and caches are never removed.
        // (This is the send path's hottest load.)
        let entry = unsafe { *self.universe.caches.get_unchecked(site.site as usize) };
        (entry.class == class).then_some(entry.method)
    }

    /// Finds the method for `selector` in `class`, through the send
    /// site's inline cache.
    fn cached_lookup(
        &mut self,
        site: &Instr,
        class: ClassIndex,
        selector: Oop,
    ) -> Option<MethodRef> {
        if let Some(method) = self.cache_hit(site, class) {
            return Some(method);
        }
        let method = self
            .universe
            .classes
            .dispatch(class, selector, self.universe.epoch)?;
        self.universe.caches[site.site as usize] = CacheEntry { class, method };
        Some(method)
    }

    /// Invokes `method` on the receiver and `args` arguments on the stack:
    /// a quick method answers at once; otherwise its primitive runs first,
    /// then (if none, or it failed) its code.
    #[inline(always)]
    pub(crate) fn invoke(&mut self, method: MethodRef, args: usize, return_ip: Ip) -> Ip {
        // One test on the common path: most methods just run their code;
        // then the most common quick methods, getters and constants.
        let info = self.universe.info(method);
        if info.is_plain() {
            return self.activate_method(method, args, return_ip);
        }
        match (info.quick_shape, args) {
            (MethodInfo::QUICK_RETURN_INST_VAR, 0) => {
                let top = self.process.stack.len() - 1;
                let index = info.quick_operand as usize;
                if let Some(value) = memory::inst_var(self.process.stack[top], index) {
                    info.count_invocation();
                    self.process.stack[top] = value;
                    return return_ip;
                }
            }
            // `isNil`, `isString`...: a constant.
            (MethodInfo::QUICK_RETURN_CONSTANT, 0) => {
                info.count_invocation();
                // SAFETY: the operand of this shape is the constant's bits.
                let value = unsafe { Oop::from_bits(info.quick_operand) };
                let top = self.process.stack.len() - 1;
                self.process.stack[top] = value;
                return return_ip;
            }
            _ => {}
        }
        if info.flags & MethodInfo::PRIMITIVE == 0 {
            return self.invoke_quick(method, args, return_ip);
        }
        self.invoke_primitive(method, args, return_ip)
    }

    /// A quick method (a method that is not plain has a primitive or is
    /// quick) answers without a frame, unless its receiver lacks the slot:
    /// then its code runs, to report that.
    #[inline(never)]
    fn invoke_quick(&mut self, method: MethodRef, args: usize, return_ip: Ip) -> Ip {
        let quick = self.universe.methods[method as usize].quick;
        match self.answer_quick(quick, args) {
            Some(value) => {
                self.universe.info(method).count_invocation();
                let receiver_at = self.process.stack.len() - args - 1;
                self.process.stack.truncate(receiver_at + 1);
                self.process.stack[receiver_at] = value;
                return_ip
            }
            None => self.activate_method(method, args, return_ip),
        }
    }

    /// Runs the method's primitive; when it fails, the method's code runs
    /// with the failure code in its `error:` temporary.
    #[inline(never)]
    fn invoke_primitive(&mut self, method: MethodRef, args: usize, return_ip: Ip) -> Ip {
        let (primitive, error_slot) = {
            let m = &self.universe.methods[method as usize];
            (m.primitive, m.primitive_error_slot)
        };
        // (The method info's PRIMITIVE flag says it has one.)
        let Some(primitive) = primitive else {
            return self.activate_method(method, args, return_ip);
        };
        let code = match (primitive.function)(self, args, return_ip) {
            Prim::Value(v) => {
                let receiver_at = self.process.stack.len() - args - 1;
                self.process.stack.truncate(receiver_at + 1);
                self.process.stack[receiver_at] = v;
                return return_ip;
            }
            Prim::Continue(ip) => return ip,
            Prim::Fail(code) => code,
        };
        let ip = self.activate_method(method, args, return_ip);
        // (An activation replaced by a stack-overflow signal has no such
        // temporary.)
        let activated = self
            .process
            .frames
            .last()
            .is_some_and(|f| f.method == method);
        // (A null answer may be a switch to another Process after the
        // activation: its temporary is set all the same.)
        if let (Some(slot), true) = (error_slot, activated) {
            let value = match primitives::ERROR_TABLE.get((code as usize).wrapping_sub(2)) {
                Some(name) => self.intern(name),
                None => self.universe.nil,
            };
            let at = self.slot_index(slot as u32);
            self.process.stack[at] = value;
        }
        ip
    }

    /// What a quick method answers for the receiver and `args` arguments
    /// on the stack; None (leaving the stack as it was) when the receiver
    /// lacks the slot, for the method's code to report.
    fn answer_quick(&mut self, quick: Quick, args: usize) -> Option<Oop> {
        let receiver = self.process.stack[self.process.stack.len() - args - 1];
        match quick {
            Quick::No => None,
            Quick::ReturnSelf => Some(receiver),
            Quick::ReturnConstant(value) => Some(value),
            Quick::ReturnInstVar(index) => memory::inst_var(receiver, index as usize),
            // A read-only receiver runs the method, whose store refuses.
            Quick::StoreInstVar(_) if memory::is_read_only(receiver) => None,
            Quick::StoreInstVar(index) => {
                let value = self.top();
                self.store(receiver, index as usize, value)
                    .then_some(receiver)
            }
        }
    }

    /// The send of `selector` failed: sends `doesNotUnderstand:` with a
    /// Message, or fails when that is not understood either.
    fn does_not_understand(&mut self, selector: Oop, args: usize, return_ip: Ip) -> Ip {
        let receiver = self.process.stack[self.process.stack.len() - args - 1];
        let class = class_index_of(receiver);
        let dnu = self.intern("doesNotUnderstand:");
        let handler = self.universe.classes.lookup(class, dnu);
        let Some(handler) = handler.filter(|_| selector != dnu) else {
            let name = self.symbol_text(selector);
            return self.fail(format!(
                "{}>>{name}: message not understood",
                self.universe.classes.name(class)
            ));
        };
        // Allocate while the arguments are still on the stack (a root).
        let arguments = self.allocate(
            classes::ARRAY,
            Format::Indexable,
            args,
            self.universe.nil.bits(),
        );
        self.pop_into(arguments, 0, args);
        self.push(arguments);
        let message = self.allocate(classes::MESSAGE, Format::Fixed, 3, self.universe.nil.bits());
        let arguments = self.pop();
        memory::init_slot(message, 0, selector);
        memory::init_slot(message, 1, arguments);
        memory::init_slot(message, 2, self.universe.class_object(class));
        self.push(message);
        self.process.sent_selector = dnu;
        self.invoke(handler, 1, return_ip)
    }

    pub(crate) fn send_selector(
        &mut self,
        selector: Oop,
        args: usize,
        return_ip: Ip,
        site: Option<&Instr>,
        start: Option<ClassIndex>,
    ) -> Ip {
        let receiver = self.process.stack[self.process.stack.len() - args - 1];
        let class = start.unwrap_or_else(|| class_index_of(receiver));
        let method = match site {
            Some(site) => self.cached_lookup(site, class, selector),
            None => self
                .universe
                .classes
                .dispatch(class, selector, self.universe.epoch),
        };
        match method {
            Some(m) => {
                self.process.sent_selector = selector;
                self.invoke(m, args, return_ip)
            }
            None => self.does_not_understand(selector, args, return_ip),
        }
    }
}

pub(crate) extern "C-unwind" fn send(vm: &mut Vm, ip: Ip) -> Ip {
    let i = instr(ip);
    let args = i.a as usize;
    // The inline-cache hit, inline; a miss looks the method up.
    let receiver = vm.process.stack[vm.process.stack.len() - args - 1];
    if let Some(method) = vm.cache_hit(i, class_index_of(receiver)) {
        vm.process.sent_selector = i.operand_oop();
        return vm.invoke(method, args, next(ip));
    }
    vm.send_selector(i.operand_oop(), args, next(ip), Some(i), None)
}

pub(crate) extern "C-unwind" fn super_send(vm: &mut Vm, ip: Ip) -> Ip {
    let i = instr(ip);
    // Statically bound: the lookup starts above the class of the method
    // (of the home method, in a block).
    let class = vm.universe.methods[vm.frame().method as usize].class;
    let start = vm
        .universe
        .classes
        .get(class)
        .and_then(|c| c.superclass)
        .unwrap_or(0);
    vm.send_selector(
        i.operand_oop(),
        i.a as usize,
        next(ip),
        Some(i),
        Some(start),
    )
}

/// Sends of the arithmetic and comparison selectors, with the common cases
/// done inline, as Pharo's special-selector bytecodes do (redefining
/// `SmallInteger>>#+` does not affect SmallInteger receivers): two
/// SmallIntegers, or two SmallFloat64s. Anything else (overflow, boxed
/// floats, mixed kinds, other classes) is an ordinary send.
type IntegerOp = fn(&Vm, i64, i64) -> Option<Oop>;

type FloatOp = fn(&Vm, f64, f64) -> Option<Oop>;

pub(super) fn special_send(
    vm: &mut Vm,
    ip: Ip,
    integers: IntegerOp,
    floats: Option<FloatOp>,
) -> Ip {
    let n = vm.process.stack.len();
    let (a, b) = (vm.process.stack[n - 2], vm.process.stack[n - 1]);
    match inline_answer(vm, a, b, integers, floats) {
        Some(r) => {
            vm.process.stack.truncate(n - 1);
            vm.process.stack[n - 2] = r;
            continue_after(vm, ip)
        }
        None => send(vm, ip),
    }
}

/// What a special send of `a` and `b` answers inline: for two
/// SmallIntegers, or floats (or a float and a SmallInteger, which converts
/// exactly when it fits 53 bits, as Pharo's asFloat does), when the result
/// is an immediate; None for an ordinary send.
#[inline(always)]
fn inline_answer(
    vm: &Vm,
    a: Oop,
    b: Oop,
    integers: IntegerOp,
    floats: Option<FloatOp>,
) -> Option<Oop> {
    match (a.as_small_integer(), b.as_small_integer()) {
        (Some(x), Some(y)) => integers(vm, x, y),
        _ => match (floats, as_float(a), as_float(b)) {
            (Some(op), Some(x), Some(y)) if a.is_small_float() || b.is_small_float() => {
                op(vm, x, y)
            }
            _ => None,
        },
    }
}

/// The instruction after a special send or `==` that answered inline:
/// run at once when lowering marked the send as chained (`b` = 1, see
/// chaining), else through the trampoline. A special send that falls back
/// to a real send never chains: the callee's code runs from the
/// trampoline.
pub(super) fn continue_after(vm: &mut Vm, ip: Ip) -> Ip {
    if instr(ip).b == CHAINED {
        run_at(vm, next(ip))
    } else {
        next(ip)
    }
}

/// The value of a SmallFloat64, or of a SmallInteger small enough to be
/// exact as a float.
pub(super) fn as_float(o: Oop) -> Option<f64> {
    o.as_small_float().or_else(|| {
        o.as_small_integer()
            .filter(|i| i.unsigned_abs() < (1 << 53))
            .map(|i| i as f64)
    })
}

/// A special send's operation for two SmallIntegers, then for two floats
/// (if it has one), each keeping its result when it is an [`Immediate`].
macro_rules! special_sends {
    ($($name:ident => $int:path $(, $float:path)?;)*) => {
        $(pub(crate) extern "C-unwind" fn $name(vm: &mut Vm, ip: Ip) -> Ip {
            special_send(
                vm,
                ip,
                |vm, a, b| $int(a, b).immediate(&vm.universe),
                float_op!($($float)?),
            )
        })*
    };
}

macro_rules! float_op {
    () => {
        None
    };
    ($float:path) => {
        Some(|vm, a, b| $float(a, b).immediate(&vm.universe))
    };
}

special_sends! {
    send_add => small_integer::add, float::add;
    send_subtract => small_integer::subtract, float::subtract;
    send_multiply => small_integer::multiply, float::multiply;
    send_less => small_integer::less, float::less;
    send_greater => small_integer::greater, float::greater;
    send_less_or_equal => small_integer::less_or_equal, float::less_or_equal;
    send_greater_or_equal => small_integer::greater_or_equal, float::greater_or_equal;
    send_numbers_equal => small_integer::equal, float::equal;
    send_not_equal => small_integer::not_equal, float::not_equal;
    send_divide => small_integer::divide, float::divide;
    send_modulo => small_integer::modulo;
    send_floor_divide => small_integer::floor_divide;
    send_bit_and => small_integer::bit_and;
    send_bit_or => small_integer::bit_or;
}

/// `=`: numbers inline as the other special sends; and two byte strings
/// (Strings and Symbols, compared by characters) inline when the send
/// site's inline cache holds the string-comparison primitive for the
/// receiver's class, so an override of `=` is still honoured.
pub(crate) extern "C-unwind" fn send_equal(vm: &mut Vm, ip: Ip) -> Ip {
    let n = vm.process.stack.len();
    let (a, b) = (vm.process.stack[n - 2], vm.process.stack[n - 1]);
    if let Some(equal) = cached_string_equality(vm, ip, a, b) {
        vm.process.stack.truncate(n - 1);
        vm.process.stack[n - 2] = vm.universe.boolean(equal);
        return continue_after(vm, ip);
    }
    send_numbers_equal(vm, ip)
}

/// For a send of `=` at `ip` whose receiver and argument (on top of the
/// stack) are byte strings: their equality, when the site's inline cache
/// says the receiver's class answers `=` with the string-comparison
/// primitive.
pub(crate) fn cached_string_equality(vm: &Vm, ip: Ip, a: Oop, b: Oop) -> Option<bool> {
    let method = vm.cache_hit(instr(ip), class_index_of(a))?;
    if !vm.universe.methods[method as usize].has_primitive(primitives::STRING_EQUALS) {
        return None;
    }
    primitives::strings::equal(&vm.heap, a, b)
}

/// `==` is never looked up, as in Pharo (whose compiler gives it a
/// special bytecode): it is object identity for every receiver.
pub(crate) extern "C-unwind" fn send_identical(vm: &mut Vm, ip: Ip) -> Ip {
    let b = vm.pop();
    let a = vm.pop();
    let result = vm.universe.boolean(a == b);
    vm.push(result);
    continue_after(vm, ip)
}
