//! The image baked into the binary by build.rs, and the start-up that links
//! it into a running VM.
//!
//! build.rs reads `pharo-export/` (and the folders in `ZAG_EXPORTS`),
//! compiles every method to threaded code, and writes `$OUT_DIR/image.rs`:
//! a `static` [`ImageDescription`] holding the classes and the compiled
//! methods (their ops, literal descriptions and source). Start-up does no
//! parsing and no compiling: [`boot`] creates the classes and lowers each
//! method's static ops to runtime instructions.

use std::collections::HashMap;

use zag_compiler::bigint::BigInt;
use zag_compiler::environment::ClassShape;
use zag_compiler::literal::{Float, Literal};
use zag_compiler::threaded::Op;
use zag_compiler::tonel::Layout;

use crate::object::Oop;
use crate::vm::method::{self, MethodParts, MethodSource, UnitParts};
use crate::vm::{loader, Vm};

pub struct ImageDescription {
    /// Classes, each after its superclass.
    pub classes: &'static [ClassDescription],
    pub methods: &'static [MethodDescription],
}

pub struct ClassDescription {
    pub name: &'static str,
    pub superclass: Option<&'static str>,
    pub inst_vars: &'static [&'static str],
    pub class_vars: &'static [&'static str],
    pub class_inst_vars: &'static [&'static str],
    pub pools: &'static [&'static str],
    pub layout: Layout,
    pub package: &'static str,
    /// Pharo's class category (`Kernel-Classes`).
    pub category: &'static str,
}

pub struct MethodDescription {
    pub class: &'static str,
    pub class_side: bool,
    pub selector: &'static str,
    pub primitive: u32,
    pub primitive_error_slot: Option<u16>,
    pub literals: &'static [LiteralDescription],
    pub units: &'static [UnitDescription],
    /// The method's source, printed from its AST at build time.
    pub source: &'static str,
}

pub struct UnitDescription {
    pub num_args: u16,
    pub num_copied: u16,
    pub num_temps: u16,
    pub max_stack: u16,
    pub code: &'static [Op],
}

/// An entry of a method's literal frame, in a form a `static` can hold.
pub enum LiteralDescription {
    Nil,
    True,
    False,
    Integer(i64),
    LargeInteger {
        negative: bool,
        magnitude: &'static [u32],
    },
    /// The bits of an `f64`.
    Float(u64),
    Character(char),
    String(&'static str),
    Symbol(&'static str),
    Array(&'static [LiteralDescription]),
    ByteArray(&'static [u8]),
    ScaledDecimal {
        negative: bool,
        magnitude: &'static [u32],
        decimals: u32,
        scale: u32,
    },
    Selector(&'static str),
    Global(&'static str),
    ClassVariable(&'static str, &'static str),
    PoolVariable(&'static str, &'static str),
}

mod generated {
    #![allow(clippy::all)]
    use super::*;
    include!(concat!(env!("OUT_DIR"), "/image.rs"));
}

pub use generated::IMAGE;

/// A VM holding the image: its classes, and its methods ready to run.
pub fn boot() -> Result<Vm, String> {
    boot_from(&IMAGE)
}

pub fn boot_from(image: &ImageDescription) -> Result<Vm, String> {
    let mut vm = Vm::new();
    for c in image.classes {
        vm.environment.add(ClassShape {
            name: c.name.to_string(),
            superclass: c.superclass.map(str::to_string),
            inst_vars: strings(c.inst_vars),
            class_vars: strings(c.class_vars),
            class_inst_vars: strings(c.class_inst_vars),
            pools: strings(c.pools),
            is_trait: false,
        });
    }
    let env = vm.environment.clone();
    for c in image.classes {
        let class = loader::NewClass {
            name: c.name,
            superclass: c.superclass,
            class_vars: &strings(c.class_vars),
            layout: c.layout,
            package: c.package,
            category: c.category,
        };
        loader::define_class(&mut vm, &class, &env);
    }
    loader::connect_root_metaclasses(&mut vm);
    let mut class_indices = HashMap::new();
    for m in image.methods {
        let class_name = if m.class_side {
            format!("{} class", m.class)
        } else {
            m.class.to_string()
        };
        let class = *class_indices
            .entry(class_name.clone())
            .or_insert_with(|| vm.classes.index_of(&class_name));
        let class = class
            .ok_or_else(|| format!("image method {class_name}>>{} has no class", m.selector))?;
        let literals = m
            .literals
            .iter()
            .map(|l| literal_object(&mut vm, l))
            .collect::<Result<Vec<Oop>, String>>()
            .map_err(|e| format!("{class_name}>>{}: {e}", m.selector))?;
        let parts = MethodParts {
            selector: m.selector,
            primitive: m.primitive,
            primitive_error_slot: m.primitive_error_slot,
            literals,
            units: m
                .units
                .iter()
                .map(|u| UnitParts {
                    num_args: u.num_args,
                    num_copied: u.num_copied,
                    num_temps: u.num_temps,
                    max_stack: u.max_stack,
                    code: u.code,
                })
                .collect(),
            source: MethodSource::Image(m.source),
        };
        let method = method::lower_parts(&mut vm, parts, class);
        vm.install(method);
    }
    let order: Vec<_> = image
        .classes
        .iter()
        .filter_map(|c| vm.classes.index_of(c.name))
        .collect();
    vm.initialize_classes(&order)
        .map_err(|e| format!("class initialization failed: {e}"))?;
    Ok(vm)
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn literal_object(vm: &mut Vm, l: &LiteralDescription) -> Result<Oop, String> {
    use LiteralDescription as L;
    Ok(match l {
        L::Selector(s) => vm.intern(s),
        L::Global(name) => vm.global_binding(name),
        L::ClassVariable(class, name) | L::PoolVariable(class, name) => vm
            .class_variable(class, name)
            .ok_or_else(|| format!("variable {class}>>{name} is not defined"))?,
        other => vm.literal(&literal_value(other))?,
    })
}

fn literal_value(l: &LiteralDescription) -> Literal {
    use LiteralDescription as L;
    match l {
        L::Nil => Literal::Nil,
        L::True => Literal::True,
        L::False => Literal::False,
        L::Integer(i) => Literal::Integer(*i),
        L::LargeInteger {
            negative,
            magnitude,
        } => Literal::LargeInteger(BigInt::from_parts(*negative, magnitude.to_vec())),
        L::Float(bits) => Literal::Float(Float(f64::from_bits(*bits))),
        L::Character(c) => Literal::Character(*c),
        L::String(s) => Literal::String(s.to_string()),
        L::Symbol(s) => Literal::Symbol(s.to_string()),
        L::Array(items) => Literal::Array(items.iter().map(literal_value).collect()),
        L::ByteArray(b) => Literal::ByteArray(b.to_vec()),
        L::ScaledDecimal {
            negative,
            magnitude,
            decimals,
            scale,
        } => Literal::ScaledDecimal {
            mantissa: BigInt::from_parts(*negative, magnitude.to_vec()),
            decimals: *decimals,
            scale: *scale,
        },
        L::Selector(_) | L::Global(_) | L::ClassVariable(..) | L::PoolVariable(..) => {
            unreachable!("bindings are handled by literal_object")
        }
    }
}
