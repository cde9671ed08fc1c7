//! Undeclared variables: a name a method uses that is no variable of its
//! own, of its class or of a pool, and no global. Pharo compiles such a
//! name as a variable of `Undeclared` (nil until something assigns it)
//! and reports it; so do we: `zag check`, the build and `--load` warn
//! with the name's location. Assigning to a class, which Pharo refuses
//! ("Cannot store into"), is an error.
//!
//! What counts as declared is the caller's to say (the classes and
//! globals of the image it extends, or of the VM it loads into), and
//! [`initialized_globals`]: the globals a class-side `initialize` method
//! assigns, the way the kernel makes `Transcript`, `Smalltalk` and
//! `Processor`.

use std::collections::HashSet;

use crate::import::ImportedMethod;
use crate::source::Diagnostic;
use crate::zag_ast::{Method, Node, Var};

/// A global variable a method names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalUse<'m> {
    pub name: &'m str,
    /// The byte offset of the name in the method's file.
    pub offset: usize,
    pub assigned: bool,
}

/// Every use of a global variable in `method`, in source order.
pub fn global_uses(method: &Method) -> Vec<GlobalUse<'_>> {
    fn walk<'m>(node: &'m Node, out: &mut Vec<GlobalUse<'m>>) {
        match node {
            Node::Variable(Var::Global(name), pos) => out.push(GlobalUse {
                name,
                offset: pos.0 as usize,
                assigned: false,
            }),
            Node::Assign(Var::Global(name), _, pos) => out.push(GlobalUse {
                name,
                offset: pos.0 as usize,
                assigned: true,
            }),
            _ => {}
        }
        node.for_each_child(|child| walk(child, out));
    }
    let mut out = Vec::new();
    method.body.iter().for_each(|node| walk(node, &mut out));
    out.sort_by_key(|u| u.offset);
    out
}

/// The globals that class-side `initialize...` methods assign.
pub fn initialized_globals(methods: &[ImportedMethod]) -> HashSet<String> {
    methods
        .iter()
        .filter(|m| m.method.class_side && m.method.selector.starts_with("initialize"))
        .flat_map(|m| global_uses(&m.method))
        .filter(|u| u.assigned)
        .map(|u| u.name.to_string())
        .collect()
}

/// What [`check`] found: warnings (undeclared variables) and errors
/// (assignments to classes).
#[derive(Debug, Default)]
pub struct Findings {
    pub warnings: Vec<Diagnostic>,
    pub errors: Vec<Diagnostic>,
}

/// The undeclared variables `methods` use and their assignments to
/// classes. `is_global` says whether a name is a global the methods
/// extend (a class or another global); `is_class`, whether it is a class.
pub fn check(
    methods: &[ImportedMethod],
    is_global: impl Fn(&str) -> bool,
    is_class: impl Fn(&str) -> bool,
) -> Findings {
    let initialized = initialized_globals(methods);
    let mut findings = Findings::default();
    for m in methods {
        let mut reported = HashSet::new();
        for used in global_uses(&m.method) {
            let at = |message: String| {
                Diagnostic::at(
                    &m.file.source.name,
                    &m.file.source.text,
                    used.offset,
                    message,
                )
            };
            if used.assigned && is_class(used.name) {
                findings
                    .errors
                    .push(at(format!("cannot assign to {}: it is a class", used.name)));
            } else if !is_global(used.name)
                && !initialized.contains(used.name)
                && reported.insert(used.name)
            {
                let side = if m.method.class_side { " class" } else { "" };
                findings.warnings.push(at(format!(
                    "warning: undeclared variable {} in {}{side}>>{} (nil until assigned, as in Pharo)",
                    used.name, m.method.class_name, m.method.selector
                )));
            }
        }
    }
    findings
}
