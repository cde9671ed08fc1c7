//! One module per `zag` command.

pub mod check;
