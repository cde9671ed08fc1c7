//! The Zag AST: the simpler, resolved form the back ends consume.
//!
//! Compared with the Pharo AST ([`crate::pharo_ast`]): comments are gone,
//! pragmas are split into the primitive and the rest, every name is resolved
//! to what it denotes ([`Var`]), every local (argument or temporary of the
//! method or of any block) is declared once in [`Method::locals`] and referred
//! to by index, and each block records what it captures and how it returns.
//! Blocks that the compiler inlines (literal blocks of `ifTrue:`, `whileTrue:`,
//! `to:do:`...) are marked, and their locals belong to the enclosing scope.
//!
//! Positions are kept ([`Pos`]) but are not part of a node's identity: two
//! ASTs that differ only in layout compare equal, which is what the source
//! round trip checks.

/// A byte offset in the method's source; always equal to any other `Pos`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pos(pub u32);

impl PartialEq for Pos {
    fn eq(&self, _: &Pos) -> bool {
        true
    }
}

pub use crate::literal::Literal;

/// Index into [`Method::locals`].
pub type LocalId = u16;

/// Index of a scope: 0 is the method, then blocks in source order.
pub type ScopeId = u16;

#[derive(Clone, Debug, PartialEq)]
pub struct Method {
    /// The class (or trait) the method is compiled in, instance-side name.
    pub class_name: String,
    pub class_side: bool,
    pub selector: String,
    pub arguments: Vec<LocalId>,
    pub temporaries: Vec<LocalId>,
    pub primitive: Option<Primitive>,
    /// Pragmas other than `<primitive:...>`, in source order.
    pub pragmas: Vec<Pragma>,
    pub body: Vec<Node>,
    /// Every argument and temporary of the method and its blocks.
    pub locals: Vec<Local>,
    /// The method reads `thisContext` somewhere (it needs a real context).
    pub uses_this_context: bool,
    pub pos: Pos,
}

impl Method {
    pub fn local(&self, id: LocalId) -> &Local {
        &self.locals[id as usize]
    }

    pub fn num_args(&self) -> usize {
        self.arguments.len()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Local {
    pub name: String,
    pub kind: LocalKind,
    /// The scope (method or real block) whose frame holds the variable: for
    /// a local declared in an inlined block, the enclosing real scope.
    pub scope: ScopeId,
    /// A block other than its own scope reads or writes it.
    pub captured: bool,
    /// A block other than its own scope writes it: it must live in a shared
    /// (heap) cell, not be copied into the closure.
    pub written_by_closure: bool,
    /// Assigned anywhere after its declaration (arguments never are).
    pub assigned: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalKind {
    Argument,
    Temporary,
    /// The `ec` of `<primitive: N error: ec>`: holds the failure code.
    PrimitiveError,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Primitive {
    pub index: PrimitiveIndex,
    /// The `ec` of `error: ec`, which receives the failure code.
    pub error_code: Option<LocalId>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PrimitiveIndex {
    /// `<primitive: 60>`
    Number(u32),
    /// `<primitive: 'name' module: 'module'>`; the module is empty for
    /// `<primitive: 'name'>` (a primitive of the VM itself).
    Named { name: String, module: String },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pragma {
    pub selector: String,
    pub arguments: Vec<Literal>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Literal(Literal, Pos),
    Variable(Var, Pos),
    Assign(Var, Box<Node>, Pos),
    Send(Send),
    Cascade(Cascade),
    /// `{ a. b }`
    Brace(Vec<Node>, Pos),
    Block(Box<Block>),
    /// `^ value`: a local return from the method, or a non-local one from
    /// the home method when written inside a real (not inlined) block.
    Return {
        value: Box<Node>,
        non_local: bool,
        pos: Pos,
    },
}

impl Node {
    /// Calls `f` on each direct sub-node, in evaluation order (a block's
    /// statements count as its children).
    pub fn for_each_child<'a>(&'a self, mut f: impl FnMut(&'a Node)) {
        match self {
            Node::Literal(..) | Node::Variable(..) => {}
            Node::Assign(_, value, _) | Node::Return { value, .. } => f(value),
            Node::Send(s) => {
                f(&s.receiver);
                s.arguments.iter().for_each(f);
            }
            Node::Cascade(c) => {
                f(&c.receiver);
                c.messages.iter().flat_map(|m| &m.arguments).for_each(f);
            }
            Node::Brace(items, _) => items.iter().for_each(f),
            Node::Block(b) => b.body.iter().for_each(f),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Send {
    pub receiver: Box<Node>,
    pub selector: String,
    pub arguments: Vec<Node>,
    /// `super foo`: looked up from the superclass of the method's class.
    pub is_super: bool,
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cascade {
    pub receiver: Box<Node>,
    pub messages: Vec<CascadeMessage>,
    /// The receiver is `super`: every message is a super send.
    pub is_super: bool,
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CascadeMessage {
    pub selector: String,
    pub arguments: Vec<Node>,
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub scope: ScopeId,
    pub arguments: Vec<LocalId>,
    pub temporaries: Vec<LocalId>,
    pub body: Vec<Node>,
    /// A literal block argument of a control selector, compiled inline.
    pub inlined: bool,
    /// Locals of enclosing scopes this (real) block uses; empty when inlined.
    pub captures: Vec<Capture>,
    /// Uses `self`, `super`, an instance variable or `thisContext`.
    pub uses_self: bool,
    /// Contains `^`, itself or in a nested block.
    pub has_non_local_return: bool,
    pub pos: Pos,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capture {
    pub local: LocalId,
    /// The block assigns it (so it is shared, not copied).
    pub written: bool,
}

/// What a name denotes, resolved at compile time.
#[derive(Clone, Debug, PartialEq)]
pub enum Var {
    SelfRef,
    Super,
    ThisContext,
    /// An argument or temporary of this method or one of its blocks.
    Local(LocalId),
    /// An instance variable of the receiver; `index` is 0-based and counts
    /// the variables inherited from superclasses, across packages.
    InstVar {
        index: u32,
        name: String,
    },
    /// A class-side instance variable, in a class-side method. `index` is
    /// 0-based within the class-instance-variable area (inherited ones
    /// first); the runtime adds the size of its Class layout.
    ClassInstVar {
        index: u32,
        name: String,
    },
    /// A class variable, with the class that defines it.
    ClassVar {
        class: String,
        name: String,
    },
    /// A variable of a shared pool the class uses.
    PoolVar {
        pool: String,
        name: String,
    },
    /// Anything else: a global (a class name, `Smalltalk`, `Transcript`...),
    /// looked up when the method runs.
    Global(String),
}
