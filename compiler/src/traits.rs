//! Traits: the methods a class gets from the traits it
//! uses (`#traits : 'TFoo + (TBar - {#baz}) + (TQux @ {#new -> #old})'`),
//! flattened into the class as Pharo's trait composition defines them:
//! the traits' own compositions included, excluded selectors left out,
//! aliases added, and the class's own methods taking precedence (the
//! run-time loader and the image generator install those afterwards).
//!
//! Only stateless traits are supported: a trait with instance variables
//! is reported, since the using class would need the slots.

use std::collections::{HashMap, HashSet};

use crate::import::{Import, ImportedMethod};
use crate::tonel::{ClassDefinition, Definition, TraitComposition};
use crate::zag_ast;

/// A method a class gets from a trait, ready to install: the trait's
/// method, renamed when it comes through an alias.
pub struct TraitMethod<'a> {
    pub source: &'a ImportedMethod<'a>,
    pub method: zag_ast::Method,
}

/// The traits `import` defines, by name.
pub fn traits_of(import: &Import) -> HashMap<&str, &ClassDefinition> {
    import
        .definitions()
        .filter_map(|(_, d)| match d {
            Definition::Trait(t) => Some((t.name.as_str(), t)),
            _ => None,
        })
        .collect()
}

/// Guards against a trait that uses itself, directly or not.
const MAX_TRAIT_DEPTH: usize = 32;

/// The methods the class `class` gets from its traits, instance side and
/// class side, with the problems found (unknown or stateful traits,
/// conflicting methods).
pub fn methods_for<'a>(
    class: &ClassDefinition,
    traits: &HashMap<&str, &ClassDefinition>,
    methods: &'a [ImportedMethod<'a>],
    problems: &mut Vec<String>,
) -> Vec<TraitMethod<'a>> {
    // The methods each trait defines itself, by (trait, side).
    let mut own: HashMap<(&str, bool), Vec<&'a ImportedMethod<'a>>> = HashMap::new();
    for m in methods {
        let owner = m.definition.class_name.as_str();
        if traits.contains_key(owner) {
            own.entry((owner, m.definition.class_side))
                .or_default()
                .push(m);
        }
    }
    let mut out = Vec::new();
    for (composition, class_side) in [(&class.traits, false), (&class.class_traits, true)] {
        let mut found: HashMap<String, &'a ImportedMethod<'a>> = HashMap::new();
        let mut order = Vec::new();
        let mut conflicts = Vec::new();
        collect(
            composition,
            class_side,
            traits,
            &own,
            0,
            &mut found,
            &mut order,
            &mut conflicts,
            &class.name,
            problems,
        );
        // A conflict matters only where the class does not define the
        // method itself (its own definition resolves it, as in Pharo).
        for selector in conflicts {
            let defined_here = methods.iter().any(|m| {
                m.definition.class_name == class.name
                    && m.definition.class_side == class_side
                    && m.method.selector == selector
            });
            if !defined_here {
                problems.push(format!(
                    "{}: #{selector} comes from two traits; exclude one of them",
                    class.name
                ));
            }
        }
        for selector in order {
            let source = found[&selector];
            let mut method = source.method.clone();
            method.selector = selector;
            method.class_name = class.name.clone();
            out.push(TraitMethod { source, method });
        }
    }
    out
}

/// Adds to `found` (selector → method, first occurrence order in
/// `order`) the methods `composition` provides on the side asked for.
#[allow(clippy::too_many_arguments)]
fn collect<'a>(
    composition: &TraitComposition,
    class_side: bool,
    traits: &HashMap<&str, &ClassDefinition>,
    own: &HashMap<(&str, bool), Vec<&'a ImportedMethod<'a>>>,
    depth: usize,
    found: &mut HashMap<String, &'a ImportedMethod<'a>>,
    order: &mut Vec<String>,
    conflicts: &mut Vec<String>,
    user: &str,
    problems: &mut Vec<String>,
) {
    if depth > MAX_TRAIT_DEPTH {
        problems.push(format!("{user}: traits nest too deeply (a cycle?)"));
        return;
    }
    for use_ in &composition.uses {
        let Some(definition) = traits.get(use_.trait_name.as_str()) else {
            problems.push(format!(
                "{user}: uses the trait {}, which is not loaded",
                use_.trait_name
            ));
            continue;
        };
        if !definition.inst_vars.is_empty() {
            problems.push(format!(
                "{user}: the trait {} has instance variables, which are not supported",
                definition.name
            ));
        }
        // A class-side composition names `TFoo classTrait`: its class side.
        let side = class_side || use_.class_side;
        let mut provided: Vec<(String, &'a ImportedMethod<'a>)> = Vec::new();
        let mut nested = HashMap::new();
        let mut nested_order = Vec::new();
        let mut nested_conflicts = Vec::new();
        let inner = if side {
            &definition.class_traits
        } else {
            &definition.traits
        };
        collect(
            inner,
            side,
            traits,
            own,
            depth + 1,
            &mut nested,
            &mut nested_order,
            &mut nested_conflicts,
            user,
            problems,
        );
        // The trait's own methods override those of the traits it uses.
        let mine: Vec<&'a ImportedMethod<'a>> = own
            .get(&(definition.name.as_str(), side))
            .cloned()
            .unwrap_or_default();
        let mine_selectors: HashSet<&str> =
            mine.iter().map(|m| m.method.selector.as_str()).collect();
        for selector in nested_order {
            if !mine_selectors.contains(selector.as_str()) {
                let m = nested[&selector];
                provided.push((selector, m));
            }
        }
        conflicts.extend(
            nested_conflicts
                .into_iter()
                .filter(|s| !mine_selectors.contains(s.as_str())),
        );
        provided.extend(mine.iter().map(|m| (m.method.selector.clone(), *m)));
        // Aliases add a second name; exclusions remove names.
        for (alias, original) in &use_.aliases {
            if let Some((_, m)) = provided.iter().find(|(s, _)| s == original) {
                let m = *m;
                provided.push((alias.clone(), m));
            }
        }
        provided.retain(|(s, _)| !use_.excluded.contains(s));
        for (selector, m) in provided {
            match found.get(&selector) {
                // A requirement (`^ self explicitRequirement`) gives way to
                // a method that meets it.
                Some(existing) if is_requirement(existing) => {
                    found.insert(selector, m);
                }
                Some(existing) if !std::ptr::eq(*existing, m) && !is_requirement(m) => {
                    conflicts.push(selector)
                }
                Some(_) => {}
                None => {
                    found.insert(selector.clone(), m);
                    order.push(selector);
                }
            }
        }
    }
}

/// Whether a trait method only states a requirement: its body is `self
/// explicitRequirement` (answered or not).
fn is_requirement(m: &ImportedMethod) -> bool {
    let statement = match m.method.body.as_slice() {
        [zag_ast::Node::Return { value, .. }] => value.as_ref(),
        [only] => only,
        _ => return false,
    };
    matches!(statement, zag_ast::Node::Send(s) if s.selector == "explicitRequirement")
}
