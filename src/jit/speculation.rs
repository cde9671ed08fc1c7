//! Guesses from type feedback: what each send site's inline cache holds
//! when its unit is compiled. The machine code answers the guessed
//! method's way inline (a quick method's answer, a plain method's frame of
//! known size) after checking the receiver's class and that no lookup has
//! been invalidated since (`Universe::epoch`): a redefined method, a
//! changed class, and the guess is simply not taken any more, so it never
//! needs code to be thrown away.

use zag_compiler::lowering::Handler as H;

use crate::object::classes;
use crate::vm::method::{Instr, MethodInfo, MethodRef};
use crate::vm::primitives::Key;
use crate::vm::Vm;

/// A send site's guess: for receivers of `class`, `method`, which is of
/// `shape`.
#[derive(Clone, Copy, Debug)]
pub struct Speculation {
    pub class: u32,
    pub method: MethodRef,
    pub shape: Shape,
}

/// What a guessed method does, as the send needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Answers its receiver.
    Receiver,
    /// Answers a constant (the bits of an object that never moves).
    Constant(u64),
    /// Answers an instance variable (the slot index).
    Getter(u64),
    /// Stores its argument into an instance variable, answering the
    /// receiver.
    Setter(u64),
    /// Runs its code in a frame of this size.
    Plain {
        num_temps: u16,
        max_stack: u16,
    },
    /// The indexing primitives on an Array: `size` (62), `at:` (60) and
    /// `at:put:` (61).
    ArraySize,
    ArrayAt,
    ArrayAtPut,
    /// `value`... (201-205) on a BlockClosure: activates the block.
    BlockValue,
}

impl Shape {
    /// Whether the send answers without a frame (from the operands).
    pub fn is_quick(self) -> bool {
        !matches!(self, Shape::Plain { .. } | Shape::BlockValue)
    }
}

/// The guess of each instruction of `code` that is an ordinary send whose
/// site's cache holds a quick or plain method, an Array's indexing
/// primitive or a block's `value` (other primitives are left to the cache
/// check at run time).
pub fn speculations(vm: &Vm, code: &[Instr]) -> Vec<Option<Speculation>> {
    code.iter()
        .map(|instr| {
            if instr.plan_handler() != Some(H::send) {
                return None;
            }
            let entry = vm.universe.caches.get(instr.site as usize)?;
            if entry.class == 0 {
                return None;
            }
            let info = vm.universe.infos.get(entry.method as usize)?;
            let shape = match (info.flags, info.quick_shape, instr.a) {
                (MethodInfo::PLAIN, _, _) => Shape::Plain {
                    num_temps: info.num_temps,
                    max_stack: info.max_stack,
                },
                (MethodInfo::QUICK, MethodInfo::QUICK_RETURN_SELF, _) => Shape::Receiver,
                (MethodInfo::QUICK, MethodInfo::QUICK_RETURN_CONSTANT, _) => {
                    Shape::Constant(info.quick_operand)
                }
                (MethodInfo::QUICK, MethodInfo::QUICK_RETURN_INST_VAR, 0) => {
                    Shape::Getter(info.quick_operand)
                }
                (MethodInfo::QUICK, MethodInfo::QUICK_STORE_INST_VAR, 1) => {
                    Shape::Setter(info.quick_operand)
                }
                (flags, _, args) if flags & MethodInfo::PRIMITIVE != 0 => {
                    known_primitive(vm, entry.class, entry.method, args)?
                }
                _ => return None,
            };
            Some(Speculation {
                class: entry.class,
                method: entry.method,
                shape,
            })
        })
        .collect()
}

/// The shape of `method` when it is one of the Array indexing primitives
/// and the receivers are Arrays, or a block's `value`... and the receivers
/// are BlockClosures.
fn known_primitive(vm: &Vm, class: u32, method: MethodRef, args: u32) -> Option<Shape> {
    let primitive = vm.universe.methods.get(method as usize)?.primitive?;
    match (class, primitive.key, args) {
        (classes::ARRAY, Key::Number(62), 0) => Some(Shape::ArraySize),
        (classes::ARRAY, Key::Number(60), 1) => Some(Shape::ArrayAt),
        (classes::ARRAY, Key::Number(61), 2) => Some(Shape::ArrayAtPut),
        (classes::BLOCK_CLOSURE, Key::Number(n), args) if n == 201 + args => {
            Some(Shape::BlockValue)
        }
        _ => None,
    }
}
