//! Importing Pharo exports: folders of Tonel packages → parsed files → the
//! class environment → Zag ASTs, with every problem reported as a
//! [`Diagnostic`]. `zag check`, build.rs and runtime file-in all go through
//! here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::convert::convert_method;
use crate::environment::{ClassScope, ClassShape, Environment, ScopeCache};
use crate::parallel;
use crate::parser::parse_method;
use crate::printer::print_method;
use crate::source::{Diagnostic, SourceFile};
use crate::tonel::{read_tonel, ClassDefinition, Definition, Layout, MethodDefinition, TonelFile};
use crate::zag_ast;

/// One `.st` file read from disk and parsed.
#[derive(Debug)]
pub struct LoadedFile {
    pub source: Arc<SourceFile>,
    pub tonel: TonelFile,
}

/// Everything read from a set of paths.
#[derive(Debug, Default)]
pub struct Import {
    pub files: Vec<LoadedFile>,
    pub errors: Vec<Diagnostic>,
    /// Bytes of Tonel source read.
    pub bytes: usize,
}

impl Import {
    /// Reads every `.st` file under each path (a file, a package folder or
    /// a folder of packages, at any depth), in a stable order.
    pub fn read(paths: &[PathBuf]) -> Import {
        let mut import = Import::default();
        let mut found = Vec::new();
        for path in paths {
            if let Err(message) = collect_st_files(path, &mut found) {
                import
                    .errors
                    .push(Diagnostic::file(&path.display().to_string(), message));
            }
        }
        let loaded = parallel::map_with(&found, || (), |_, path| load_file(path));
        for (file, bytes, errors) in loaded {
            import.bytes += bytes;
            import.errors.extend(errors);
            import.files.extend(file);
        }
        import
    }

    /// Parses one Tonel source and adds it.
    pub fn add_source(&mut self, source: Arc<SourceFile>) {
        let (file, errors) = parse_source(source);
        self.errors.extend(errors);
        self.files.push(file);
    }

    pub fn definitions(&self) -> impl Iterator<Item = (&LoadedFile, &Definition)> {
        self.files
            .iter()
            .filter_map(|f| f.tonel.definition.as_ref().map(|d| (f, d)))
    }

    pub fn methods(&self) -> impl Iterator<Item = (&LoadedFile, &MethodDefinition)> {
        self.files
            .iter()
            .flat_map(|f| f.tonel.methods.iter().map(move |m| (f, m)))
    }

    /// The classes and traits defined, with the file defining each.
    pub fn classes(&self) -> impl Iterator<Item = (&LoadedFile, &ClassDefinition)> {
        self.definitions().filter_map(|(f, d)| match d {
            Definition::Class(c) | Definition::Trait(c) => Some((f, c)),
            _ => None,
        })
    }

    /// The classes whose layout cannot be (see [`Layout::problem`]), each
    /// with its diagnostic; `known` answers the layout of a class defined
    /// outside the import (in the running VM).
    pub fn layout_problems(
        &self,
        env: &Environment,
        known: impl Fn(&str) -> Option<Layout>,
    ) -> Vec<(&ClassDefinition, Diagnostic)> {
        let layouts: std::collections::HashMap<&str, Layout> = self
            .classes()
            .map(|(_, c)| (c.name.as_str(), c.layout))
            .collect();
        self.classes()
            .filter_map(|(file, c)| {
                let superclass = c.superclass.as_deref().and_then(|s| {
                    let layout = layouts.get(s).copied().or_else(|| known(s))?;
                    Some((s, layout))
                });
                let why = c
                    .layout
                    .problem(&c.name, &env.all_inst_vars(&c.name), superclass)?;
                let at = c.span.start as usize;
                let source = &file.source;
                Some((c, Diagnostic::at(&source.name, &source.text, at, why)))
            })
            .collect()
    }

    /// The classes read (not traits), each after its superclass, and the
    /// problems found, located at the class's definition: a superclass
    /// neither read nor `known` elsewhere, or a circular chain.
    pub fn classes_superclasses_first(
        &self,
        known: impl Fn(&str) -> bool,
    ) -> (Vec<&ClassDefinition>, Vec<String>) {
        let defs: Vec<(&LoadedFile, &ClassDefinition)> = self
            .definitions()
            .filter_map(|(f, d)| match d {
                Definition::Class(c) => Some((f, c)),
                _ => None,
            })
            .collect();
        let by_name: std::collections::HashMap<&str, (&LoadedFile, &ClassDefinition)> = defs
            .iter()
            .map(|&(f, d)| (d.name.as_str(), (f, d)))
            .collect();
        let mut done: std::collections::HashMap<&str, bool> = Default::default();
        let mut ordered = Vec::new();
        let mut problems = Vec::new();
        // Where a definition names `what` (its superclass), or starts.
        let located = |file: &LoadedFile, def: &ClassDefinition, what: &str, message: String| {
            let text = &file.source.text;
            let start = (def.span.start as usize).min(text.len());
            let end = (def.span.end as usize).clamp(start, text.len());
            let at = text
                .get(start..end)
                .and_then(|body| {
                    let key = body.find("#superclass")?;
                    body[key..].find(what).map(|i| start + key + i)
                })
                .unwrap_or(start);
            Diagnostic::at(&file.source.name, text, at, message).to_string()
        };
        // Iterative depth-first walk up the superclass chain.
        for &(file, def) in &defs {
            let mut chain = Vec::new();
            let mut current = Some((file, def));
            while let Some((f, c)) = current {
                match done.get(c.name.as_str()) {
                    Some(true) => break,
                    Some(false) => {
                        let message = format!("{}: circular superclass chain", c.name);
                        problems.push(located(
                            f,
                            c,
                            c.superclass.as_deref().unwrap_or(""),
                            message,
                        ));
                        break;
                    }
                    None => {}
                }
                done.insert(&c.name, false);
                chain.push(c);
                current = match c.superclass.as_deref() {
                    Some(s) => match by_name.get(s) {
                        Some(&sup) => Some(sup),
                        None => {
                            if !known(s) {
                                let message =
                                    format!("superclass {s} of {} is not defined", c.name);
                                problems.push(located(f, c, s, message));
                            }
                            None
                        }
                    },
                    None => None,
                };
            }
            for c in chain.into_iter().rev() {
                done.insert(&c.name, true);
                ordered.push(c);
            }
        }
        (ordered, problems)
    }

    /// The environment of every class and trait read. A class defined twice
    /// is an error; the later definition is ignored.
    pub fn environment(&self, errors: &mut Vec<Diagnostic>) -> Environment {
        let mut env = Environment::new();
        self.extend_environment(&mut env, errors);
        env
    }

    /// Adds (or replaces) the classes and traits read to `env`, as when
    /// filing in over classes that already exist.
    pub fn extend_environment(&self, env: &mut Environment, errors: &mut Vec<Diagnostic>) {
        let mut defined_in: std::collections::HashMap<&str, &str> = Default::default();
        for (file, def) in self.definitions() {
            let (c, is_trait) = match def {
                Definition::Class(c) => (c, false),
                Definition::Trait(c) => (c, true),
                _ => continue,
            };
            if let Some(first) = defined_in.insert(&c.name, &file.source.name) {
                errors.push(Diagnostic::at(
                    &file.source.name,
                    &file.source.text,
                    c.span.start as usize,
                    format!("'{}' is already defined in {first}", c.name),
                ));
                defined_in.insert(&c.name, first);
                continue;
            }
            env.add(ClassShape {
                name: c.name.clone(),
                superclass: c.superclass.clone(),
                inst_vars: c.inst_vars.clone(),
                class_vars: c.class_vars.clone(),
                class_inst_vars: c.class_inst_vars.clone(),
                pools: c.pools.clone(),
                is_trait,
            });
        }
    }
}

/// Reads and parses one file: the file (unless unreadable), its size, its errors.
fn load_file(path: &Path) -> (Option<LoadedFile>, usize, Vec<Diagnostic>) {
    let name = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return (
                None,
                0,
                vec![Diagnostic::file(&name, format!("cannot read: {e}"))],
            )
        }
    };
    let size = bytes.len();
    match String::from_utf8(bytes) {
        Ok(text) => {
            let (file, errors) = parse_source(SourceFile::new(name, text));
            (Some(file), size, errors)
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            (
                None,
                size,
                vec![Diagnostic::file(
                    &name,
                    format!("not UTF-8 text (invalid byte at offset {at})"),
                )],
            )
        }
    }
}

fn parse_source(source: Arc<SourceFile>) -> (LoadedFile, Vec<Diagnostic>) {
    let (tonel, errors) = read_tonel(&source.text);
    let errors = errors
        .into_iter()
        .map(|e| Diagnostic::at(&source.name, &source.text, e.offset, e.message))
        .collect();
    (LoadedFile { source, tonel }, errors)
}

/// The `.st` files under `path`: the file itself, or every Tonel file in
/// the folder's package folders at any depth. `.st` files lying directly in
/// the top folder are read only when it is itself a package (has a
/// `package.st`): beside a set of packages they are scripts (like AWFY's
/// `run.st`), not Tonel.
///
/// A folder that yields no Tonel file is an error: it is not a package
/// (it has no `package.st`) and holds none.
fn collect_st_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut visited = std::collections::HashSet::new();
    let before = out.len();
    let is_package = path.join("package.st").is_file();
    collect_in_folder(path, is_package, &mut visited, out)?;
    if out.len() > before {
        return Ok(());
    }
    let loose = std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "st"))
                .count()
        })
        .unwrap_or(0);
    Err(if loose > 0 {
        format!(
            "no Tonel package here: the folder has {loose} .st file(s) but no package.st \
             (a package folder needs one: Package {{ #name : 'Name' }})"
        )
    } else {
        "no Tonel package here: expected a package folder (with a package.st) \
         or a folder of package folders"
            .to_string()
    })
}

/// Collects under `folder`, entering each folder once: a link back to a
/// folder already walked (`a -> .`) is not followed again, so folders
/// linking to themselves cannot multiply the paths.
fn collect_in_folder(
    folder: &Path,
    read_files: bool,
    visited: &mut std::collections::HashSet<PathBuf>,
    out: &mut Vec<PathBuf>,
) -> Result<(), String> {
    let real = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf());
    if !visited.insert(real) {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(|e| format!("cannot read folder: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_in_folder(&entry, true, visited, out)?;
        } else if read_files && entry.extension().is_some_and(|e| e == "st") {
            out.push(entry);
        }
    }
    Ok(())
}

/// A method converted to the Zag AST, with where it came from.
#[derive(Debug)]
pub struct ImportedMethod<'a> {
    pub file: &'a LoadedFile,
    pub definition: &'a MethodDefinition,
    pub method: zag_ast::Method,
}

/// Converts every method read to the Zag AST.
pub fn convert_all<'a>(
    import: &'a Import,
    env: &Environment,
    errors: &mut Vec<Diagnostic>,
) -> Vec<ImportedMethod<'a>> {
    let methods: Vec<_> = import.methods().collect();
    let results = parallel::map_with(
        &methods,
        || ScopeCache::new(env),
        |scopes, &(file, def)| {
            convert_method(&def.method, scopes.get(&def.class_name, def.class_side))
                .map(|method| ImportedMethod {
                    file,
                    definition: def,
                    method,
                })
                .map_err(|e| {
                    Diagnostic::at(&file.source.name, &file.source.text, e.offset, e.message)
                })
        },
    );
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(m) => out.push(m),
            Err(e) => errors.push(e),
        }
    }
    out
}

/// What `zag check` does before the round trip, when the VM's classes are
/// not at hand: checks the layouts of the classes read, then converts every
/// method (problems go to `errors`).
pub fn convert_checked<'a>(
    import: &'a Import,
    env: &Environment,
    errors: &mut Vec<Diagnostic>,
) -> Vec<ImportedMethod<'a>> {
    errors.extend(
        import
            .layout_problems(env, |_| None)
            .into_iter()
            .map(|(_, d)| d),
    );
    convert_all(import, env, errors)
}

/// Prints `method` back to source, re-reads it, and checks that the result
/// is the same AST. Answers the problem when it is not.
pub fn verify_round_trip(method: &zag_ast::Method, scope: &ClassScope) -> Result<(), String> {
    let source = print_method(method);
    let reparsed = parse_method(&source)
        .map_err(|e| format!("printed source does not parse ({}): {source}", e.message))?;
    let again = convert_method(&reparsed, scope)
        .map_err(|e| format!("printed source does not compile ({}): {source}", e.message))?;
    if &again == method {
        Ok(())
    } else {
        Err(format!(
            "printed source reads back as a different AST: {source}"
        ))
    }
}

/// What `zag check` reports.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub files: usize,
    pub packages: usize,
    pub classes: usize,
    pub traits: usize,
    pub extensions: usize,
    pub methods: usize,
    pub converted: usize,
    pub round_tripped: usize,
    pub bytes: usize,
    pub errors: Vec<Diagnostic>,
    /// Undeclared variables (see [`crate::undeclared`]).
    pub warnings: Vec<Diagnostic>,
    pub elapsed: Duration,
}

/// Reads, converts and round-trips everything under `paths` as packages
/// that extend `base` (the classes of the image they are for; an empty
/// environment for packages on their own), and reports the undeclared
/// variables: names neither defined there nor `known` (the image's other
/// globals).
pub fn check(paths: &[PathBuf], base: &Environment, known: impl Fn(&str) -> bool) -> CheckReport {
    let start = Instant::now();
    let import = Import::read(paths);
    let mut errors = import.errors.clone();
    let mut env = base.clone();
    import.extend_environment(&mut env, &mut errors);
    let methods = convert_checked(&import, &env, &mut errors);
    let undeclared = crate::undeclared::check(
        &methods,
        |name| known(name) || env.get(name).is_some(),
        |name| env.get(name).is_some(),
    );
    errors.extend(undeclared.errors);
    let mut report = CheckReport {
        files: import.files.len(),
        bytes: import.bytes,
        methods: import.methods().count()
            + import
                .files
                .iter()
                .map(|f| f.tonel.malformed_methods)
                .sum::<usize>(),
        converted: methods.len(),
        warnings: undeclared.warnings,
        ..CheckReport::default()
    };
    for (_, def) in import.definitions() {
        match def {
            Definition::Class(_) => report.classes += 1,
            Definition::Trait(_) => report.traits += 1,
            Definition::Extension { .. } => report.extensions += 1,
            Definition::Package { .. } => report.packages += 1,
        }
    }
    let round_trips = parallel::map_with(
        &methods,
        || ScopeCache::new(&env),
        |scopes, m| {
            verify_round_trip(
                &m.method,
                scopes.get(&m.method.class_name, m.method.class_side),
            )
            .map_err(|problem| {
                Diagnostic::at(
                    &m.file.source.name,
                    &m.file.source.text,
                    m.definition.method.span.start as usize,
                    format!(
                        "round trip of {}>>{} failed: {problem}",
                        m.definition.class_name, m.method.selector
                    ),
                )
            })
        },
    );
    for r in round_trips {
        match r {
            Ok(()) => report.round_tripped += 1,
            Err(e) => errors.push(e),
        }
    }
    report.errors = errors;
    report.elapsed = start.elapsed();
    report
}
