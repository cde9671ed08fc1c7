//! Stage 1, syntax: source text to the full-fidelity Pharo AST.
//!
//! [`tonel`] splits a Tonel file into its class definition and method
//! sources; [`lexer`] scans them into tokens, [`number`] decodes number
//! literals, and [`parser`] builds the [`pharo_ast`] (spans, comments,
//! pragmas). [`source`] holds the spans and the diagnostics that point
//! into the text.

pub mod lexer;
pub mod number;
pub mod parser;
pub mod pharo_ast;
pub mod source;
pub mod tonel;
