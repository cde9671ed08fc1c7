//! `CompiledMethod>>ast` for methods compiled at run time: their AST as
//! Smalltalk objects of the Pharo-visible node classes, made by the
//! compiler's shared builder (`zag_compiler::ast_objects`) in old space on
//! the first request and kept with the method. Image methods carry static
//! AST objects that build.rs laid out with the same builder.

use zag_compiler::ast_objects::{self as builder, NodeClass, ObjectSpace};
use zag_compiler::literal::Literal;

use super::classes;
use super::method::{MethodRef, MethodSource};
use super::Vm;
use crate::memory::{self, Space};
use crate::object::{Format, Oop};

impl Vm {
    /// The AST object of a registered method (built on first request).
    pub(crate) fn method_ast_object(&mut self, m: MethodRef) -> Result<Oop, String> {
        let method = &self.universe.methods[m as usize];
        if method.ast_object != self.universe.nil {
            return Ok(method.ast_object);
        }
        let MethodSource::Ast(ast) = &method.source else {
            return Err("the image was built without the AST node classes".to_string());
        };
        let (ast, compiled) = (ast.clone(), method.object);
        let node = builder::method_node(&mut OldSpaceNodes { vm: self }, &ast, compiled)?;
        self.universe.methods[m as usize].ast_object = node;
        Ok(node)
    }
}

/// Node objects allocated in old space: built once, referenced from the
/// method, never moved.
struct OldSpaceNodes<'v> {
    vm: &'v mut Vm,
}

impl ObjectSpace for OldSpaceNodes<'_> {
    type Object = Oop;

    fn symbol(&mut self, name: &str) -> Oop {
        self.vm.intern(name)
    }

    fn literal(&mut self, literal: &Literal) -> Result<Oop, String> {
        self.vm.literal(literal)
    }

    fn array(&mut self, items: &[Oop]) -> Oop {
        self.vm.new_array(Space::Old, items)
    }

    fn node(&mut self, class: NodeClass, fields: &[(&str, Oop)]) -> Result<Oop, String> {
        let index = classes::ast_node_class(class);
        let Some(definition) = self.vm.universe.classes.get(index) else {
            return Err(format!("the kernel has no {}", class.name()));
        };
        let variables = &definition.inst_vars;
        let nil = self.vm.universe.nil.bits();
        let object = self
            .vm
            .heap
            .allocate_old(index, Format::Fixed, variables.len(), nil);
        for (field, value) in fields {
            if let Some(slot) = variables.position(field) {
                memory::init_slot(object, slot, *value);
            }
        }
        Ok(object)
    }
}
