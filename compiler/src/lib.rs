//! The Zag front end and code generator, shared by build.rs (which bakes
//! the image) and the runtime (eval, the REPL, file-in). It has no
//! dependencies. The stages, each a module:
//!
//! ```text
//! syntax:     Tonel files --tonel--> method sources --lexer, parser--> Pharo AST
//! semantics:  Pharo AST --convert (with the class environment)--> Zag AST
//!             (traits flattened; printer: Zag AST --> Pharo source)
//! codegen:    Zag AST --threaded--> stack ops --lowering--> instruction plan
//!             Zag AST --ast_objects--> RB*Node objects
//! ```
//!
//! Beside them: [`literal`] (the literal values both ASTs and the code
//! carry) with [`bigint`] (arbitrary-precision integers, for literals and
//! the VM's LargeInteger primitives), and [`import`], which runs the first
//! two stages over folders of Tonel packages (`zag check`, build.rs, the
//! run-time loader), in parallel with [`parallel`].
//!
//! Every stage's modules are also re-exported here, so
//! `zag_compiler::lexer`, `zag_compiler::lowering` and so on name them
//! directly. See ARCHITECTURE.md for how the stages fit together.

pub mod codegen;
pub mod semantics;
pub mod syntax;

pub mod bigint;
pub mod import;
pub mod literal;
pub mod parallel;

pub use codegen::{ast_objects, lowering, threaded};
pub use semantics::{convert, environment, printer, traits, undeclared, zag_ast};
pub use syntax::{lexer, number, parser, pharo_ast, source, tonel};
