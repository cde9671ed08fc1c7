//! Stage 2, semantics: the Pharo AST to the resolved Zag AST.
//!
//! [`environment`] holds every class and trait loaded and the name scopes
//! derived from them; [`convert`] resolves each method's names against it
//! and analyses its blocks (inlined or real, what they capture), giving
//! the [`zag_ast`]; [`traits`] flattens trait compositions into the using
//! classes; [`printer`] prints a Zag AST back to Pharo source (a method's
//! source code, and the round-trip check); [`undeclared`] reports the
//! names methods use that nothing declares.

pub mod convert;
pub mod environment;
pub mod printer;
pub mod traits;
pub mod undeclared;
pub mod zag_ast;
