//! The Pharo AST: what the parser produces, with full fidelity.
//!
//! It mirrors Pharo's RB AST (RBMethodNode, RBMessageNode, ...): every node has
//! its [`Span`], every comment of a method is kept with its span, pragmas are
//! kept as written, and `self`/`super`/`thisContext` are plain variable nodes.
//! Name resolution and the other simplifications happen in the conversion to
//! the Zag AST ([`crate::convert`]).

use crate::literal::Literal;
use crate::source::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Method {
    pub selector: String,
    /// Spans of the selector's keywords (or of its one unary/binary part).
    pub selector_parts: Vec<Span>,
    pub arguments: Vec<Ident>,
    pub pragmas: Vec<Pragma>,
    pub body: Sequence,
    /// Every comment in the method, in source order, quotes excluded.
    pub comments: Vec<Comment>,
    /// From the start of the selector pattern to the end of the body.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// `<keyword: literal ...>`: `<primitive: 60>`, `<primitive: 60 error: ec>`,
/// `<primitive: 'name' module: 'm'>`, or any other pragma.
#[derive(Clone, Debug, PartialEq)]
pub struct Pragma {
    pub selector: String,
    pub arguments: Vec<PragmaArgument>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PragmaArgument {
    Literal(Literal, Span),
    /// A bare name, as in `error: ec` (declares a temporary).
    Name(Ident),
}

/// Temporaries and statements, as in a method or block body.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    pub temporaries: Vec<Ident>,
    pub statements: Vec<Statement>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Expression(Expr),
    Return(Expr, Span),
}

impl Statement {
    pub fn span(&self) -> Span {
        match self {
            Statement::Expression(e) => e.span(),
            Statement::Return(_, s) => *s,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A name: a variable, or `self`, `super`, `thisContext`.
    Variable(Ident),
    /// Any literal, including `nil`, `true` and `false`.
    Literal(Literal, Span),
    Assignment(Ident, Box<Expr>, Span),
    Message(Message),
    Cascade(Cascade),
    Block(Block),
    /// `{ a. b }`
    BraceArray(Vec<Statement>, Span),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Variable(i) => i.span,
            Expr::Literal(_, s) | Expr::Assignment(_, _, s) | Expr::BraceArray(_, s) => *s,
            Expr::Message(m) => m.span,
            Expr::Cascade(c) => c.span,
            Expr::Block(b) => b.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub receiver: Box<Expr>,
    pub selector: String,
    /// Spans of the selector's keywords (or of its one unary/binary part).
    pub selector_parts: Vec<Span>,
    pub arguments: Vec<Expr>,
    pub span: Span,
}

/// `receiver msg1; msg2; ...`: every message goes to the same receiver.
#[derive(Clone, Debug, PartialEq)]
pub struct Cascade {
    pub receiver: Box<Expr>,
    pub messages: Vec<CascadeMessage>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CascadeMessage {
    pub selector: String,
    /// Spans of the selector's keywords (or of its one unary/binary part).
    pub selector_parts: Vec<Span>,
    pub arguments: Vec<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub arguments: Vec<Ident>,
    pub body: Sequence,
    pub span: Span,
}
