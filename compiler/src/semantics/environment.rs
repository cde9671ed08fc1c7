//! The class environment names are resolved against: every class and trait
//! loaded (across packages), with its variables, and the per-class scopes
//! derived from it.

use std::collections::HashMap;

/// What name resolution needs to know of a class or trait.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClassShape {
    pub name: String,
    pub superclass: Option<String>,
    pub inst_vars: Vec<String>,
    pub class_vars: Vec<String>,
    pub class_inst_vars: Vec<String>,
    pub pools: Vec<String>,
    pub is_trait: bool,
}

#[derive(Clone, Default, Debug)]
pub struct Environment {
    shapes: HashMap<String, ClassShape>,
}

/// Guards superclass walks against cycles in malformed input.
const MAX_HIERARCHY_DEPTH: usize = 1000;

impl Environment {
    pub fn new() -> Environment {
        Environment::default()
    }

    /// Adds a class; answers the shape it replaced, if any.
    pub fn add(&mut self, shape: ClassShape) -> Option<ClassShape> {
        self.shapes.insert(shape.name.clone(), shape)
    }

    /// Removes a class; answers its shape.
    pub fn remove(&mut self, name: &str) -> Option<ClassShape> {
        self.shapes.remove(name)
    }

    pub fn get(&self, name: &str) -> Option<&ClassShape> {
        self.shapes.get(name)
    }

    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    /// The class and its superclasses, root last.
    pub fn hierarchy(&self, name: &str) -> Vec<&ClassShape> {
        let mut chain = Vec::new();
        let mut current = self.shapes.get(name);
        while let Some(shape) = current {
            if chain.len() == MAX_HIERARCHY_DEPTH {
                break;
            }
            chain.push(shape);
            current = shape.superclass.as_deref().and_then(|s| self.shapes.get(s));
        }
        chain
    }

    /// All instance variable names, inherited ones first (Pharo's
    /// `allInstVarNames`): the index of a name is its slot index.
    pub fn all_inst_vars(&self, name: &str) -> Vec<String> {
        self.hierarchy(name)
            .iter()
            .rev()
            .flat_map(|s| s.inst_vars.iter().cloned())
            .collect()
    }

    /// The slots of the class object `name` (an instance of its
    /// metaclass): Class's own slots first (when the environment defines
    /// Class), then the class instance variables down the hierarchy.
    pub fn class_side_inst_vars(&self, name: &str) -> Vec<String> {
        let mut vars = self.all_inst_vars("Class");
        let chain = self.hierarchy(name);
        vars.extend(
            chain
                .iter()
                .rev()
                .flat_map(|s| s.class_inst_vars.iter().cloned()),
        );
        vars
    }

    /// The scope a method of `class_name` (instance or class side) resolves
    /// names in.
    pub fn class_scope(&self, class_name: &str, class_side: bool) -> ClassScope {
        let chain = self.hierarchy(class_name);
        let (inst_vars, first_class_inst_var) = if class_side {
            let base = self.all_inst_vars("Class").len();
            (self.class_side_inst_vars(class_name), base)
        } else {
            (self.all_inst_vars(class_name), usize::MAX)
        };
        let mut class_vars = Vec::new();
        let mut pool_vars = Vec::new();
        for shape in &chain {
            for v in &shape.class_vars {
                class_vars.push((v.clone(), shape.name.clone()));
            }
            for pool in &shape.pools {
                for pool_shape in self.hierarchy(pool) {
                    for v in &pool_shape.class_vars {
                        pool_vars.push((v.clone(), pool.clone()));
                    }
                }
            }
        }
        ClassScope {
            class_name: class_name.to_string(),
            class_side,
            inst_vars,
            first_class_inst_var,
            class_vars,
            pool_vars,
        }
    }
}

/// The names visible in the methods of one class side, beyond locals.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassScope {
    pub class_name: String,
    pub class_side: bool,
    /// Slot names in index order.
    pub inst_vars: Vec<String>,
    /// Index of the first class-side instance variable (class side only).
    pub first_class_inst_var: usize,
    /// (variable, defining class), nearest class first.
    pub class_vars: Vec<(String, String)>,
    /// (variable, pool)
    pub pool_vars: Vec<(String, String)>,
}

impl ClassScope {
    /// A scope for code compiled outside any class (do-its): `self` is nil.
    pub fn empty() -> ClassScope {
        ClassScope {
            class_name: "UndefinedObject".to_string(),
            class_side: false,
            inst_vars: Vec::new(),
            first_class_inst_var: usize::MAX,
            class_vars: Vec::new(),
            pool_vars: Vec::new(),
        }
    }
}

/// Class scopes computed once per class side (a class has many methods).
pub struct ScopeCache<'e> {
    env: &'e Environment,
    /// Indexed by `class_side as usize`.
    scopes: [HashMap<String, ClassScope>; 2],
}

impl<'e> ScopeCache<'e> {
    pub fn new(env: &'e Environment) -> ScopeCache<'e> {
        ScopeCache {
            env,
            scopes: Default::default(),
        }
    }

    pub fn get(&mut self, class_name: &str, class_side: bool) -> &ClassScope {
        let map = &mut self.scopes[class_side as usize];
        if !map.contains_key(class_name) {
            let scope = self.env.class_scope(class_name, class_side);
            map.insert(class_name.to_string(), scope);
        }
        &map[class_name]
    }
}
