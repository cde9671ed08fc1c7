//! The image baked into the binary by build.rs, and the start-up that links
//! it into a running VM.
//!
//! build.rs reads `pharo-export/` (and the folders in `ZAG_EXPORTS`),
//! compiles every method to threaded code, and writes `$OUT_DIR/image.rs`:
//! a `static` [`ImageDescription`] holding the classes, the methods, their
//! static instructions and the static objects. Start-up does no parsing
//! and no compiling: [`boot`] makes each class from its static description
//! (its slots counted and its method dictionaries sorted by build.rs),
//! resolves the variables the code names, and registers each method with
//! its static code.

use zag_compiler::environment::ClassShape;
use zag_compiler::lowering::QuickShape;
use zag_compiler::threaded::BlockFacts;
use zag_compiler::tonel::Layout;

use crate::memory::statics::{self, Word};
use crate::object::Oop;
use crate::vm::classes::{ClassIndex, Names};
use crate::vm::method::{Code, Instr, Method, MethodSource, Unit};
use crate::vm::method_dictionary::{MethodDictionary, MethodEntry};
use crate::vm::{loader, Vm};

pub struct ImageDescription {
    /// Classes, each after its superclass.
    pub classes: &'static [ClassDescription],
    /// Metaclass's instance variables (the slots of every metaclass).
    pub metaclass_inst_vars: &'static [&'static str],
    pub methods: &'static [MethodDescription],
    /// The static objects: Symbols, method literals, CompiledMethods and
    /// AST nodes (see `memory::statics`).
    pub objects: &'static [Word],
    /// Every Symbol in `objects`, sorted by name, with its header's index.
    pub symbols: &'static [(&'static str, u32)],
    /// The methods' instructions, unit after unit.
    pub code: &'static [Instr],
    /// How many send sites `code` has (numbered from 1: the VM's inline
    /// caches).
    pub send_sites: u32,
    /// The variables `code` names by number (its bindings), in order.
    pub bindings: &'static [BindingDescription],
}

/// A class and its metaclass, with everything start-up needs worked out:
/// their slots and their method dictionaries.
pub struct ClassDescription {
    pub name: &'static str,
    /// Its name, a static Symbol (the index of its header).
    pub name_symbol: u32,
    /// The place of its superclass in [`ImageDescription::classes`].
    pub superclass_number: Option<u32>,
    /// The instance variables it defines (and the class variables, class
    /// instance variables and pools), as in its definition.
    pub inst_vars: &'static [&'static str],
    pub class_vars: &'static [&'static str],
    pub class_inst_vars: &'static [&'static str],
    pub pools: &'static [&'static str],
    /// Its instances' slots: all instance variables, inherited first.
    pub all_inst_vars: &'static [&'static str],
    /// The class object's slots: Class's, then the class-side instance
    /// variables down the hierarchy.
    pub class_side_inst_vars: &'static [&'static str],
    pub layout: Layout,
    pub package: &'static str,
    /// Pharo's class category (`Kernel-Classes`).
    pub category: &'static str,
    /// Its category, a static Symbol.
    pub category_symbol: u32,
    /// The method dictionaries of its instance side and its class side,
    /// sorted by selector.
    pub methods: &'static [MethodEntry],
    pub class_methods: &'static [MethodEntry],
}

pub struct MethodDescription {
    pub class: &'static str,
    /// The place of its class in [`ImageDescription::classes`].
    pub class_number: u32,
    pub class_side: bool,
    pub selector: &'static str,
    /// Its selector, a static Symbol (the index of its header).
    pub selector_symbol: u32,
    /// Its primitive's entry in the primitive table (resolved at compile
    /// time: build.rs writes `primitives::numbered(60, 1)`...), or none.
    pub primitive: Option<&'static crate::vm::primitives::Primitive>,
    pub primitive_error_slot: Option<u16>,
    /// Its code units (the block bodies after the method's).
    pub units: &'static [UnitDescription],
    /// Whether it answers without an activation (see `lowering`).
    pub quick: QuickShape<LiteralDescription>,
    /// The method's source, printed from its AST at build time.
    pub source: &'static str,
    /// Its static CompiledMethod object (the index of its header in
    /// [`ImageDescription::objects`]); none when the kernel has no
    /// CompiledMethod class.
    pub object: Option<u32>,
    /// Its AST as static objects (an RBMethodNode, the index of its
    /// header); none when the kernel lacks the AST node classes.
    pub ast: Option<u32>,
}

/// A code unit: its frame, and where its instructions are in
/// [`ImageDescription::code`].
pub struct UnitDescription {
    pub num_args: u16,
    pub num_copied: u16,
    pub num_temps: u16,
    pub max_stack: u16,
    pub facts: BlockFacts,
    pub code: u32,
    pub length: u32,
}

/// A variable the code names: the VM's Association for it is made (or
/// found) at start-up.
pub enum BindingDescription {
    Global(&'static str),
    ClassVariable(&'static str, &'static str),
    PoolVariable(&'static str, &'static str),
}

/// A constant, in a form a `static` can hold.
pub enum LiteralDescription {
    Nil,
    True,
    False,
    /// A SmallInteger.
    Integer(i64),
    /// The bits of a SmallFloat64.
    Float(u64),
    Character(char),
    /// A static object (a Symbol, String, Array, LargeInteger...): the
    /// index of its header in [`ImageDescription::objects`].
    Object(u32),
}

mod generated {
    #![allow(clippy::all)]
    use super::*;
    use crate::object::classes;

    // The section of the static objects: on ELF targets one that is
    // read-only once the loader has relocated it, elsewhere plain data.
    #[cfg(not(any(target_vendor = "apple", target_os = "windows")))]
    macro_rules! begin_static_objects {
        () => {
            ".pushsection .data.rel.ro.zag_image_objects, \"aw\""
        };
    }
    #[cfg(not(any(target_vendor = "apple", target_os = "windows")))]
    macro_rules! end_static_objects {
        () => {
            ".popsection"
        };
    }
    #[cfg(any(target_vendor = "apple", target_os = "windows"))]
    macro_rules! begin_static_objects {
        () => {
            ".data"
        };
    }
    #[cfg(any(target_vendor = "apple", target_os = "windows"))]
    macro_rules! end_static_objects {
        () => {
            ".text"
        };
    }

    include!(concat!(env!("OUT_DIR"), "/image.rs"));
}

pub use generated::IMAGE;

/// A VM holding the image: its classes, and its methods ready to run.
pub fn boot() -> Result<Vm, String> {
    boot_from(&IMAGE)
}

pub fn boot_from(image: &'static ImageDescription) -> Result<Vm, String> {
    let mut vm = Vm::new();
    vm.universe.use_static_symbols(image.objects, image.symbols);
    let classes = define_classes(&mut vm, image)?;
    resolve_bindings(&mut vm, image)?;
    vm.universe.add_send_sites(image.send_sites)?;
    register_methods(&mut vm, image, &classes)?;
    let order: Vec<_> = classes.iter().map(|(class, _)| *class).collect();
    vm.initialize_classes(&order)
        .map_err(|e| format!("class initialization failed: {e}"))?;
    Ok(vm)
}

/// Makes every class from its description, and tells the environment
/// (the runtime compiler's) about it; answers each class's index and its
/// metaclass's, by place in the image.
fn define_classes(
    vm: &mut Vm,
    image: &'static ImageDescription,
) -> Result<Vec<(ClassIndex, ClassIndex)>, String> {
    for c in image.classes {
        vm.universe.environment.add(ClassShape {
            name: c.name.to_string(),
            superclass: c
                .superclass_number
                .and_then(|n| image.classes.get(n as usize))
                .map(|s| s.name.to_string()),
            inst_vars: strings(c.inst_vars),
            class_vars: strings(c.class_vars),
            class_inst_vars: strings(c.class_inst_vars),
            pools: strings(c.pools),
            is_trait: false,
        });
    }
    let mut classes: Vec<(ClassIndex, ClassIndex)> = Vec::with_capacity(image.classes.len());
    let metaclass = loader::MetaclassSlots::of(image.metaclass_inst_vars.iter().copied());
    let symbol = |at: u32| statics::object_at(image.objects, at as usize);
    vm.universe.reserve_classes(image.classes.len());
    for c in image.classes {
        let superclass = match c.superclass_number {
            Some(n) => Some(
                classes
                    .get(n as usize)
                    .ok_or_else(|| format!("class {} comes before its superclass", c.name))?
                    .0,
            ),
            None => None,
        };
        let class = loader::ClassParts {
            name: c.name,
            name_symbol: symbol(c.name_symbol),
            superclass,
            inst_vars: Names::Static(c.all_inst_vars),
            class_side_inst_vars: Names::Static(c.class_side_inst_vars),
            class_vars: c.class_vars,
            layout: c.layout,
            package: c.package,
            category: symbol(c.category_symbol),
            methods: MethodDictionary::image(c.methods, image.objects),
            class_methods: MethodDictionary::image(c.class_methods, image.objects),
        };
        classes.push(loader::add_class(vm, class, &metaclass));
    }
    loader::connect_root_metaclasses(vm);
    Ok(classes)
}

/// Gives the variables the static code names by number their
/// Associations in this VM, in order.
fn resolve_bindings(vm: &mut Vm, image: &'static ImageDescription) -> Result<(), String> {
    for binding in image.bindings {
        let association = match binding {
            BindingDescription::Global(name) => vm.global_binding(name),
            BindingDescription::ClassVariable(class, name)
            | BindingDescription::PoolVariable(class, name) => vm
                .universe
                .class_variable(class, name)
                .ok_or_else(|| format!("variable {class}>>{name} is not defined"))?,
        };
        vm.universe.add_binding(association);
    }
    Ok(())
}

/// Registers each method with its static code, CompiledMethod and AST, in
/// the order build.rs numbered them.
fn register_methods(
    vm: &mut Vm,
    image: &'static ImageDescription,
    classes: &[(ClassIndex, ClassIndex)],
) -> Result<(), String> {
    for (index, m) in image.methods.iter().enumerate() {
        let class_name = || {
            let side = if m.class_side { " class" } else { "" };
            format!("{}{side}", m.class)
        };
        let (instance, meta) = classes
            .get(m.class_number as usize)
            .copied()
            .ok_or_else(|| format!("image method {}>>{} has no class", class_name(), m.selector))?;
        let class = if m.class_side { meta } else { instance };
        let units = m
            .units
            .iter()
            .map(|u| {
                let (start, end) = (u.code as usize, (u.code + u.length) as usize);
                Unit {
                    num_args: u.num_args,
                    num_copied: u.num_copied,
                    num_temps: u.num_temps,
                    max_stack: u.max_stack,
                    facts: u.facts,
                    code: Code::Static(&image.code[start..end]),
                }
            })
            .collect();
        let quick = match &m.quick {
            QuickShape::ReturnConstant(c) => QuickShape::ReturnConstant(
                constant(vm, image, c)
                    .map_err(|e| format!("{}>>{}: {e}", class_name(), m.selector))?,
            ),
            other => other.map(|_| vm.universe.nil),
        };
        let selector = statics::object_at(image.objects, m.selector_symbol as usize);
        let method = Method::new(
            vm,
            selector,
            class,
            m.primitive,
            m.primitive_error_slot,
            quick,
            units,
            MethodSource::Image(m.source),
        );
        let object = m
            .object
            .map(|at| statics::object_at(image.objects, at as usize));
        // (Its class's method dictionary, static, names it already.)
        let registered = vm.register_as(method, object)?;
        if let Some(at) = m.ast {
            vm.universe.methods[registered as usize].ast_object =
                statics::object_at(image.objects, at as usize);
        }
        // The static code and CompiledMethod name the method by its place
        // in the registry, which build.rs counted.
        if registered as usize != index {
            return Err(format!(
                "image method {}>>{} registered as {registered}, not {index}",
                class_name(),
                m.selector
            ));
        }
    }
    Ok(())
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The object a constant describes.
fn constant(
    vm: &Vm,
    image: &'static ImageDescription,
    c: &LiteralDescription,
) -> Result<Oop, String> {
    use LiteralDescription as L;
    Ok(match c {
        L::Nil => vm.universe.nil,
        L::True => vm.universe.true_object,
        L::False => vm.universe.false_object,
        L::Integer(i) => Oop::small_integer(*i).ok_or("a SmallInteger constant out of range")?,
        L::Float(bits) => {
            Oop::small_float(f64::from_bits(*bits)).ok_or("a SmallFloat64 constant out of range")?
        }
        L::Character(c) => Oop::character(*c),
        L::Object(at) => statics::object_at(image.objects, *at as usize),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code of `class>>selector` in `vm`.
    fn code_of(vm: &mut Vm, class: &str, selector: &str) -> &'static [Instr] {
        let class = vm.universe.classes.index_of(class).expect("a kernel class");
        let selector = vm.intern(selector);
        let method = vm
            .universe
            .classes
            .get(class)
            .expect("defined")
            .methods
            .get(selector);
        let method = method.expect("a method of the image");
        match vm.universe.methods[method as usize].units[0].code {
            Code::Static(code) => code,
            Code::Owned(_) => panic!("an image method has static code"),
        }
    }

    #[test]
    fn vms_share_the_static_code_but_not_caches_or_bindings() {
        let mut first = boot().unwrap();
        let mut second = boot().unwrap();
        let code = code_of(&mut first, "Integer", "factorial");
        assert!(std::ptr::eq(
            code,
            code_of(&mut second, "Integer", "factorial")
        ));
        let block = IMAGE.code.as_ptr_range();
        assert!(block.contains(&code.as_ptr()));
        // Running fills the first VM's inline caches only.
        // (Booting ran the class initializers.)
        let filled = |vm: &Vm| vm.universe.caches.iter().filter(|c| c.class != 0).count();
        let before = (filled(&first), filled(&second));
        first.evaluate("20 factorial printString").unwrap();
        assert!(filled(&first) > before.0);
        assert_eq!(filled(&second), before.1);
        assert_eq!(second.universe.caches.len(), 1 + IMAGE.send_sites as usize);
        // Each VM resolved the image's bindings to its own Associations.
        assert_eq!(first.universe.bindings.len(), IMAGE.bindings.len());
        assert!(!first.universe.bindings.is_empty());
        assert!(first
            .universe
            .bindings
            .iter()
            .zip(&second.universe.bindings)
            .all(|(a, b)| a != b));
    }

    #[test]
    fn every_instruction_records_the_plan_handler_it_runs() {
        let mut vm = boot().unwrap();
        // Run-time code too: a do-it with a block, a loop and sends.
        vm.evaluate(
            "| s | s := 0. #(1 2 3) do: [:x | s := s + x]. 1 to: 3 do: [:i | s := s * i]. s",
        )
        .unwrap();
        let (mut static_code, mut owned_code) = (0, 0);
        for method in &vm.universe.methods {
            for unit in &method.units {
                match unit.code {
                    Code::Static(_) => static_code += unit.code.len(),
                    Code::Owned(_) => owned_code += unit.code.len(),
                }
                for instr in unit.code.iter() {
                    let kind = instr.plan_handler().expect("a plan handler's kind");
                    assert_eq!(
                        instr.handler as usize,
                        crate::vm::interpreter::function(kind) as usize,
                        "an instruction recorded as {} runs another handler",
                        kind.name()
                    );
                }
            }
        }
        assert!(
            static_code > 30_000 && owned_code > 10,
            "{static_code} {owned_code}"
        );
    }

    #[test]
    fn method_dictionaries_are_static_and_run_time_methods_go_over_them() {
        let mut first = boot().unwrap();
        let mut second = boot().unwrap();
        fn dictionary<'v>(vm: &'v Vm, class: &str) -> &'v MethodDictionary {
            let class = vm.universe.classes.index_of(class).expect("a kernel class");
            &vm.universe.classes.get(class).expect("defined").methods
        }
        // Integer's dictionary is build.rs's table: both VMs find the
        // method it names, and neither filled anything.
        let factorial = first.intern("factorial");
        let integer = IMAGE.classes.iter().find(|c| c.name == "Integer");
        let entry = integer
            .and_then(|c| {
                c.methods
                    .iter()
                    .find(|e| statics::object_at(IMAGE.objects, e.selector as usize) == factorial)
            })
            .expect("build.rs's dictionary of Integer names factorial");
        for vm in [&first, &second] {
            assert_eq!(dictionary(vm, "Integer").get(factorial), Some(entry.method));
        }
        let count = |vm: &mut Vm| {
            let size = vm.evaluate("Integer selectors size").unwrap();
            size.as_small_integer().expect("a size")
        };
        let before = count(&mut first);
        assert!(before > 10);
        // Filing in replaces an image method and adds one, in this VM only.
        let mut import = zag_compiler::import::Import::default();
        import.add_source(zag_compiler::source::SourceFile::new(
            "Integer.extension.st",
            "Extension { #name : 'Integer' }\nInteger >> factorial [ ^ 42 ]\nInteger >> zagAnswer [ ^ 7 ]\n",
        ));
        loader::load(&mut first, &import).unwrap();
        let printed = |vm: &mut Vm, source: &str| {
            let value = vm.evaluate(source).unwrap();
            value.as_small_integer()
        };
        assert_eq!(printed(&mut first, "5 factorial"), Some(42));
        assert_eq!(printed(&mut first, "5 zagAnswer"), Some(7));
        assert_eq!(printed(&mut second, "5 factorial"), Some(120));
        assert!(second.evaluate("5 zagAnswer").is_err());
        // `selectors` names each selector once.
        assert_eq!(count(&mut first), before + 1);
        assert_eq!(count(&mut second), before);
        let unique = "(Integer selectors select: [:s | s == #factorial]) size";
        assert_eq!(printed(&mut first, unique), Some(1));
        let replaced = dictionary(&first, "Integer").get(factorial);
        assert!(replaced.is_some_and(|m| m as usize >= IMAGE.methods.len()));
        // A Symbol made at run time is in no static table, nor is an
        // immediate whose bits are a static Symbol's address plus a tag.
        let made = first.intern("zagSelectorNoImageHas");
        assert_eq!(dictionary(&first, "Integer").get(made), None);
        let integer = Oop::small_integer((factorial.bits() >> 3) as i64).expect("small");
        assert_eq!(integer.bits() & !0b111, factorial.bits());
        assert_eq!(dictionary(&second, "Integer").get(integer), None);
    }

    #[test]
    fn run_time_code_reuses_the_bindings_and_gets_its_own_sites() {
        let mut vm = boot().unwrap();
        let (sites, bindings) = (vm.universe.caches.len(), vm.universe.bindings.len());
        // A global the image's code names already.
        let global = IMAGE
            .bindings
            .iter()
            .find_map(|b| match b {
                BindingDescription::Global(name) => Some(*name),
                _ => None,
            })
            .expect("the kernel names a global");
        vm.evaluate(&format!(
            "{global} yourself. Smalltalk at: #ZagRunTimeGlobal put: 3"
        ))
        .unwrap();
        assert_eq!(vm.universe.bindings.len(), bindings);
        assert!(vm.universe.caches.len() > sites);
        // A global no image method names gets a new number.
        assert!(!IMAGE
            .bindings
            .iter()
            .any(|b| matches!(b, BindingDescription::Global("ZagRunTimeGlobal"))));
        let seven = vm.evaluate("ZagRunTimeGlobal + 4").unwrap();
        assert_eq!(seven.as_small_integer(), Some(7));
        assert_eq!(vm.universe.bindings.len(), bindings + 1);
    }
}
