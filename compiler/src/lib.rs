//! The Zag front end, shared by build.rs (which bakes the image) and the
//! runtime (eval, the REPL, file-in):
//!
//! ```text
//! Tonel files --tonel--> method sources --parser--> Pharo AST
//!     --convert (with the class environment)--> Zag AST --printer--> source
//! ```
//!
//! See ARCHITECTURE.md for how the stages fit together.

pub mod ast_objects;
pub mod bigint;
pub mod convert;
pub mod environment;
pub mod import;
pub mod lexer;
pub mod literal;
pub mod lowering;
pub mod number;
pub mod parallel;
pub mod parser;
pub mod pharo_ast;
pub mod printer;
pub mod source;
pub mod threaded;
pub mod tonel;
pub mod traits;
pub mod zag_ast;
