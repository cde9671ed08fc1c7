//! Lays out the image's threaded code: every method's instructions, as the
//! plan of `zag_compiler::lowering` gives them, in one static block
//! (`ImageDescription::code`) written as assembler lines in a
//! `global_asm!`, like the static objects. An instruction is the runtime's
//! `vm::method::Instr` (32 bytes): the handler's address (the symbol of the
//! interpreter function named by the plan), the operand (an immediate or a
//! static object's address), then `a`, `b`, the send site's number and
//! the handler's kind (its number in `lowering::Handler::ALL`, so the VM
//! and a JIT know what each instruction is without comparing addresses). Nothing in it differs between VMs: send sites are
//! numbered (each VM has the caches), and bindings too (each VM resolves
//! the variables by name at start-up).

use std::collections::{BTreeSet, HashMap};

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use zag_compiler::lowering::{Instruction, LoweredMethod, Operand};
use zag_compiler::threaded::Binding;

use super::static_space::{assembler_block, AssemblerBlock, Operands, Value};

/// A method's literal as an instruction operand uses it.
pub enum Literal {
    Value(Value),
    Binding(Binding),
}

#[derive(Default)]
pub struct StaticCode {
    lines: Vec<String>,
    handlers: BTreeSet<&'static str>,
    operands: Operands,
    send_sites: u32,
    bindings: Vec<Binding>,
    binding_numbers: HashMap<Binding, u32>,
}

/// The object an operand stands for in a method whose selector is the
/// static Symbol `selector` (none for `Operand::None` and bindings).
pub fn operand_value(
    operand: Operand,
    selector: Value,
    literals: &[Literal],
) -> Result<Option<Value>, String> {
    Ok(match operand {
        Operand::None | Operand::Binding(_) => None,
        Operand::Nil => Some(Value::Nil),
        Operand::True => Some(Value::True),
        Operand::False => Some(Value::False),
        Operand::MethodSelector => Some(selector),
        Operand::Literal(n) => match literals.get(n as usize) {
            Some(Literal::Value(v)) => Some(*v),
            _ => return Err(format!("internal error: literal {n} is no constant")),
        },
    })
}

/// Where a unit's instructions are in the block.
pub struct UnitCode {
    pub start: u32,
    pub length: u32,
}

impl StaticCode {
    /// Lays out the instructions of method number `index` (its place in
    /// the VM's registry, which the method entry names), whose selector is
    /// the static Symbol `selector` and literal frame `literals`.
    pub fn method(
        &mut self,
        plan: &LoweredMethod,
        index: usize,
        selector: Value,
        literals: &[Literal],
    ) -> Result<Vec<UnitCode>, String> {
        let mut units = Vec::with_capacity(plan.units.len());
        for (unit, code) in plan.units.iter().enumerate() {
            let start = self.lines.len() as u32;
            for (k, instruction) in code.iter().enumerate() {
                let entry = unit == 0 && k == 0;
                self.instruction(instruction, entry.then_some(index), selector, literals)?;
            }
            units.push(UnitCode {
                start,
                length: code.len() as u32,
            });
        }
        Ok(units)
    }

    fn instruction(
        &mut self,
        i: &Instruction,
        method_index: Option<usize>,
        selector: Value,
        literals: &[Literal],
    ) -> Result<(), String> {
        let mut a = i.a;
        let operand = match i.operand {
            Operand::Binding(n) => {
                let Some(Literal::Binding(b)) = literals.get(n as usize) else {
                    return Err(format!("internal error: literal {n} is no binding"));
                };
                a = self.binding_number(b);
                "0".to_string()
            }
            other => match operand_value(other, selector, literals)? {
                Some(value) => self.operands.value(value),
                None => "0".to_string(),
            },
        };
        // The method entry counts invocations in the method it names.
        if let Some(index) = method_index {
            a = index as u32;
        }
        let site = if i.send_site {
            self.send_sites += 1;
            self.send_sites
        } else {
            0
        };
        let (handler, kind) = (i.handler.name(), i.handler.kind());
        self.handlers.insert(handler);
        self.lines.push(format!(
            ".quad {{{handler}}}, {operand}\n.long {a}, {b}, {site}, {kind}",
            b = i.b
        ));
        Ok(())
    }

    fn binding_number(&mut self, binding: &Binding) -> u32 {
        if let Some(&n) = self.binding_numbers.get(binding) {
            return n;
        }
        let n = self.bindings.len() as u32;
        self.bindings.push(binding.clone());
        self.binding_numbers.insert(binding.clone(), n);
        n
    }

    /// How many send sites the code has (numbered from 1).
    pub fn send_sites(&self) -> u32 {
        self.send_sites
    }

    /// The bindings, in number order, as `BindingDescription` tokens.
    pub fn binding_tokens(&self) -> TokenStream {
        let bindings = self.bindings.iter().map(|b| match b {
            Binding::Global(name) => quote!(BindingDescription::Global(#name)),
            Binding::ClassVar { class, name } => {
                quote!(BindingDescription::ClassVariable(#class, #name))
            }
            Binding::PoolVar { pool, name } => {
                quote!(BindingDescription::PoolVariable(#pool, #name))
            }
        });
        quote!(&[#(#bindings),*])
    }

    /// The block: an `extern` declaration of `CODE` and the assembler
    /// that lays it out.
    pub fn tokens(&self) -> TokenStream {
        let objects = self
            .operands
            .objects_used
            .then(|| quote!(objects = sym OBJECTS));
        let handlers = self.handlers.iter().map(|name| {
            let name = Ident::new(name, Span::call_site());
            quote!(#name = sym crate::vm::interpreter::#name)
        });
        let operands: Vec<TokenStream> = objects
            .into_iter()
            .chain(self.operands.declarations())
            .chain(handlers)
            .collect();
        assembler_block(
            AssemblerBlock {
                label: "code",
                name: "CODE",
                link_name: "zag_image_code",
                element: quote!(Instr),
                doc: "The image's threaded code (laid out below).",
            },
            &self.lines,
            &operands,
        )
    }
}
