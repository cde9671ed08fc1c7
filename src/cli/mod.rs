//! One module per `zag` command.

pub mod check;
pub mod eval;
