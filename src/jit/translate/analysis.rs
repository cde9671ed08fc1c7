//! What the translation knows of a unit before it emits anything: where
//! control goes after each instruction, the operand stack's depth there,
//! and which instructions are entries of the function.

use zag_compiler::lowering::Handler as H;

use super::{is_compare_and_jump, is_native, plan_kind, Result};
use crate::vm::method::Instr;

/// Where control may go after instruction `i`, each with the change of
/// the operand stack's depth on the way.
fn flow(code: &[Instr], i: usize) -> Vec<(usize, i64)> {
    let instr = &code[i];
    let kind = plan_kind(instr);
    let target = |at: usize| (at as i64 + code[at].a as i32 as i64) as usize;
    use H::*;
    match kind {
        return_self | return_temp | return_inst_var | return_constant | return_top
        | non_local_return => vec![],
        jump | jump_back => vec![(target(i), 0)],
        jump_if_true | jump_if_false | jump_if_nil | jump_if_not_nil => {
            vec![(i + 1, -1), (target(i), -1)]
        }
        // A comparison fused with the jump after it: the jump's target and
        // the instruction after the jump, or, when the comparison is an
        // ordinary send, the jump itself with the Boolean on the stack.
        k if is_compare_and_jump(k) => vec![(i + 1, -1), (i + 2, -2), (target(i + 1), -2)],
        // Fused assignments continue after the pop they include.
        pop_into_temp | pop_into_temp_chained | pop_into_inst_var | pop_into_inst_var_chained => {
            vec![(i + 2, -1)]
        }
        _ => vec![(i + 1, effect(kind, instr))],
    }
}

/// How an instruction that goes on to the next one changes the operand
/// stack's depth.
fn effect(kind: H, instr: &Instr) -> i64 {
    use H::*;
    let (a, b) = (instr.a as i64, instr.b as i64);
    match kind {
        // A send replaces the receiver and arguments with the answer.
        send | super_send => -a,
        // The special sends are binary.
        k if k.name().starts_with("send_") => -1,
        make_array => 1 - a,
        push_closure => 1 - b,
        pop | pop_chained => -1,
        k if k.name().starts_with("push_") || k.name().starts_with("dup") => 1,
        _ => 0,
    }
}

/// The operand stack's depth before each instruction, following the code
/// from its start; `None` where control never arrives. Code that reaches
/// an instruction with two depths, or leaves the unit, is refused.
pub(in crate::jit) fn stack_depths(code: &[Instr]) -> Result<Vec<Option<u32>>> {
    let n = code.len();
    let mut depths = vec![None; n];
    let mut work = vec![(0usize, 0i64)];
    while let Some((i, depth)) = work.pop() {
        if i >= n {
            return Err(format!("control leaves the unit after instruction {i}"));
        }
        let d = u32::try_from(depth)
            .map_err(|_| format!("the operand stack underflows at instruction {i}"))?;
        match depths[i] {
            Some(known) if known == d => continue,
            Some(known) => {
                return Err(format!(
                    "instruction {i} is reached with {known} and with {d} operands"
                ))
            }
            None => depths[i] = Some(d),
        }
        for (next, change) in flow(code, i) {
            work.push((next, depth + change));
        }
    }
    Ok(depths)
}

/// The instructions where the function may be entered: the first, every
/// jump target, and every instruction control may come back to after a
/// delegated one (its successors: fused handlers skip the instruction
/// they include); only those control reaches. (Should control come back
/// anywhere else, the copy's instruction there has the interpreter's
/// handler: the activation goes on interpreted.)
pub(in crate::jit) fn entries(code: &[Instr], depths: &[Option<u32>]) -> Vec<bool> {
    let n = code.len();
    let mut entry = vec![false; n];
    if n > 0 {
        entry[0] = true;
    }
    let mut mark = |at: usize| {
        if at < n {
            entry[at] = true;
        }
    };
    for i in 0..n {
        let next: Vec<usize> = flow(code, i).iter().map(|&(s, _)| s).collect();
        if next != [i + 1] || !is_native(plan_kind(&code[i])) {
            next.iter().for_each(|&s| mark(s));
        }
    }
    for (e, d) in entry.iter_mut().zip(depths) {
        *e &= d.is_some();
    }
    entry
}
