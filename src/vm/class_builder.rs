//! Defining classes and methods while the program runs, as a Pharo script
//! or the REPL does: `Object subclass: #Foo instanceVariableNames: ...`,
//! the fluid `Object << #Foo slots: ...`, `Foo compile: 'bar ^ 42'` and
//! `removeSelector:` (the Smalltalk side is in `Class`, `Behavior` and
//! `FluidClassBuilder`).
//!
//! A class definition goes through the loader as a Tonel definition, so it
//! is checked as a filed-in one is (its layout, its superclass, a
//! redefinition's shape) and reported the same way. Its names are checked
//! first: they are the only text the definition is made of. A method is
//! parsed, resolved in its class's scope and installed as the loader
//! installs one.

use zag_compiler::environment::{ClassScope, ClassShape, Environment};
use zag_compiler::import::Import;
use zag_compiler::source::{line_column, SourceFile};
use zag_compiler::threaded::{Binding, LiteralValue};
use zag_compiler::tonel::Layout;

use super::classes::ClassIndex;
use super::loader;
use super::method::{self, MethodRef};
use super::Vm;
use crate::memory;
use crate::object::Oop;

/// A class definition asked for at run time. What is `None` stays as the
/// class has it (a new class: named variables only, no variables, the
/// package `Unpackaged`, no tag).
pub struct ClassRequest {
    pub name: String,
    /// None: a root class (its superclass nil).
    pub superclass: Option<String>,
    /// Tonel's `#type`: `normal` (named variables only), `variable`,
    /// `bytes`, `words`.
    pub layout: Option<String>,
    pub inst_vars: Option<Vec<String>>,
    pub class_vars: Option<Vec<String>>,
    pub class_inst_vars: Option<Vec<String>>,
    pub package: Option<String>,
    pub tag: Option<String>,
}

/// A [`ClassRequest`] with every part given.
struct Definition {
    name: String,
    superclass: Option<String>,
    layout: String,
    inst_vars: Vec<String>,
    class_vars: Vec<String>,
    class_inst_vars: Vec<String>,
    package: String,
    tag: Option<String>,
}

/// Whether `name` is a Smalltalk identifier.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `text` as a Tonel string literal.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn quoted_list(names: &[String]) -> String {
    let items: Vec<String> = names.iter().map(|n| quoted(n)).collect();
    format!("[ {} ]", items.join(", "))
}

impl Definition {
    /// Checks the names and writes the definition as Tonel.
    fn tonel(&self) -> Result<String, String> {
        let class_inst_vars = &self.class_inst_vars;
        let uppercase = self.name.starts_with(|c: char| c.is_ascii_uppercase());
        if !is_identifier(&self.name) || !uppercase {
            return Err(format!(
                "{} is not a class name (a capitalized identifier)",
                quoted(&self.name)
            ));
        }
        let variables = self
            .inst_vars
            .iter()
            .chain(&self.class_vars)
            .chain(class_inst_vars);
        if let Some(bad) = variables.clone().find(|v| !is_identifier(v)) {
            return Err(format!("{} is not a variable name", quoted(bad)));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = variables.clone().find(|v| !seen.insert(*v)) {
            return Err(format!("{} is named twice", quoted(twice)));
        }
        if !matches!(
            self.layout.as_str(),
            "normal" | "variable" | "weak" | "bytes" | "words"
        ) {
            return Err(format!("{} is not a class layout", quoted(&self.layout)));
        }
        if self.package.trim().is_empty() {
            return Err("a class needs a package".to_string());
        }
        let mut fields = vec![format!("#name : {}", quoted(&self.name))];
        if let Some(s) = &self.superclass {
            fields.push(format!("#superclass : {}", quoted(s)));
        } else {
            fields.push("#superclass : nil".to_string());
        }
        if self.layout != "normal" {
            fields.push(format!("#type : {}", quoted(&self.layout)));
        }
        fields.push(format!("#instVars : {}", quoted_list(&self.inst_vars)));
        fields.push(format!("#classVars : {}", quoted_list(&self.class_vars)));
        fields.push(format!("#classInstVars : {}", quoted_list(class_inst_vars)));
        let category = match &self.tag {
            Some(tag) => format!("{}-{tag}", self.package),
            None => self.package.clone(),
        };
        fields.push(format!("#category : {}", quoted(&category)));
        fields.push(format!("#package : {}", quoted(&self.package)));
        if let Some(tag) = &self.tag {
            fields.push(format!("#tag : {}", quoted(tag)));
        }
        Ok(format!("Class {{\n\t{}\n}}\n", fields.join(",\n\t")))
    }
}

impl Vm {
    /// Defines (or redefines) a class; answers its index, or why not.
    pub(crate) fn define_class_at_run_time(
        &mut self,
        request: &ClassRequest,
    ) -> Result<ClassIndex, String> {
        let definition = self.complete(request);
        let text = definition.tonel()?;
        let mut import = Import::default();
        let file = format!("the definition of {}", request.name);
        import.add_source(SourceFile::new(&file, &text));
        // A problem's place in the generated text says nothing: drop it
        // (and the generated line shown under it).
        let unplaced = |problem: &String| -> String {
            let headline = problem.lines().next().unwrap_or_default();
            let rest = headline
                .strip_prefix(&format!("{file}:"))
                .unwrap_or(headline);
            let mut parts = rest.splitn(3, ':');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(line), Some(column), Some(message))
                    if line.parse::<u32>().is_ok() && column.parse::<u32>().is_ok() =>
                {
                    message.trim_start().to_string()
                }
                _ => rest.to_string(),
            }
        };
        loader::load(self, &import)
            .map_err(|problems| problems.iter().map(unplaced).collect::<Vec<_>>().join("\n"))?;
        self.universe
            .classes
            .index_of(&request.name)
            .ok_or_else(|| format!("{} was not defined", request.name))
    }

    /// The request with what it leaves out taken from the class it
    /// redefines, or the defaults for a new class.
    fn complete(&self, request: &ClassRequest) -> Definition {
        let shape = self.universe.environment.get(&request.name);
        let existing = self
            .universe
            .classes
            .index_of(&request.name)
            .and_then(|i| self.universe.classes.get(i));
        let from_shape =
            |part: fn(&ClassShape) -> &Vec<String>| shape.map_or(Vec::new(), |s| part(s).clone());
        let layout = existing.map_or("normal", |c| match c.layout {
            Layout::Variable => "variable",
            Layout::Weak => "weak",
            Layout::Bytes => "bytes",
            Layout::Words => "words",
            _ => "normal",
        });
        let package = existing.map_or("Unpackaged".to_string(), |c| c.package.clone());
        // The tag is what the category (`Package-Tag`) adds to the package.
        let tag = existing.and_then(|c| {
            let meta = self.universe.classes.get(c.partner)?;
            let slot = meta.inst_vars.position("category")?;
            let category = self.symbol_text(memory::slot(c.object, slot)?);
            Some(
                category
                    .strip_prefix(&format!("{}-", c.package))?
                    .to_string(),
            )
        });
        Definition {
            name: request.name.clone(),
            superclass: request.superclass.clone(),
            layout: request.layout.clone().unwrap_or_else(|| layout.to_string()),
            inst_vars: request
                .inst_vars
                .clone()
                .unwrap_or_else(|| from_shape(|s| &s.inst_vars)),
            class_vars: request
                .class_vars
                .clone()
                .unwrap_or_else(|| from_shape(|s| &s.class_vars)),
            class_inst_vars: request
                .class_inst_vars
                .clone()
                .unwrap_or_else(|| from_shape(|s| &s.class_inst_vars)),
            tag: match &request.package {
                Some(_) => request.tag.clone(),
                None => request.tag.clone().or(tag),
            },
            package: request.package.clone().unwrap_or(package),
        }
    }

    /// Compiles `source` (a method: its selector pattern and body) into
    /// `class` and installs it, replacing any with the same selector.
    pub(crate) fn compile_at_run_time(
        &mut self,
        class: ClassIndex,
        source: &str,
    ) -> Result<(MethodRef, Vec<String>), String> {
        let located = |offset: usize, message: &str| {
            let (line, column) = line_column(source, offset);
            format!("{line}:{column}: {message}")
        };
        let parsed = zag_compiler::parser::parse_method(source)
            .map_err(|e| located(e.offset, &e.message))?;
        let scope = self.scope_of(class, &self.universe.environment);
        let ast = zag_compiler::convert::convert_method(&parsed, &scope)
            .map_err(|e| located(e.offset, &e.message))?;
        let threaded = zag_compiler::threaded::compile_method(&ast)?;
        let undeclared = self.undeclared_names(&threaded);
        let method = method::lower(self, &threaded, class, ast)?;
        Ok((self.install(method)?, undeclared))
    }

    /// The globals a method refers to that nothing defines (yet): Pharo's
    /// undeclared variables, which it compiles as nil and reports
    /// (`NewUndeclaredWarning`).
    fn undeclared_names(&self, threaded: &zag_compiler::threaded::ThreadedMethod) -> Vec<String> {
        let mut names: Vec<String> = threaded
            .literals
            .iter()
            .filter_map(|l| match l {
                LiteralValue::Binding(Binding::Global(name)) => Some(name),
                _ => None,
            })
            .filter(|name| {
                !self.universe.has_global(name) && self.universe.classes.index_of(name).is_none()
            })
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The names code compiled in `class` (a class or a metaclass) sees,
    /// as `env` counts the classes' variables.
    pub(crate) fn scope_of(&self, class: ClassIndex, env: &Environment) -> ClassScope {
        let classes = &self.universe.classes;
        let (name, class_side) = match classes.get(class) {
            Some(c) if c.is_meta => (classes.name(c.partner), true),
            _ => (classes.name(class), false),
        };
        env.class_scope(&name, class_side)
    }

    /// Removes the method `selector` of `class` (its own, not inherited);
    /// answers whether there was one.
    pub(crate) fn remove_method(&mut self, class: ClassIndex, selector: Oop) -> bool {
        let removed = self
            .universe
            .classes
            .get_mut(class)
            .is_some_and(|c| c.methods.remove(selector));
        if removed {
            self.universe.invalidate_lookups();
        }
        removed
    }
}
