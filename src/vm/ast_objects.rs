//! `CompiledMethod>>ast`: a method's AST as Smalltalk objects of the
//! Pharo-visible node classes of `pharo-export/AST-Core` (RBMethodNode,
//! RBMessageNode, RBVariableNode...), built from its Zag AST once and kept
//! with the method. Image methods, which carry their printed source rather
//! than an AST, are parsed and converted again for it. Nodes live in old
//! space: built once, referenced from the method, never moved.

use zag_compiler::literal::Literal;
use zag_compiler::zag_ast::{self as z, Node, PrimitiveIndex, Var};

use super::method::{MethodRef, MethodSource};
use super::Vm;
use crate::memory::{self, Space};
use crate::object::{Format, Oop};

impl Vm {
    /// The AST object of a registered method (built on first request).
    pub(crate) fn method_ast_object(&mut self, m: MethodRef) -> Result<Oop, String> {
        let cached = self.methods[m as usize].ast_object;
        if cached != self.nil {
            return Ok(cached);
        }
        let ast = self.zag_ast_of(m)?;
        let mut builder = Builder {
            vm: self,
            method: &ast,
        };
        let node = builder.method()?;
        let method_object = self.methods[m as usize].object;
        self.set_field(node, "RBMethodNode", "compiledMethod", method_object);
        self.methods[m as usize].ast_object = node;
        Ok(node)
    }

    fn zag_ast_of(&self, m: MethodRef) -> Result<z::Method, String> {
        let method = &self.methods[m as usize];
        match &method.source {
            MethodSource::Ast(ast) => Ok((**ast).clone()),
            MethodSource::Image(text) => {
                let class = self
                    .classes
                    .get(method.class)
                    .ok_or("the method's class is gone")?;
                let (name, side) = if class.is_meta {
                    (self.classes.name(class.partner), true)
                } else {
                    (class.name.clone(), false)
                };
                let parsed = zag_compiler::parser::parse_method(text).map_err(|e| e.message)?;
                let scope = self.environment.class_scope(&name, side);
                zag_compiler::convert::convert_method(&parsed, &scope).map_err(|e| e.message)
            }
        }
    }

    fn set_field(&mut self, object: Oop, class: &str, field: &str, value: Oop) {
        let slot = self
            .classes
            .index_of(class)
            .and_then(|c| self.classes.get(c))
            .and_then(|c| c.inst_vars.iter().position(|v| v == field));
        if let Some(slot) = slot {
            memory::set_slot(object, slot, value);
        }
    }
}

struct Builder<'v, 'a> {
    vm: &'v mut Vm,
    method: &'a z::Method,
}

impl Builder<'_, '_> {
    /// A node of kernel class `class` with the given fields (old space).
    fn node(&mut self, class: &str, fields: &[(&str, Oop)]) -> Result<Oop, String> {
        let index = self
            .vm
            .classes
            .index_of(class)
            .ok_or_else(|| format!("the kernel has no {class}"))?;
        let slots = self.vm.classes.get(index).map_or(0, |c| c.inst_vars.len());
        let nil = self.vm.nil.bits();
        let object = self.vm.heap.allocate_old(index, Format::Fixed, slots, nil);
        for (field, value) in fields {
            self.vm.set_field(object, class, field, *value);
        }
        Ok(object)
    }

    fn array(&mut self, items: Vec<Oop>) -> Oop {
        self.vm.new_array(Space::Old, &items)
    }

    fn string(&mut self, text: &str) -> Oop {
        self.vm.new_string(Space::Old, text)
    }

    fn variable(&mut self, name: &str) -> Result<Oop, String> {
        let name = self.string(name);
        self.node("RBVariableNode", &[("name", name)])
    }

    fn local(&mut self, id: z::LocalId) -> Result<Oop, String> {
        let name = self.method.local(id).name.clone();
        self.variable(&name)
    }

    fn locals(&mut self, ids: &[z::LocalId]) -> Result<Oop, String> {
        let nodes = ids
            .iter()
            .map(|id| self.local(*id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.array(nodes))
    }

    fn literal(&mut self, literal: &Literal) -> Result<Oop, String> {
        let value = self.vm.literal(literal)?;
        self.node("RBLiteralValueNode", &[("value", value)])
    }

    fn method(&mut self) -> Result<Oop, String> {
        let m = self.method;
        let selector = self.vm.intern(&m.selector);
        let arguments = self.locals(&m.arguments)?;
        let mut pragmas = Vec::new();
        if let Some(p) = &m.primitive {
            let (name, args) = match &p.index {
                PrimitiveIndex::Number(n) => ("primitive:", vec![Literal::Integer(*n as i64)]),
                PrimitiveIndex::Named { name, module } => (
                    "primitive:module:",
                    vec![
                        Literal::String(name.clone()),
                        Literal::String(module.clone()),
                    ],
                ),
            };
            pragmas.push(self.pragma(name, &args)?);
        }
        for p in &m.pragmas {
            pragmas.push(self.pragma(&p.selector, &p.arguments)?);
        }
        let pragmas = self.array(pragmas);
        let body = self.sequence(&m.temporaries, &m.body)?;
        self.node(
            "RBMethodNode",
            &[
                ("selector", selector),
                ("arguments", arguments),
                ("body", body),
                ("pragmas", pragmas),
            ],
        )
    }

    fn pragma(&mut self, selector: &str, arguments: &[Literal]) -> Result<Oop, String> {
        let selector = self.vm.intern(selector);
        let nodes = arguments
            .iter()
            .map(|a| self.literal(a))
            .collect::<Result<Vec<_>, _>>()?;
        let arguments = self.array(nodes);
        self.node(
            "RBPragmaNode",
            &[("selector", selector), ("arguments", arguments)],
        )
    }

    fn sequence(&mut self, temporaries: &[z::LocalId], statements: &[Node]) -> Result<Oop, String> {
        let temporaries = self.locals(temporaries)?;
        let statements = self.nodes(statements)?;
        self.node(
            "RBSequenceNode",
            &[("temporaries", temporaries), ("statements", statements)],
        )
    }

    fn nodes(&mut self, nodes: &[Node]) -> Result<Oop, String> {
        let built = nodes
            .iter()
            .map(|n| self.expr(n))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.array(built))
    }

    fn var(&mut self, v: &Var) -> Result<Oop, String> {
        match v {
            Var::SelfRef => self.variable("self"),
            Var::Super => self.variable("super"),
            Var::ThisContext => self.variable("thisContext"),
            Var::Local(id) => self.local(*id),
            Var::InstVar { name, .. }
            | Var::ClassInstVar { name, .. }
            | Var::ClassVar { name, .. }
            | Var::PoolVar { name, .. }
            | Var::Global(name) => self.variable(name),
        }
    }

    fn message(
        &mut self,
        receiver: Oop,
        selector: &str,
        arguments: &[Node],
    ) -> Result<Oop, String> {
        let selector = self.vm.intern(selector);
        let arguments = self.nodes(arguments)?;
        self.node(
            "RBMessageNode",
            &[
                ("receiver", receiver),
                ("selector", selector),
                ("arguments", arguments),
            ],
        )
    }

    fn expr(&mut self, node: &Node) -> Result<Oop, String> {
        match node {
            Node::Literal(l, _) => self.literal(l),
            Node::Variable(v, _) => self.var(v),
            Node::Assign(v, value, _) => {
                let variable = self.var(v)?;
                let value = self.expr(value)?;
                self.node(
                    "RBAssignmentNode",
                    &[("variable", variable), ("value", value)],
                )
            }
            Node::Send(s) => {
                let receiver = self.expr(&s.receiver)?;
                self.message(receiver, &s.selector, &s.arguments)
            }
            Node::Cascade(c) => {
                let receiver = self.expr(&c.receiver)?;
                let messages = c
                    .messages
                    .iter()
                    .map(|m| self.message(receiver, &m.selector, &m.arguments))
                    .collect::<Result<Vec<_>, _>>()?;
                let messages = self.array(messages);
                self.node("RBCascadeNode", &[("messages", messages)])
            }
            Node::Brace(items, _) => {
                let statements = self.nodes(items)?;
                self.node("RBArrayNode", &[("statements", statements)])
            }
            Node::Block(b) => {
                let arguments = self.locals(&b.arguments)?;
                let body = self.sequence(&b.temporaries, &b.body)?;
                self.node("RBBlockNode", &[("arguments", arguments), ("body", body)])
            }
            Node::Return { value, .. } => {
                let value = self.expr(value)?;
                self.node("RBReturnNode", &[("value", value)])
            }
        }
    }
}
