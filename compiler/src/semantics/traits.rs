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

/// Guards against a trait that uses itself, directly or not.
const MAX_TRAIT_DEPTH: usize = 32;

/// The traits an import defines and the methods each defines itself,
/// gathered once for all the classes that use them.
pub struct Traits<'a> {
    definitions: HashMap<&'a str, &'a ClassDefinition>,
    /// (trait, class side) → its own methods.
    own: HashMap<(&'a str, bool), Vec<&'a ImportedMethod<'a>>>,
    methods: &'a [ImportedMethod<'a>],
}

/// The methods a composition provides on one side: selector → method,
/// the selectors in first-seen order, and those two traits disagree on.
#[derive(Default)]
struct Provided<'a> {
    found: HashMap<String, &'a ImportedMethod<'a>>,
    order: Vec<String>,
    conflicts: Vec<String>,
}

impl<'a> Traits<'a> {
    /// The traits `import` defines, with their methods among `methods`
    /// (`import` converted).
    pub fn new(import: &'a Import, methods: &'a [ImportedMethod<'a>]) -> Traits<'a> {
        let definitions: HashMap<&str, &ClassDefinition> = import
            .definitions()
            .filter_map(|(_, d)| match d {
                Definition::Trait(t) => Some((t.name.as_str(), t)),
                _ => None,
            })
            .collect();
        let mut own: HashMap<(&str, bool), Vec<&ImportedMethod>> = HashMap::new();
        for m in methods {
            if let Some((&name, _)) = definitions.get_key_value(m.definition.class_name.as_str()) {
                own.entry((name, m.definition.class_side))
                    .or_default()
                    .push(m);
            }
        }
        Traits {
            definitions,
            own,
            methods,
        }
    }

    /// Whether `name` is one of the traits (whose methods belong to no
    /// class of their own).
    pub fn is_trait(&self, name: &str) -> bool {
        self.definitions.contains_key(name)
    }

    /// The methods the class `class` gets from its traits, instance side
    /// and class side, with the problems found (unknown or stateful
    /// traits, conflicting methods).
    pub fn methods_for(
        &self,
        class: &ClassDefinition,
        problems: &mut Vec<String>,
    ) -> Vec<TraitMethod<'a>> {
        let mut out = Vec::new();
        for (composition, class_side) in [(&class.traits, false), (&class.class_traits, true)] {
            if composition.uses.is_empty() {
                continue;
            }
            let mut provided = Provided::default();
            self.collect(
                composition,
                class_side,
                0,
                &mut provided,
                &class.name,
                problems,
            );
            // A conflict matters only where the class does not define the
            // method itself (its own definition resolves it, as in Pharo).
            for selector in &provided.conflicts {
                let defined_here = self.methods.iter().any(|m| {
                    m.definition.class_name == class.name
                        && m.definition.class_side == class_side
                        && &m.method.selector == selector
                });
                if !defined_here {
                    problems.push(format!(
                        "{}: #{selector} comes from two traits; exclude one of them",
                        class.name
                    ));
                }
            }
            for selector in provided.order {
                let source = provided.found[&selector];
                let mut method = source.method.clone();
                method.selector = selector;
                method.class_name = class.name.clone();
                out.push(TraitMethod { source, method });
            }
        }
        out
    }

    /// Adds to `provided` the methods `composition` provides on the side
    /// asked for.
    fn collect(
        &self,
        composition: &TraitComposition,
        class_side: bool,
        depth: usize,
        provided: &mut Provided<'a>,
        user: &str,
        problems: &mut Vec<String>,
    ) {
        if depth > MAX_TRAIT_DEPTH {
            problems.push(format!("{user}: traits nest too deeply (a cycle?)"));
            return;
        }
        for use_ in &composition.uses {
            let Some(definition) = self.definitions.get(use_.trait_name.as_str()) else {
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
            let inner = if side {
                &definition.class_traits
            } else {
                &definition.traits
            };
            let mut nested = Provided::default();
            self.collect(inner, side, depth + 1, &mut nested, user, problems);
            // The trait's own methods override those of the traits it uses.
            let mine: &[&ImportedMethod] = self
                .own
                .get(&(definition.name.as_str(), side))
                .map_or(&[], Vec::as_slice);
            let mine_selectors: HashSet<&str> =
                mine.iter().map(|m| m.method.selector.as_str()).collect();
            let mut methods: Vec<(String, &'a ImportedMethod<'a>)> = nested
                .order
                .into_iter()
                .filter(|s| !mine_selectors.contains(s.as_str()))
                .map(|s| {
                    let m = nested.found[&s];
                    (s, m)
                })
                .collect();
            provided.conflicts.extend(
                nested
                    .conflicts
                    .into_iter()
                    .filter(|s| !mine_selectors.contains(s.as_str())),
            );
            methods.extend(mine.iter().map(|m| (m.method.selector.clone(), *m)));
            // Aliases add a second name; exclusions remove names.
            for (alias, original) in &use_.aliases {
                if let Some(&(_, m)) = methods.iter().find(|(s, _)| s == original) {
                    methods.push((alias.clone(), m));
                }
            }
            methods.retain(|(s, _)| !use_.excluded.contains(s));
            for (selector, m) in methods {
                provided.add(selector, m);
            }
        }
    }
}

impl<'a> Provided<'a> {
    /// Adds `m` under `selector`: a requirement (`^ self
    /// explicitRequirement`) gives way to a method that meets it, and two
    /// different methods conflict.
    fn add(&mut self, selector: String, m: &'a ImportedMethod<'a>) {
        match self.found.get(&selector) {
            Some(existing) if is_requirement(existing) => {
                self.found.insert(selector, m);
            }
            Some(existing) if !std::ptr::eq(*existing, m) && !is_requirement(m) => {
                self.conflicts.push(selector)
            }
            Some(_) => {}
            None => {
                self.found.insert(selector.clone(), m);
                self.order.push(selector);
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
