//! `CompiledMethod>>ast` for methods compiled at run time: their AST as
//! Smalltalk objects of the Pharo-visible node classes, made by the
//! compiler's shared builder (`zag_compiler::ast_objects`) in old space on
//! the first request and kept with the method. Image methods carry static
//! AST objects that build.rs laid out with the same builder.
//!
//! `RBParser` parses with the same front end and builder: the tree of a
//! method, or of a do-it's statements, that is compiled nowhere.

use zag_compiler::ast_objects::{self as builder, NodeClass, ObjectSpace};
use zag_compiler::environment::ClassScope;
use zag_compiler::literal::Literal;
use zag_compiler::{convert, parser, pharo_ast};

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

    /// The RBMethodNode of `source`, parsed as a method (`as_method`) or as
    /// a do-it's statements (a method `DoIt` whose body they are, with no
    /// implicit return). Names no scope declares are read as globals, as
    /// a parser that knows no class would. A syntax error is answered as
    /// its message and the byte offset where it was found.
    pub(crate) fn parsed_ast_object(
        &mut self,
        source: &str,
        as_method: bool,
    ) -> Result<Oop, (String, usize)> {
        let method = if as_method {
            parser::parse_method(source).map_err(|e| (e.message, e.offset))?
        } else {
            let body = parser::parse_doit(source).map_err(|e| (e.message, e.offset))?;
            pharo_ast::Method {
                selector: "DoIt".to_string(),
                selector_parts: Vec::new(),
                arguments: Vec::new(),
                pragmas: Vec::new(),
                span: body.span,
                body,
                comments: Vec::new(),
            }
        };
        let ast = convert::convert_method(&method, &ClassScope::empty())
            .map_err(|e| (e.message, e.offset))?;
        let nil = self.universe.nil;
        builder::method_node(&mut OldSpaceNodes { vm: self }, &ast, nil).map_err(|why| (why, 0))
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
