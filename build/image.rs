//! Generates `image.rs`: the exports compiled to static data
//! (`ImageDescription` in `src/image/mod.rs`), formatted by prettyplease.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;
use zag_compiler::import::{convert_all, Import, ImportedMethod};
use zag_compiler::lowering::{self, Operand};
use zag_compiler::printer::print_method;
use zag_compiler::source::Diagnostic;
use zag_compiler::threaded::{compile_method, LiteralValue, ThreadedMethod};
use zag_compiler::tonel::{ClassDefinition, Layout};
use zag_compiler::traits::Traits;
use zag_compiler::zag_ast::{self as ast, PrimitiveIndex};

#[path = "static_space.rs"]
mod static_space;

#[path = "static_code.rs"]
mod static_code;

use static_code::{operand_value, Literal, StaticCode, UnitCode};
use static_space::{literal_description, StaticNodes, StaticSpace, Value};
use zag_compiler::ast_objects::{self, NodeClass};

/// What the exports compiled to: the source of `image.rs`, and the
/// warnings (undeclared variables).
#[derive(Debug)]
pub struct Generated {
    pub source: String,
    pub warnings: Vec<Diagnostic>,
}

/// The generated source, or every problem found (as `file:line:column:
/// message` with the offending line).
pub fn generate(folders: &[PathBuf]) -> Result<Generated, Vec<String>> {
    let import = Import::read(folders);
    let mut errors: Vec<Diagnostic> = import.errors.clone();
    let env = import.environment(&mut errors);
    errors.extend(
        import
            .layout_problems(&env, |_| None)
            .into_iter()
            .map(|(_, d)| d),
    );
    let (classes, mut problems) = import.classes_superclasses_first(|_| false);
    let converted = convert_all(&import, &env, &mut errors);
    let is_class = |name: &str| env.get(name).is_some();
    let undeclared = zag_compiler::undeclared::check(&converted, is_class, is_class);
    errors.extend(undeclared.errors);
    // Methods from traits come first, so that start-up installs the
    // classes' own methods over them; a trait's own methods are not
    // installed anywhere else.
    let traits = Traits::new(&import, &converted);
    let from_traits: Vec<(ast::Method, &ImportedMethod)> = classes
        .iter()
        .flat_map(|class| traits.methods_for(class, &mut problems))
        .map(|t| (t.method, t.source))
        .collect();
    let own = converted
        .iter()
        .filter(|m| !traits.is_trait(&m.definition.class_name))
        .map(|m| (m.method.clone(), m));
    let mut space = StaticSpace::new();
    // The names start-up interns are static Symbols too.
    for class in &classes {
        space.symbol(&class.name);
        space.symbol(&class.category_name());
        class.class_vars.iter().for_each(|v| {
            space.symbol(v);
        });
    }
    space.symbol("initialize");
    if classes.iter().any(|c| c.name == "ScaledDecimal") {
        space.define_scaled_decimal(env.all_inst_vars("ScaledDecimal"));
    }
    let method_variables = classes
        .iter()
        .any(|c| c.name == "CompiledMethod")
        .then(|| env.all_inst_vars("CompiledMethod"));
    // The AST node classes' instance variables, when the exports define
    // them all (AST-Core does).
    let node_variables: Option<Vec<(NodeClass, Vec<String>)>> = NodeClass::ALL
        .iter()
        .map(|&c| {
            let defined = classes.iter().any(|d| d.name == c.name());
            defined.then(|| (c, env.all_inst_vars(c.name())))
        })
        .collect();
    let class_numbers: HashMap<&str, u32> = classes
        .iter()
        .enumerate()
        .map(|(n, c)| (c.name.as_str(), n as u32))
        .collect();
    let mut code = StaticCode::default();
    let mut methods = Vec::new();
    // Each class side's method dictionary: selector (static Symbol) →
    // method number; a later method replaces an earlier one, as
    // installing it would.
    let mut dictionaries: HashMap<(u32, bool), BTreeMap<u32, u32>> = HashMap::new();
    for (method, source) in from_traits.into_iter().chain(own) {
        let compiled = compile_method(&method).and_then(|t| {
            let literals = method_literals(&t, &mut space)?;
            let plan = lowering::lower(&t);
            let selector = space.symbol(&t.selector);
            let units = code.method(&plan, methods.len(), Value::Object(selector), &literals)?;
            let class_number = class_numbers
                .get(t.class_name.as_str())
                .copied()
                .ok_or_else(|| format!("class {} is not defined", t.class_name))?;
            let quick = quick_tokens(plan.quick, Value::Object(selector), &literals)?;
            // Start-up registers the image's methods first, in this order.
            let object = method_variables.as_ref().map(|vars| {
                let protocol = source.definition.category.as_deref();
                space.compiled_method(vars, &t.selector, methods.len(), protocol)
            });
            let ast = match &node_variables {
                Some(variables) => {
                    let compiled = object.map_or(Value::Nil, Value::Object);
                    let mut nodes = StaticNodes {
                        space: &mut space,
                        variables,
                    };
                    match ast_objects::method_node(&mut nodes, &method, compiled)? {
                        Value::Object(at) => Some(at),
                        _ => None,
                    }
                }
                None => None,
            };
            let tokens = method_tokens(
                &t,
                (class_number, selector),
                &units,
                quick,
                object,
                ast,
                &print_method(&method),
            );
            Ok((tokens, (class_number, t.class_side), selector as u32))
        });
        match compiled {
            Ok((tokens, class_side, selector)) => {
                let number = methods.len() as u32;
                dictionaries
                    .entry(class_side)
                    .or_default()
                    .insert(selector, number);
                methods.push(tokens);
            }
            Err(e) => errors.push(Diagnostic::at(
                &source.file.source.name,
                &source.file.source.text,
                source.definition.method.span.start as usize,
                e,
            )),
        }
    }
    problems.extend(errors.iter().map(ToString::to_string));
    if !problems.is_empty() {
        return Err(problems);
    }
    let classes = classes.iter().enumerate().map(|(n, c)| {
        let n = n as u32;
        let dictionary = |side| {
            dictionaries
                .get(&(n, side))
                .map_or(quote!(&[]), entries_tokens)
        };
        let place = ClassPlace {
            name_symbol: space.symbol(&c.name),
            category_symbol: space.symbol(&c.category_name()),
            superclass: c
                .superclass
                .as_ref()
                .and_then(|s| class_numbers.get(s.as_str())),
            all_inst_vars: env.all_inst_vars(&c.name),
            class_side_inst_vars: env.class_side_inst_vars(&c.name),
            methods: dictionary(false),
            class_methods: dictionary(true),
        };
        class_tokens(c, place)
    });
    let classes: Vec<TokenStream> = classes.collect();
    let metaclass_inst_vars = env.all_inst_vars("Metaclass");
    let (objects, symbols) = space.tokens();
    let (send_sites, bindings) = (code.send_sites(), code.binding_tokens());
    let code = code.tokens();
    let tokens = quote! {
        /// The image: generated by build.rs from the Smalltalk exports.
        pub static IMAGE: ImageDescription = ImageDescription {
            classes: &[#(#classes),*],
            metaclass_inst_vars: &[#(#metaclass_inst_vars),*],
            methods: &[#(#methods),*],
            // SAFETY: OBJECTS and CODE are the blocks the assembler laid
            // out, of exactly the sizes declared.
            objects: unsafe { &*(&raw const OBJECTS) },
            symbols: #symbols,
            code: unsafe { &*(&raw const CODE) },
            send_sites: #send_sites,
            bindings: #bindings,
        };

        #objects

        #code
    };
    let file = syn::parse2(tokens).map_err(|e| {
        vec![format!(
            "internal error: generated code does not parse: {e}"
        )]
    })?;
    Ok(Generated {
        source: prettyplease::unparse(&file),
        warnings: undeclared.warnings,
    })
}

/// What build.rs works out about a class beyond its definition.
struct ClassPlace<'a> {
    name_symbol: usize,
    category_symbol: usize,
    /// The place of its superclass in the image.
    superclass: Option<&'a u32>,
    all_inst_vars: Vec<String>,
    class_side_inst_vars: Vec<String>,
    /// Its method dictionaries (instance side, class side).
    methods: TokenStream,
    class_methods: TokenStream,
}

/// A method dictionary: `(selector, method)` entries, sorted by selector.
fn entries_tokens(dictionary: &BTreeMap<u32, u32>) -> TokenStream {
    let entries = dictionary
        .iter()
        .map(|(selector, method)| quote!(MethodEntry { selector: #selector, method: #method }));
    quote!(&[#(#entries),*])
}

fn class_tokens(c: &ClassDefinition, place: ClassPlace) -> TokenStream {
    let name = &c.name;
    let superclass_number = match place.superclass {
        Some(n) => quote!(Some(#n)),
        None => quote!(None),
    };
    let (name_symbol, category_symbol) = (place.name_symbol as u32, place.category_symbol as u32);
    let (all_inst_vars, class_side_inst_vars) = (&place.all_inst_vars, &place.class_side_inst_vars);
    let (methods, class_methods) = (&place.methods, &place.class_methods);
    let (inst_vars, class_vars, class_inst_vars, pools) =
        (&c.inst_vars, &c.class_vars, &c.class_inst_vars, &c.pools);
    let (package, category) = (c.package_name(), c.category_name());
    let layout = match c.layout {
        Layout::Fixed => quote!(Layout::Fixed),
        Layout::Variable => quote!(Layout::Variable),
        Layout::Bytes => quote!(Layout::Bytes),
        Layout::Words => quote!(Layout::Words),
        Layout::DoubleBytes => quote!(Layout::DoubleBytes),
        Layout::DoubleWords => quote!(Layout::DoubleWords),
        Layout::Weak => quote!(Layout::Weak),
        Layout::Ephemeron => quote!(Layout::Ephemeron),
        Layout::Immediate => quote!(Layout::Immediate),
        Layout::CompiledMethod => quote!(Layout::CompiledMethod),
    };
    quote! {
        ClassDescription {
            name: #name,
            name_symbol: #name_symbol,
            superclass_number: #superclass_number,
            inst_vars: &[#(#inst_vars),*],
            class_vars: &[#(#class_vars),*],
            class_inst_vars: &[#(#class_inst_vars),*],
            pools: &[#(#pools),*],
            all_inst_vars: &[#(#all_inst_vars),*],
            class_side_inst_vars: &[#(#class_side_inst_vars),*],
            layout: #layout,
            package: #package,
            category: #category,
            category_symbol: #category_symbol,
            methods: #methods,
            class_methods: #class_methods,
        }
    }
}

/// A method's literal frame (the selectors it sends included); its
/// objects go into the static space.
fn method_literals(m: &ThreadedMethod, space: &mut StaticSpace) -> Result<Vec<Literal>, String> {
    space.symbol(&m.selector);
    m.literals
        .iter()
        .map(|l| {
            Ok(match l {
                LiteralValue::Value(v) => Literal::Value(space.literal(v)?),
                LiteralValue::Selector(s) => Literal::Value(Value::Object(space.symbol(s))),
                LiteralValue::Binding(binding) => Literal::Binding(binding.clone()),
            })
        })
        .collect()
}

/// A method's quick shape, as `QuickShape<LiteralDescription>` tokens.
fn quick_tokens(
    quick: lowering::QuickShape<Operand>,
    selector: Value,
    literals: &[Literal],
) -> Result<TokenStream, String> {
    use lowering::QuickShape as Q;
    Ok(match quick {
        Q::No => quote!(QuickShape::No),
        Q::ReturnSelf => quote!(QuickShape::ReturnSelf),
        Q::ReturnInstVar(i) => quote!(QuickShape::ReturnInstVar(#i)),
        Q::StoreInstVar(i) => quote!(QuickShape::StoreInstVar(#i)),
        Q::ReturnConstant(operand) => {
            let value = operand_value(operand, selector, literals)?
                .ok_or_else(|| format!("internal error: quick constant {operand:?}"))?;
            let constant = literal_description(value);
            quote!(QuickShape::ReturnConstant(#constant))
        }
    })
}

/// A method's description; `numbers` are its class's place in the image
/// and its selector's static Symbol.
fn method_tokens(
    m: &ThreadedMethod,
    (class_number, selector_symbol): (u32, usize),
    units: &[UnitCode],
    quick: TokenStream,
    object: Option<usize>,
    ast: Option<usize>,
    source: &str,
) -> TokenStream {
    let (class, class_side, selector) = (&m.class_name, m.class_side, &m.selector);
    let selector_symbol = selector_symbol as u32;
    // Resolved at compile time, to the entry of the VM's primitive table
    // (None for a primitive it does not have).
    let args = m.units[0].num_args as usize;
    let primitive = match &m.primitive {
        Some(PrimitiveIndex::Number(n)) => quote!(crate::vm::primitives::numbered(#n, #args)),
        Some(PrimitiveIndex::Named { name, module }) => {
            quote!(crate::vm::primitives::named(#module, #name, #args))
        }
        None => quote!(None),
    };
    let error_slot = match m.primitive_error_slot {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    };
    let index = |at: Option<usize>| match at {
        Some(at) => {
            let at = at as u32;
            quote!(Some(#at))
        }
        None => quote!(None),
    };
    let (object, ast) = (index(object), index(ast));
    let units = m.units.iter().zip(units).map(|(u, code)| {
        let (a, c, t, s) = (u.num_args, u.num_copied, u.num_temps, u.max_stack);
        let (clean, non_local_return) = (u.facts.clean, u.facts.non_local_return);
        let (start, length) = (code.start, code.length);
        quote! {
            UnitDescription {
                num_args: #a, num_copied: #c, num_temps: #t, max_stack: #s,
                facts: BlockFacts { clean: #clean, non_local_return: #non_local_return },
                code: #start, length: #length,
            }
        }
    });
    quote! {
        MethodDescription {
            class: #class,
            class_number: #class_number,
            class_side: #class_side,
            selector: #selector,
            selector_symbol: #selector_symbol,
            primitive: #primitive,
            primitive_error_slot: #error_slot,
            units: &[#(#units),*],
            quick: #quick,
            source: #source,
            object: #object,
            ast: #ast,
        }
    }
}
