//! Closures: the BlockClosure layout the VM defines, making a closure, and
//! the temp vectors that hold the variables closures share.

use super::*;

/// Closure slots (a VM-defined layout, which the kernel's BlockClosure
/// declares as its instance variables): then the copied values.
/// The home method activation: its id, and the index of its frame (see
/// `FrameRef`).
pub const CLOSURE_HOME: usize = 0;

pub const CLOSURE_HOME_INDEX: usize = 1;

pub const CLOSURE_METHOD: usize = 2;

pub const CLOSURE_UNIT: usize = 3;

pub const CLOSURE_NUM_ARGS: usize = 4;

pub const CLOSURE_RECEIVER: usize = 5;

pub const CLOSURE_FIXED: usize = 6;

pub(crate) extern "C-unwind" fn make_temp_vector(vm: &mut Vm, ip: Ip) -> Ip {
    let i = instr(ip);
    let vector = vm.allocate(classes::ARRAY, Format::Indexable, i.b as usize, i.operand);
    let at = vm.slot_index(i.a);
    vm.process.stack[at] = vector;
    next(ip)
}

pub(crate) extern "C-unwind" fn push_closure(vm: &mut Vm, ip: Ip) -> Ip {
    let i = instr(ip);
    let copied = i.b as usize;
    let closure = vm.allocate(
        classes::BLOCK_CLOSURE,
        Format::FixedIndexable,
        CLOSURE_FIXED + copied,
        vm.universe.nil.bits(),
    );
    let frame = *vm.frame();
    let num_args = vm.universe.methods[frame.method as usize].units[i.a as usize].num_args;
    let int = |v: u64| Oop::small_integer(v as i64).expect("small");
    let mut fixed = [vm.universe.nil; CLOSURE_FIXED];
    fixed[CLOSURE_HOME] = int(frame.home.id);
    fixed[CLOSURE_HOME_INDEX] = int(frame.home.index as u64);
    fixed[CLOSURE_METHOD] = int(frame.method as u64);
    fixed[CLOSURE_UNIT] = int(i.a as u64);
    fixed[CLOSURE_NUM_ARGS] = int(num_args as u64);
    fixed[CLOSURE_RECEIVER] = vm.process.stack[frame.base];
    memory::init_slots(closure, 0, &fixed);
    vm.pop_into(closure, CLOSURE_FIXED, copied);
    vm.push(closure);
    next(ip)
}
