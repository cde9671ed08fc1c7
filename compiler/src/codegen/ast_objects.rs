//! A method's AST as Smalltalk objects of the Pharo-visible node classes
//! (`RBMethodNode`, `RBMessageNode`, `RBVariableNode`... of
//! `pharo-export/AST-Core`): what `CompiledMethod>>ast` answers.
//!
//! One builder serves both places that make these objects: build.rs lays
//! them out as static objects of the image, and the runtime allocates them
//! for methods compiled at run time. Each implements [`ObjectSpace`].

use crate::literal::Literal;
use crate::zag_ast::{self as z, Node, PrimitiveIndex, Var};

/// The node classes the builder instantiates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeClass {
    Method,
    Sequence,
    Message,
    Cascade,
    Variable,
    LiteralValue,
    Assignment,
    Return,
    Block,
    Array,
    Pragma,
}

impl NodeClass {
    /// Every node class, in declaration order (`class as usize` is its
    /// place here).
    pub const ALL: [NodeClass; 11] = [
        NodeClass::Method,
        NodeClass::Sequence,
        NodeClass::Message,
        NodeClass::Cascade,
        NodeClass::Variable,
        NodeClass::LiteralValue,
        NodeClass::Assignment,
        NodeClass::Return,
        NodeClass::Block,
        NodeClass::Array,
        NodeClass::Pragma,
    ];

    /// The kernel's class name.
    pub fn name(self) -> &'static str {
        match self {
            NodeClass::Method => "RBMethodNode",
            NodeClass::Sequence => "RBSequenceNode",
            NodeClass::Message => "RBMessageNode",
            NodeClass::Cascade => "RBCascadeNode",
            NodeClass::Variable => "RBVariableNode",
            NodeClass::LiteralValue => "RBLiteralValueNode",
            NodeClass::Assignment => "RBAssignmentNode",
            NodeClass::Return => "RBReturnNode",
            NodeClass::Block => "RBBlockNode",
            NodeClass::Array => "RBArrayNode",
            NodeClass::Pragma => "RBPragmaNode",
        }
    }
}

/// Where the objects go. Objects are made children first, so a space can
/// lay each one out whole.
pub trait ObjectSpace {
    type Object: Copy;

    fn symbol(&mut self, name: &str) -> Self::Object;
    /// A literal's value, read-only as a compiled literal is.
    fn literal(&mut self, literal: &Literal) -> Result<Self::Object, String>;
    fn array(&mut self, items: &[Self::Object]) -> Self::Object;
    /// An instance of `class` with the named instance variables set (the
    /// others nil).
    fn node(
        &mut self,
        class: NodeClass,
        fields: &[(&str, Self::Object)],
    ) -> Result<Self::Object, String>;
}

/// The RBMethodNode of `method`, whose `compiledMethod` is `compiled`.
pub fn method_node<S: ObjectSpace>(
    space: &mut S,
    method: &z::Method,
    compiled: S::Object,
) -> Result<S::Object, String> {
    Builder { space, method }.method(compiled)
}

struct Builder<'s, 'm, S> {
    space: &'s mut S,
    method: &'m z::Method,
}

impl<S: ObjectSpace> Builder<'_, '_, S> {
    fn method(&mut self, compiled: S::Object) -> Result<S::Object, String> {
        let m = self.method;
        let arguments = self.locals(&m.arguments)?;
        let mut pragmas = Vec::new();
        if let Some(p) = &m.primitive {
            let (mut selector, mut args) = match &p.index {
                PrimitiveIndex::Number(n) => {
                    ("primitive:".to_string(), vec![Literal::Integer(*n as i64)])
                }
                PrimitiveIndex::Named { name, module } if module.is_empty() => (
                    "primitive:".to_string(),
                    vec![Literal::String(name.clone())],
                ),
                PrimitiveIndex::Named { name, module } => (
                    "primitive:module:".to_string(),
                    vec![
                        Literal::String(name.clone()),
                        Literal::String(module.clone()),
                    ],
                ),
            };
            // `error: ec` names the temporary by a Symbol, as in Pharo.
            if let Some(ec) = p.error_code {
                selector.push_str("error:");
                args.push(Literal::Symbol(m.local(ec).name.clone()));
            }
            pragmas.push(self.pragma(&selector, &args)?);
        }
        for p in &m.pragmas {
            pragmas.push(self.pragma(&p.selector, &p.arguments)?);
        }
        let pragmas = self.space.array(&pragmas);
        let body = self.sequence(&m.temporaries, &m.body)?;
        let selector = self.space.symbol(&m.selector);
        self.space.node(
            NodeClass::Method,
            &[
                ("selector", selector),
                ("arguments", arguments),
                ("body", body),
                ("pragmas", pragmas),
                ("compiledMethod", compiled),
            ],
        )
    }

    fn pragma(&mut self, selector: &str, arguments: &[Literal]) -> Result<S::Object, String> {
        let nodes = arguments
            .iter()
            .map(|a| self.literal(a))
            .collect::<Result<Vec<_>, _>>()?;
        let arguments = self.space.array(&nodes);
        let selector = self.space.symbol(selector);
        self.space.node(
            NodeClass::Pragma,
            &[("selector", selector), ("arguments", arguments)],
        )
    }

    fn sequence(
        &mut self,
        temporaries: &[z::LocalId],
        statements: &[Node],
    ) -> Result<S::Object, String> {
        let temporaries = self.locals(temporaries)?;
        let statements = self.nodes(statements)?;
        self.space.node(
            NodeClass::Sequence,
            &[("temporaries", temporaries), ("statements", statements)],
        )
    }

    fn nodes(&mut self, nodes: &[Node]) -> Result<S::Object, String> {
        let built = nodes
            .iter()
            .map(|n| self.expr(n))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.space.array(&built))
    }

    /// A variable node; its name is a Symbol, as in Pharo.
    fn variable(&mut self, name: &str) -> Result<S::Object, String> {
        let name = self.space.symbol(name);
        self.space.node(NodeClass::Variable, &[("name", name)])
    }

    fn locals(&mut self, ids: &[z::LocalId]) -> Result<S::Object, String> {
        let method = self.method;
        let nodes = ids
            .iter()
            .map(|id| self.variable(&method.local(*id).name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.space.array(&nodes))
    }

    fn literal(&mut self, literal: &Literal) -> Result<S::Object, String> {
        let value = self.space.literal(literal)?;
        self.space
            .node(NodeClass::LiteralValue, &[("value", value)])
    }

    fn var(&mut self, v: &Var) -> Result<S::Object, String> {
        match v {
            Var::SelfRef => self.variable("self"),
            Var::Super => self.variable("super"),
            Var::ThisContext => self.variable("thisContext"),
            Var::Local(id) => {
                let method = self.method;
                self.variable(&method.local(*id).name)
            }
            Var::InstVar { name, .. }
            | Var::ClassInstVar { name, .. }
            | Var::ClassVar { name, .. }
            | Var::PoolVar { name, .. }
            | Var::Global(name) => self.variable(name),
        }
    }

    fn message(
        &mut self,
        receiver: S::Object,
        selector: &str,
        arguments: &[Node],
    ) -> Result<S::Object, String> {
        let arguments = self.nodes(arguments)?;
        let selector = self.space.symbol(selector);
        self.space.node(
            NodeClass::Message,
            &[
                ("receiver", receiver),
                ("selector", selector),
                ("arguments", arguments),
            ],
        )
    }

    fn expr(&mut self, node: &Node) -> Result<S::Object, String> {
        match node {
            Node::Literal(l, _) => self.literal(l),
            Node::Variable(v, _) => self.var(v),
            Node::Assign(v, value, _) => {
                let variable = self.var(v)?;
                let value = self.expr(value)?;
                self.space.node(
                    NodeClass::Assignment,
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
                let messages = self.space.array(&messages);
                self.space
                    .node(NodeClass::Cascade, &[("messages", messages)])
            }
            Node::Brace(items, _) => {
                let statements = self.nodes(items)?;
                self.space
                    .node(NodeClass::Array, &[("statements", statements)])
            }
            Node::Block(b) => {
                let arguments = self.locals(&b.arguments)?;
                let body = self.sequence(&b.temporaries, &b.body)?;
                let mut fields = vec![("arguments", arguments), ("body", body)];
                // A real block names its code unit, so that a closure can
                // find its node (`BlockClosure>>sourceNode`); an inlined
                // one has none.
                if !b.inlined {
                    let unit = self.space.literal(&Literal::Integer(b.scope as i64))?;
                    fields.push(("codeUnit", unit));
                }
                self.space.node(NodeClass::Block, &fields)
            }
            Node::Return { value, .. } => {
                let value = self.expr(value)?;
                self.space.node(NodeClass::Return, &[("value", value)])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NodeClass;

    #[test]
    fn all_lists_the_node_classes_in_declaration_order() {
        for (i, class) in NodeClass::ALL.into_iter().enumerate() {
            assert_eq!(class as usize, i, "{}", class.name());
        }
    }
}
