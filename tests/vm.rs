//! The threaded interpreter running Smalltalk: a small kernel, written here
//! as Tonel, is loaded through the same import path as real packages.

use zag::object::Oop;
use zag::vm::{loader, Vm};
use zag_compiler::import::Import;
use zag_compiler::source::SourceFile;

const KERNEL: &[(&str, &str)] = &[
    ("ProtoObject.class.st", "Class { #name : 'ProtoObject', #superclass : nil }
ProtoObject >> == anObject [ <primitive: 110> ]
ProtoObject >> identityHash [ <primitive: 75> ]
"),
    ("Object.class.st", "Class { #name : 'Object', #superclass : 'ProtoObject' }
Object >> class [ <primitive: 111> ]
Object >> yourself [ ^ self ]
Object >> doesNotUnderstand: aMessage [ ^ { #dnu. aMessage selector. aMessage arguments } ]
Object >> recurse: n [ ^ n = 0 ifTrue: [ 0 ] ifFalse: [ (self recurse: n - 1) + 1 ] ]
Object class >> new [ ^ self basicNew initialize ]
Object class >> basicNew [ <primitive: 70> ]
Object >> initialize [ ]
"),
    ("Behavior.class.st", "Class { #name : 'Behavior', #superclass : 'Object', #instVars : [ 'superclass', 'methodDict', 'format' ] }"),
    ("Class.class.st", "Class { #name : 'Class', #superclass : 'Behavior', #instVars : [ 'name' ] }"),
    ("Metaclass.class.st", "Class { #name : 'Metaclass', #superclass : 'Behavior', #instVars : [ 'thisClass' ] }"),
    ("UndefinedObject.class.st", "Class { #name : 'UndefinedObject', #superclass : 'Object' }"),
    ("Boolean.class.st", "Class { #name : 'Boolean', #superclass : 'Object' }"),
    ("True.class.st", "Class { #name : 'True', #superclass : 'Boolean' }
True >> not [ ^ false ]
"),
    ("False.class.st", "Class { #name : 'False', #superclass : 'Boolean' }
False >> not [ ^ true ]
"),
    ("SmallInteger.class.st", "Class { #name : 'SmallInteger', #superclass : 'Object', #type : 'immediate' }
SmallInteger >> + aNumber [ <primitive: 1 error: ec> ^ { #failed. ec } ]
SmallInteger >> - aNumber [ <primitive: 2> ^ #failed ]
SmallInteger >> < aNumber [ <primitive: 3> ]
SmallInteger >> <= aNumber [ <primitive: 5> ]
SmallInteger >> > aNumber [ <primitive: 4> ]
SmallInteger >> = aNumber [ <primitive: 7> ^ false ]
SmallInteger >> * aNumber [ <primitive: 9> ^ #overflow ]
SmallInteger >> // aNumber [ <primitive: 12> ^ #zeroDivide ]
SmallInteger >> \\\\ aNumber [ <primitive: 11> ]
SmallInteger >> fib [ ^ self < 2 ifTrue: [ self ] ifFalse: [ (self - 1) fib + (self - 2) fib ] ]
"),
    ("Array.class.st", "Class { #name : 'Array', #superclass : 'Object', #type : 'variable' }
Array class >> new: n [ <primitive: 71> ^ #badSize ]
Array >> at: i [ <primitive: 60> ^ #badIndex ]
Array >> at: i put: v [ <primitive: 61> ^ #badIndex ]
Array >> size [ <primitive: 62> ]
Array >> do: aBlock [ 1 to: self size do: [ :i | aBlock value: (self at: i) ] ]
Array >> detect: aBlock [ self do: [ :each | (aBlock value: each) ifTrue: [ ^ each ] ]. ^ nil ]
"),
    ("BlockClosure.class.st", "Class { #name : 'BlockClosure', #superclass : 'Object', #type : 'variable' }
BlockClosure >> value [ <primitive: 201> ^ #wrongArgumentCount ]
BlockClosure >> value: a [ <primitive: 202> ^ #wrongArgumentCount ]
BlockClosure >> value: a value: b [ <primitive: 203> ^ #wrongArgumentCount ]
"),
    ("Message.class.st", "Class { #name : 'Message', #superclass : 'Object', #instVars : [ 'selector', 'args', 'lookupClass' ] }
Message >> selector [ ^ selector ]
Message >> arguments [ ^ args ]
"),
    ("Association.class.st", "Class { #name : 'Association', #superclass : 'Object', #instVars : [ 'key', 'value' ] }"),
    ("ByteSymbol.class.st", "Class { #name : 'ByteSymbol', #superclass : 'Object', #type : 'bytes' }"),
    ("ByteString.class.st", "Class { #name : 'ByteString', #superclass : 'Object', #type : 'bytes' }
ByteString >> size [ <primitive: 62> ]
"),
    ("Point.class.st", "Class { #name : 'Point', #superclass : 'Object', #instVars : [ 'x', 'y' ], #classVars : [ 'Made' ], #classInstVars : [ 'made' ] }
Point class >> x: ax y: ay [ Made := (Made ifNil: [ 0 ]) + 1. made := (made ifNil: [ 0 ]) + 1. ^ self new setX: ax y: ay ]
Point class >> made [ ^ { Made. made } ]
Point >> setX: ax y: ay [ x := ax. y := ay ]
Point >> x [ ^ x ]
Point >> x: ax [ x := ax ]
Point >> origin [ ^ 0 ]
Point >> nothing [ ]
Point >> x: ax twice: n [ x := ax ]
Point >> y [ ^ y ]
Point >> + other [ ^ Point x: x + other x y: y + other y ]
Point >> sum [ ^ x + y ]
"),
    ("Point3D.class.st", "Class { #name : 'Point3D', #superclass : 'Point', #instVars : [ 'z' ] }
Point3D >> setX: ax y: ay [ super setX: ax y: ay. z := 0 ]
Point3D >> z [ ^ z ]
Point3D >> sum [ ^ super sum + z + 100 ]
"),
];

fn vm_with(gc_stress: Option<u32>) -> Vm {
    let mut import = Import::default();
    for (name, text) in KERNEL {
        import.add_source(SourceFile::new(*name, *text));
    }
    let mut vm = Vm::new();
    loader::load(&mut vm, &import).unwrap_or_else(|problems| panic!("{problems:#?}"));
    vm.set_gc_stress(gc_stress);
    if gc_stress.is_some() {
        // Old space too, after every scavenge.
        vm.heap.set_full_collection_threshold(Some(0));
    }
    vm
}

/// Runs `test` on a VM collecting normally and on one collecting the
/// nursery at every allocation and old space after every scavenge, each
/// interpreting and with the JIT compiling every method at its first call:
/// results must depend neither on when collections happen nor on what is
/// compiled.
fn in_every_mode(test: impl Fn(Vm)) {
    for gc_stress in [None, Some(1)] {
        test(vm_with(gc_stress));
        if cfg!(feature = "jit") {
            let mut vm = vm_with(gc_stress);
            vm.universe.set_jit_threshold(Some(0));
            test(vm);
        }
    }
}

fn eval(vm: &mut Vm, source: &str) -> String {
    match vm.evaluate(source) {
        Ok(v) => describe(vm, v),
        Err(e) => panic!("{source}: {e}"),
    }
}

/// Like `Vm::describe`, but shows Arrays' elements.
fn describe(vm: &Vm, v: Oop) -> String {
    let text = vm.describe(v);
    if text != "an Array" {
        return text;
    }
    let items: Vec<String> = (0..)
        .map_while(|i| zag::memory::slot(v, i))
        .map(|e| describe(vm, e))
        .collect();
    format!("{{{}}}", items.join(" "))
}

#[test]
fn arithmetic_and_comparisons() {
    in_every_mode(|mut vm| {
        assert_eq!(eval(&mut vm, "3 + 4"), "7");
        assert_eq!(eval(&mut vm, "| a | a := 6. a * 7 - 2"), "40");
        assert_eq!(eval(&mut vm, "17 // 5"), "3");
        assert_eq!(eval(&mut vm, "-17 // 5"), "-4");
        assert_eq!(eval(&mut vm, "-17 \\\\ 5"), "3");
        assert_eq!(eval(&mut vm, "3 < 4"), "true");
        assert_eq!(eval(&mut vm, "(3 = 4) not"), "true");
        assert_eq!(eval(&mut vm, "20 fib"), "6765");
    });
}

#[test]
fn scaled_decimal_literals_compiled_at_run_time() {
    // The image's own literals are static objects (ZagScaledDecimalTest);
    // code compiled at run time makes them in old space, read-only.
    for gc_stress in [None, Some(1)] {
        let mut vm = zag::image::boot().unwrap();
        vm.set_gc_stress(gc_stress);
        assert_eq!(eval(&mut vm, "1.5s2 printString"), "'1.50s2'");
        assert_eq!(
            eval(&mut vm, "#(-0.05s2 3s) printString"),
            "'#(-0.05s2 3s0)'"
        );
        assert_eq!(eval(&mut vm, "(1.5s2 + (1/3)) printString"), "'1.83s2'");
        assert_eq!(eval(&mut vm, "(1.5s2 + (1/3)) = (11/6)"), "true");
        assert_eq!(
            eval(&mut vm, "123456789012345678901234567890.5s1 * 2"),
            "a ScaledDecimal"
        );
        assert_eq!(
            eval(&mut vm, "[1.5s2 setNumerator: 1 denominator: 2 scale: 3] on: ModificationForbidden do: [:e | #readOnly]"),
            "#readOnly"
        );
    }
    // A kernel without ScaledDecimal refuses the literal, saying why.
    let mut vm = vm_with(None);
    let error = vm.evaluate("1.5s2").unwrap_err();
    assert!(
        error.message.contains("need the class ScaledDecimal"),
        "{error}"
    );
}

#[test]
fn failed_primitives_run_the_method_body_with_the_error_code() {
    in_every_mode(|mut vm| {
        // The error code is the Symbol of Pharo's primitive error table...
        assert_eq!(eval(&mut vm, "3 + nil"), "{#failed #'bad argument'}");
        // ...or nil for a generic failure, like overflowing SmallInteger range.
        assert_eq!(eval(&mut vm, "1152921504606846975 + 1"), "{#failed nil}");
        assert_eq!(eval(&mut vm, "536870912 * 1073741824 * 2"), "#overflow");
        assert_eq!(
            eval(&mut vm, "536870912 * 1073741824"),
            "576460752303423488"
        );
        assert_eq!(eval(&mut vm, "7 // 0"), "#zeroDivide");
        assert_eq!(eval(&mut vm, "(Array new: 2) at: 3"), "#badIndex");
        assert_eq!(eval(&mut vm, "(Array new: 2) at: #x"), "#badIndex");
        assert_eq!(eval(&mut vm, "Array new: -1"), "#badSize");
        assert_eq!(eval(&mut vm, "[:x | x] value"), "#wrongArgumentCount");
    });
}

#[test]
fn messages_not_understood_reach_does_not_understand() {
    in_every_mode(|mut vm| {
        assert_eq!(eval(&mut vm, "3 foo: 4 bar: 5"), "{#dnu #foo:bar: {4 5}}");
        assert_eq!(eval(&mut vm, "nil zork"), "{#dnu #zork {}}");
    });
}

#[test]
fn unhandled_errors_carry_a_smalltalk_stack_trace() {
    let mut vm = Vm::new();
    let mut import = Import::default();
    import.add_source(SourceFile::new(
        "Bare.class.st",
        "Class { #name : 'Bare', #superclass : nil }\nBare >> outer [ ^ self inner ]\nBare >> inner [ ^ [ self missing ] value ]\n",
    ));
    import.add_source(SourceFile::new(
        "BlockClosure.class.st",
        "Class { #name : 'BlockClosure', #superclass : nil }\nBlockClosure >> value [ <primitive: 201> ]\n",
    ));
    import.add_source(SourceFile::new(
        "Class.class.st",
        "Class { #name : 'Class', #superclass : nil }\nClass >> new [ <primitive: 70> ]\n",
    ));
    loader::load(&mut vm, &import).unwrap();
    let err = vm.evaluate("Bare new outer").unwrap_err();
    assert_eq!(err.message, "Bare>>missing: message not understood");
    assert_eq!(
        err.trace,
        [
            "[] in Bare>>inner",
            "Bare>>inner",
            "Bare>>outer",
            "UndefinedObject>>DoIt"
        ]
    );
    // The VM is usable after an error.
    let bare = vm.evaluate("Bare").unwrap();
    assert_eq!(vm.describe(bare), "Bare");
}

#[test]
fn objects_instance_variables_class_side_and_super() {
    in_every_mode(|mut vm| {
        assert_eq!(
            eval(&mut vm, "((Point x: 1 y: 2) + (Point x: 10 y: 20)) y"),
            "22"
        );
        assert_eq!(eval(&mut vm, "(Point x: 1 y: 2) sum"), "3");
        assert_eq!(eval(&mut vm, "(Point3D x: 1 y: 2) sum"), "103");
        assert_eq!(eval(&mut vm, "(Point3D x: 1 y: 2) z"), "0");
        assert_eq!(eval(&mut vm, "(Point3D x: 1 y: 2) class"), "Point3D");
        assert_eq!(eval(&mut vm, "Point3D class"), "Point3D class");
        // Class variables are shared with subclasses; class-side instance
        // variables are per class.
        // 4 Points and 3 Point3Ds were made above.
        assert_eq!(eval(&mut vm, "Point made"), "{7 4}");
        assert_eq!(eval(&mut vm, "Point3D made"), "{7 3}");
    });
}

#[test]
fn closures_and_non_local_return() {
    in_every_mode(|mut vm| {
        assert_eq!(eval(&mut vm, "[:a :b | a + b] value: 1 value: 2"), "3");
        assert_eq!(
            eval(
                &mut vm,
                "| n inc | n := 0. inc := [ n := n + 1 ]. inc value. inc value. n"
            ),
            "2"
        );
        assert_eq!(eval(&mut vm, "| a | a := Array new: 3. a at: 1 put: 5; at: 2 put: 7; at: 3 put: 9. a detect: [:e | e > 6]"), "7");
        assert_eq!(eval(&mut vm, "#(1 2 3) detect: [:e | e > 5]"), "nil");
        assert_eq!(eval(&mut vm, "{ 1. 2 + 3. #(4) }"), "{1 5 {4}}");
    });
}

#[test]
fn returning_to_a_dead_home_is_block_cannot_return() {
    in_every_mode(|mut vm| {
        let mut import = Import::default();
        import.add_source(SourceFile::new(
            "Escaper.class.st",
            "Class { #name : 'Escaper', #superclass : 'Object' }\nEscaper >> escape [ ^ [ :x | ^ x ] ]\n",
        ));
        loader::load(&mut vm, &import).unwrap();
        let err = vm.evaluate("(Escaper new escape) value: 3").unwrap_err();
        assert!(err.message.starts_with("BlockCannotReturn"), "{err}");
    });
}

#[test]
fn deep_recursion_works_and_runaway_recursion_is_a_clean_error() {
    in_every_mode(|mut vm| {
        assert_eq!(eval(&mut vm, "nil recurse: 100000"), "100000");
        assert_eq!(
            eval(
                &mut vm,
                "| b | b := [:n | n = 0 ifTrue: [0] ifFalse: [(b value: n - 1) + 1]]. b value: 100000"
            ),
            "100000"
        );
        let err = vm
            .evaluate("| b | b := [:n | n = 0 ifTrue: [0] ifFalse: [(b value: n - 1) + 1]]. b value: 10000000")
            .unwrap_err();
        assert!(err.message.starts_with("stack overflow"), "{}", err.message);
        assert!(err.trace.len() > 100_000);
        // And the VM goes on.
        assert_eq!(eval(&mut vm, "3 + 4"), "7");
        assert_eq!(vm.stack_depth(), 0);
    });
}

#[test]
fn redefining_a_method_invalidates_inline_caches() {
    in_every_mode(|mut vm| {
        let run = |vm: &mut Vm| eval(vm, "(Point x: 1 y: 2) sum");
        assert_eq!(run(&mut vm), "3");
        // A method whose send site caches `sum` (the do-its are compiled
        // anew each time; this site is not).
        let twice = |vm: &mut Vm| eval(vm, "(Point x: 1 y: 2) twiceSum");
        let mut import = Import::default();
        import.add_source(SourceFile::new(
            "Point.extension.st",
            "Extension { #name : 'Point' }\nPoint >> twiceSum [ ^ self sum * 2 ]\n",
        ));
        loader::load(&mut vm, &import).unwrap();
        assert_eq!(twice(&mut vm), "6");
        let mut import = Import::default();
        import.add_source(SourceFile::new(
            "Point.extension.st",
            "Extension { #name : 'Point' }\nPoint >> sum [ ^ x * 100 + y ]\n",
        ));
        loader::load(&mut vm, &import).unwrap();
        assert_eq!(run(&mut vm), "102");
        assert_eq!(twice(&mut vm), "204");
    });
}

/// Compiled sends answer quick methods inline and push plain methods'
/// frames with their size built in, for the class their inline cache held
/// when they were compiled; a redefinition must end those guesses.
#[cfg(feature = "jit")]
#[test]
fn guesses_from_the_inline_caches_end_when_a_method_is_redefined() {
    let load = |vm: &mut Vm, source: &str| {
        let mut import = Import::default();
        import.add_source(SourceFile::new(
            "Point.extension.st",
            format!("Extension {{ #name : 'Point' }}\n{source}\n"),
        ));
        loader::load(vm, &import).unwrap();
    };
    for gc_stress in [None, Some(1)] {
        let mut vm = vm_with(gc_stress);
        vm.universe.set_jit_threshold(Some(3));
        load(
            &mut vm,
            "Point >> probe [ ^ self x + self sum + self origin ]\n\
             Point >> poke: v [ ^ (self x: v) x ]\n\
             Point >> sumOf: a [ | s | s := 0. 1 to: a size do: [ :i | \
                a at: i put: i. s := s + (a at: i) ]. ^ s ]",
        );
        for _ in 0..6 {
            assert_eq!(eval(&mut vm, "(Point x: 1 y: 2) probe"), "4");
            assert_eq!(eval(&mut vm, "(Point x: 1 y: 2) poke: 9"), "9");
            assert_eq!(
                eval(&mut vm, "(Point x: 1 y: 2) sumOf: (Array new: 10)"),
                "55"
            );
        }
        // Array's primitives guessed: a read-only Array refuses the stores.
        assert_eq!(eval(&mut vm, "(Point x: 1 y: 2) sumOf: #(5 6 7)"), "18");
        assert_eq!(
            eval(&mut vm, "(Point x: 1 y: 2) sumOf: (Array new: 300)"),
            "45150"
        );
        let compiled = &vm.universe.jit.stats.compiled;
        for method in ["Point>>probe", "Point>>poke:"] {
            assert!(compiled.iter().any(|m| m == method), "{compiled:?}");
        }
        // x, sum, origin; x:, x; size, at:put:, at:.
        assert!(vm.universe.jit.stats.guessed_sends >= 8);
        // Another class at the same sites: the guesses do not hold.
        assert_eq!(eval(&mut vm, "(Point3D x: 1 y: 2) probe"), "104");
        load(
            &mut vm,
            "Point >> x [ ^ 42 ]\nPoint >> sum [ ^ x * 100 ]\nPoint >> origin [ ^ 7 ]",
        );
        assert_eq!(eval(&mut vm, "(Point x: 1 y: 2) probe"), "149");
        assert_eq!(eval(&mut vm, "(Point x: 1 y: 2) poke: 9"), "42");
        assert_eq!(eval(&mut vm, "(Point3D x: 1 y: 2) probe"), "249");
    }
}

#[test]
fn methods_count_their_invocations() {
    in_every_mode(|mut vm| {
        eval(&mut vm, "10 fib");
        let fib = vm
            .universe
            .methods
            .iter()
            .position(|m| vm.symbol_text(m.selector) == "fib")
            .unwrap();
        assert_eq!(vm.universe.infos[fib].invocations.get(), 177);
    });
}

/// The registry index of `class>>selector`.
fn method_named(vm: &Vm, class: &str, selector: &str) -> u32 {
    let index = vm.universe.methods.iter().position(|m| {
        vm.universe.classes.name(m.class) == class && vm.symbol_text(m.selector) == selector
    });
    index.expect("a kernel method") as u32
}

#[test]
fn a_unit_can_be_given_other_code_in_one_vm() {
    use zag::vm::method::Instr;
    use zag_compiler::lowering::Handler;
    let (mut vm, mut other) = (vm_with(None), vm_with(None));
    // `^ value`.
    let constant = |value: i64| {
        let value = Oop::small_integer(value).unwrap().bits();
        [
            Instr::new(Handler::push_constant, value, 0, 0),
            Instr::new(Handler::return_top, 0, 0, 0),
        ]
    };
    // A method (unit 0): its entry instruction stays, then `^ 99`.
    let fib = method_named(&vm, "SmallInteger", "fib");
    let mut code = vec![vm.universe.methods[fib as usize].units[0].code[0]];
    code.extend(constant(99));
    vm.universe.replace_code(fib, 0, code.into_boxed_slice());
    assert_eq!(eval(&mut vm, "10 fib"), "99");
    assert_eq!(vm.universe.infos[fib as usize].invocations.get(), 1);
    // A block (unit 1 of detect:, `[ :each | ... ^ each ... ]`) becomes
    // `[ :each | 7 ]`, so detect: no longer tries its argument.
    let detect = "#(1 2 3) detect: [ :x | x > 1 ]";
    assert_eq!(eval(&mut vm, detect), "2");
    let method = method_named(&vm, "Array", "detect:");
    vm.universe.replace_code(method, 1, Box::new(constant(7)));
    assert_eq!(eval(&mut vm, detect), "nil");
    // Replacing again keeps working (the replaced copy is retired, not
    // freed), and the other VM never saw any of it.
    vm.universe.replace_code(fib, 0, {
        let mut code = vec![vm.universe.methods[fib as usize].units[0].code[0]];
        code.extend(constant(98));
        code.into_boxed_slice()
    });
    assert_eq!(eval(&mut vm, "10 fib"), "98");
    assert_eq!(eval(&mut other, "10 fib"), "55");
    assert_eq!(eval(&mut other, detect), "2");
}

#[cfg(feature = "jit")]
#[test]
fn hot_methods_are_compiled_and_run_as_machine_code() {
    let mut vm = vm_with(None);
    vm.universe.set_jit_threshold(Some(3));
    let fib = method_named(&vm, "SmallInteger", "fib") as usize;
    let interpreted_entry = vm.universe.infos[fib].entry.get();
    assert_eq!(eval(&mut vm, "2 fib"), "1");
    // 3 invocations so far: not compiled yet.
    assert_eq!(vm.universe.infos[fib].entry.get(), interpreted_entry);
    assert_eq!(eval(&mut vm, "20 fib"), "6765");
    let entry = vm.universe.infos[fib].entry.get();
    assert_ne!(entry, interpreted_entry, "fib was compiled");
    // The entry instruction is still the method entry, but its handler is
    // the unit's machine code.
    // SAFETY: the entry of a registered method's unit 0.
    let first = unsafe { &*entry };
    assert_eq!(
        first.plan_handler(),
        Some(zag_compiler::lowering::Handler::method_entry_chained)
    );
    assert_ne!(
        first.handler as usize,
        unsafe { (*interpreted_entry).handler } as usize
    );
    assert_eq!(vm.universe.jit.stats.methods, 1);
    assert!(vm.universe.jit.stats.refused.is_empty());
    // And it counts on: 20 fib is 21891 calls of fib.
    assert_eq!(vm.universe.infos[fib].invocations.get(), 3 + 21891);
}

/// In the background, a hot method goes on interpreted while the worker
/// compiles it; the VM installs the code when it next looks (the method's
/// count coming round again), with no help from outside.
#[cfg(feature = "jit")]
#[test]
fn hot_methods_compiled_in_the_background_are_installed_as_the_vm_runs() {
    let mut vm = background_vm(3);
    let fib = method_named(&vm, "SmallInteger", "fib") as usize;
    let interpreted_entry = vm.universe.infos[fib].entry.get();
    run_until(
        &mut vm,
        |vm| vm.universe.infos[fib].entry.get() != interpreted_entry,
        "20 fib",
        "6765",
    );
    assert_eq!(eval(&mut vm, "20 fib"), "6765");
    let stats = &vm.universe.jit.stats;
    assert!(stats.compiled.iter().any(|m| m == "SmallInteger>>fib"));
    assert!(stats.refused.is_empty(), "{:?}", stats.refused);
    // Whatever else turned hot, waited for, is installed as well.
    zag::jit::finish_compiling(&mut vm);
    assert!(vm.universe.jit.report().contains("on the JIT's thread"));
    assert!(!vm.universe.jit.report().contains("still compiling"));
}

/// A loop compiled in the background: the activation that made it hot
/// goes on in machine code at a back-edge once the code is installed.
#[cfg(feature = "jit")]
#[test]
fn a_hot_loop_goes_on_in_machine_code_once_the_worker_is_done() {
    let mut vm = background_vm(100);
    let mut import = Import::default();
    import.add_source(SourceFile::new(
        "Point.extension.st",
        "Extension { #name : 'Point' }\n\
         Point >> spin: n [ | s | s := 0. 1 to: n do: [:i | s := s + (i \\\\ 7)]. ^ s ]\n",
    ));
    loader::load(&mut vm, &import).unwrap();
    run_until(
        &mut vm,
        |vm| vm.universe.jit.stats.on_stack_replacements > 0,
        "Point new spin: 300000",
        "899998",
    );
}

/// A VM that compiles methods hot after `threshold` counts on the JIT's
/// thread.
#[cfg(feature = "jit")]
fn background_vm(threshold: u64) -> Vm {
    let mut vm = vm_with(None);
    vm.universe.jit.background = true;
    vm.universe.set_jit_threshold(Some(threshold));
    vm
}

/// Evaluates `source` (which answers `answer`) until `done`. The two
/// minutes are a bound on the wait for the worker, not a timing.
#[cfg(feature = "jit")]
fn run_until(vm: &mut Vm, done: impl Fn(&Vm) -> bool, source: &str, answer: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !done(vm) {
        assert!(std::time::Instant::now() < deadline, "{source}: never done");
        assert_eq!(eval(vm, source), answer);
    }
}

#[cfg(feature = "jit")]
#[test]
fn a_hot_loop_goes_on_in_machine_code_in_the_same_activation() {
    for gc_stress in [None, Some(1)] {
        let mut vm = vm_with(gc_stress);
        vm.universe.set_jit_threshold(Some(100));
        // One activation of the DoIt: its loop's back-edges make it hot,
        // and the activation switches to the machine code mid-loop.
        let sum = "| s | s := 0. 1 to: 5000 do: [:i | s := s + (i \\\\ 7)]. s";
        assert_eq!(eval(&mut vm, sum), "14997");
        let stats = &vm.universe.jit.stats;
        assert_eq!(stats.compiled, ["UndefinedObject>>DoIt"]);
        assert_eq!(stats.on_stack_replacements, 1);
        // A loop inside a block, in a method that runs once.
        let nested = "| s | s := 0. #(1 2) do: [:k | 1 to: 300 do: [:i | s := s + k]]. s";
        assert_eq!(eval(&mut vm, nested), "900");
    }
}

#[cfg(feature = "jit")]
#[test]
fn a_hot_block_compiles_its_home_method() {
    let mut vm = vm_with(None);
    vm.universe.set_jit_threshold(Some(50));
    // The DoIt runs once and has no loop; its blocks run 200 times each,
    // counted on the DoIt.
    let source = "| s b | s := 0. b := [:x | s := s + x]. \
                  (Array new: 200) do: [:e | b value: 2]. s";
    assert_eq!(eval(&mut vm, source), "400");
    let compiled = &vm.universe.jit.stats.compiled;
    assert!(
        compiled.iter().any(|m| m == "UndefinedObject>>DoIt"),
        "{compiled:?}"
    );
}

#[test]
fn quick_methods_answer_without_a_frame() {
    use zag::vm::method::Quick;
    in_every_mode(|mut vm| {
        let quick = |vm: &Vm, selector: &str| {
            let m = vm
                .universe
                .methods
                .iter()
                .position(|m| vm.symbol_text(m.selector) == selector)
                .unwrap();
            let invocations = vm.universe.infos[m].invocations.get();
            (vm.universe.methods[m].quick, invocations)
        };
        assert_eq!(quick(&vm, "x"), (Quick::ReturnInstVar(0), 0));
        assert_eq!(quick(&vm, "x:"), (Quick::StoreInstVar(0), 0));
        assert_eq!(quick(&vm, "nothing"), (Quick::ReturnSelf, 0));
        assert!(matches!(quick(&vm, "origin").0, Quick::ReturnConstant(_)));
        // Two arguments, or any temps or blocks: an ordinary method.
        assert_eq!(quick(&vm, "x:twice:").0, Quick::No);
        assert_eq!(quick(&vm, "fib").0, Quick::No);

        let p = "(Point x: 1 y: 2)";
        assert_eq!(eval(&mut vm, &format!("{p} x")), "1");
        assert_eq!(eval(&mut vm, &format!("({p} x: 5) x")), "5");
        assert_eq!(eval(&mut vm, &format!("{p} nothing y")), "2");
        assert_eq!(eval(&mut vm, &format!("{p} origin")), "0");
        assert_eq!(eval(&mut vm, "3 yourself"), "3");
        // The setter's store goes through the write barrier: the point
        // grows old while every value stored into it is young.
        assert_eq!(
            eval(
                &mut vm,
                "| p | p := Point x: 0 y: 0. \
                 1 to: 3000 do: [:i | p x: { i }. Array new: 10]. \
                 1 to: 3000 do: [:i | Array new: 10]. p x at: 1"
            ),
            "3000"
        );
        // Sends from Rust answer at once too.
        let point = vm.evaluate(p).unwrap();
        let x = vm.send(point, "x", &[]).unwrap();
        assert_eq!(describe(&vm, x), "1");
        assert_eq!(quick(&vm, "x").1, 4);
        assert_eq!(quick(&vm, "x:").1, 3001);
    });
}

#[test]
fn non_boolean_conditions_are_errors() {
    in_every_mode(|mut vm| {
        // This kernel's doesNotUnderstand: answers an Array: mustBeBoolean
        // answers no Boolean (the image's signals NonBooleanReceiver).
        let err = vm.evaluate("3 ifTrue: [ 4 ]").unwrap_err();
        assert_eq!(
            err.message,
            "NonBooleanReceiver: mustBeBoolean answered an Array, not a Boolean"
        );
    });
}

#[test]
fn objects_survive_collections_with_their_contents() {
    let mut vm = vm_with(Some(7));
    // A linked structure built across many collections, old-to-young
    // stores included (the Array is promoted while elements are young).
    let text = eval(
        &mut vm,
        "| keep sum | keep := Array new: 100. \
         1 to: 5000 do: [:i | keep at: i \\\\ 100 + 1 put: { i. Point x: i y: i + 1 } ]. \
         sum := 0. keep do: [:e | sum := sum + (e at: 2) y - (e at: 1) ]. sum",
    );
    assert_eq!(text, "100");
    assert!(vm.heap.stats.scavenges > 1000);
}

#[test]
fn closures_with_corrupted_fields_fail_cleanly() {
    // Smalltalk code can assign a closure's variables; the VM must not trust them.
    let mut vm = zag::image::boot().unwrap();
    let mut import = Import::default();
    import.add_source(SourceFile::new(
        "BlockClosure.extension.st",
        "Extension { #name : 'BlockClosure' }\n\
         BlockClosure >> corrupt: anObject [ compiledBlock := anObject. codeUnit := anObject ]\n\
         BlockClosure >> home: anObject [ homeActivation := anObject ]\n\
         BlockClosure >> homeIndex: anObject [ homeIndex := anObject ]\n\
         BlockClosure >> arity: anObject [ numArgs := anObject ]\n",
    ));
    loader::load(&mut vm, &import).unwrap();
    for corruption in [
        "corrupt: 99999",
        "corrupt: -1",
        "corrupt: 0",
        "corrupt: nil",
        "corrupt: 'x'",
        "arity: 7",
        "arity: -1",
    ] {
        let result = vm.evaluate(&format!("| b | b := [3]. b {corruption}. b value"));
        assert!(result.is_err(), "{corruption} should fail");
    }
    // A non-local return whose home id is nonsense is BlockCannotReturn.
    let result = vm.evaluate("| b | b := [:x | ^ x]. b home: 123456. [b value: 1] on: BlockCannotReturn do: [:e | #caught]");
    assert_eq!(result.map(|v| vm.describe(v)), Ok("#caught".to_string()));
    // So is one whose home frame index is nonsense, or names a frame
    // that is not its home (the id must match too).
    for index in [
        "nil",
        "-1",
        "1",
        "2",
        "1000000000",
        "(2 raisedTo: 100)",
        "'x'",
    ] {
        let result = vm.evaluate(&format!(
            "| b | b := [:x | ^ x]. b homeIndex: {index}. [b value: 1] on: BlockCannotReturn do: [:e | #caught]"
        ));
        assert_eq!(
            result.map(|v| vm.describe(v)),
            Ok("#caught".to_string()),
            "homeIndex: {index}"
        );
    }
    // Untouched, the same block returns from its home.
    let result = vm.evaluate(
        "| b | b := [:x | ^ x]. [b value: 1] on: BlockCannotReturn do: [:e | #caught]. 2",
    );
    assert_eq!(result.map(|v| vm.describe(v)), Ok("1".to_string()));
}

#[test]
fn the_image_symbols_literals_and_methods_are_static_objects() {
    use zag::memory::statics::is_static;
    let mut vm = zag::image::boot().unwrap();
    // Start-up made no Symbol: every name it interns is in the image.
    assert_eq!(vm.universe.symbols_made_at_run_time(), 0);
    assert!(is_static(vm.intern("printString")));
    assert!(
        is_static(vm.universe.nil)
            && is_static(vm.universe.true_object)
            && is_static(vm.universe.false_object)
    );
    // A literal of an image method, and everything in it.
    let literal = vm.evaluate("ZagReadOnlyTest new imageLiteral").unwrap();
    assert!(is_static(literal));
    let elements: Vec<Oop> = (0..).map_while(|i| zag::memory::slot(literal, i)).collect();
    assert_eq!(elements.len(), 11);
    for e in elements.iter().filter(|e| e.is_pointer()) {
        assert!(is_static(*e), "{}", vm.describe(*e));
    }
    // The image's CompiledMethod objects too; one compiled at run time
    // is made in old space.
    let method = vm.evaluate("SmallInteger >> #+").unwrap();
    assert!(is_static(method));
    assert_eq!(
        eval(&mut vm, "(SmallInteger >> #+) printString"),
        "'SmallInteger>>#+'"
    );
    let mut import = Import::default();
    import.add_source(SourceFile::new(
        "Object.extension.st",
        "Extension { #name : 'Object' }\nObject >> later [ ^ #(1 2) ]\n",
    ));
    loader::load(&mut vm, &import).unwrap();
    let later = vm.evaluate("Object >> #later").unwrap();
    assert!(!is_static(later) && vm.heap.is_old(later));
    assert_eq!(
        eval(&mut vm, "(Object >> #later) printString"),
        "'Object>>#later'"
    );
    assert_eq!(eval(&mut vm, "Object new later isReadOnlyObject"), "true");
    // The image's ASTs are static, every node of them; a run-time method's
    // is built in old space when asked for.
    let nodes = vm
        .evaluate(
            "| nodes todo | nodes := OrderedCollection new. todo := OrderedCollection with: (Integer >> #factorial) ast.
            [ todo isEmpty ] whileFalse: [ | n | n := todo removeFirst. nodes add: n.
                1 to: n class instSize do: [ :i | | v | v := n instVarAt: i.
                    (v isKindOf: RBProgramNode) ifTrue: [ todo add: v ].
                    v class == Array ifTrue: [ nodes add: v. todo addAll: (v select: [ :e | e isKindOf: RBProgramNode ]) ] ] ].
            nodes asArray",
        )
        .unwrap();
    let nodes: Vec<Oop> = (0..).map_while(|i| zag::memory::slot(nodes, i)).collect();
    assert!(nodes.len() > 20, "{} nodes", nodes.len());
    for n in &nodes {
        assert!(is_static(*n), "{}", vm.describe(*n));
    }
    let ast = vm.evaluate("(Object >> #later) ast").unwrap();
    assert!(!is_static(ast) && vm.heap.is_old(ast));
    assert_eq!(
        eval(&mut vm, "(Object >> #later) ast == (Object >> #later) ast"),
        "true"
    );
    assert_eq!(
        eval(
            &mut vm,
            "(Object >> #later) ast statements first value value printString"
        ),
        "'#(1 2)'"
    );
    // Made at run time: not static.
    let made = vm.evaluate("'two' , 'three'").unwrap();
    assert!(!is_static(made));
    let before = vm.universe.symbols_made_at_run_time();
    let symbol = vm.evaluate("'not in the image' asSymbol").unwrap();
    assert!(!is_static(symbol));
    assert_eq!(vm.universe.symbols_made_at_run_time(), before + 1);
    // Collections leave static objects alone, and they stay intact.
    vm.collect_garbage();
    vm.collect_old_space();
    assert_eq!(
        eval(&mut vm, "ZagReadOnlyTest new imageLiteral printString"),
        "'#(1 $a ''two'' #three 4.5 1.0e300 100000000000000000000 -100000000000000000000 #(1 nil true) #[1 2] '''')'"
    );
}

/// Every compiled method adds machine code; the mappings holding it must
/// not grow with the number of methods (the kernel allows 65,530 per
/// process, and LLVM's own memory manager took a few per method: a long
/// run of random programs died when `mprotect` failed past the limit).
#[cfg(feature = "jit")]
#[test]
fn compiled_code_does_not_use_a_mapping_per_method() {
    let maps = || std::fs::read_to_string("/proc/self/maps").map(|m| m.lines().count());
    let Ok(before) = maps() else {
        eprintln!("SKIPPED: no /proc/self/maps on this system");
        return;
    };
    let mut vm = vm_with(None);
    vm.universe.set_jit_threshold(Some(0));
    for i in 0..300 {
        assert_eq!(eval(&mut vm, &format!("{i} + 1")), (i + 1).to_string());
    }
    assert!(vm.universe.jit.stats.methods >= 300);
    let after = maps().unwrap();
    // Other tests run in this process too: a generous bound, far below
    // the three or more per method there were.
    assert!(after < before + 150, "{before} mappings, then {after}");
}

/// Machine code stays, but LLVM's IR of a compiled method goes: memory
/// grows little with each method compiled (it kept each module's IR, about
/// 200 KB a method, and a long run of random programs reached 12 GB).
#[cfg(feature = "jit")]
#[test]
fn compiling_a_method_keeps_little_memory() {
    // The resident size is the process's: measured in a process of its
    // own (this test binary, running only this test), so that the other
    // tests' allocations do not count.
    if std::env::var_os("ZAG_MEASURE_ALONE").is_none() {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "compiling_a_method_keeps_little_memory",
                "--nocapture",
            ])
            .env("ZAG_MEASURE_ALONE", "1")
            .status()
            .unwrap();
        assert!(status.success(), "the measurement failed: {status}");
        return;
    }
    let rss = || {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse::<usize>().ok()
    };
    if rss().is_none() {
        eprintln!("SKIPPED: no /proc/self/status on this system");
        return;
    }
    let mut vm = vm_with(None);
    vm.universe.set_jit_threshold(Some(0));
    // The kernel methods the do-its use are compiled by the first ones.
    let source = |i: usize| format!("| a | a := {i}. 1 to: 3 do: [:k | a := a + k]. a");
    for i in 0..50 {
        eval(&mut vm, &source(i));
    }
    let before = rss().unwrap();
    let methods = vm.universe.jit.stats.methods;
    for i in 0..400 {
        assert_eq!(eval(&mut vm, &source(i)), (i + 6).to_string());
    }
    let compiled = vm.universe.jit.stats.methods - methods;
    assert!(compiled >= 400);
    let per_method = (rss().unwrap().saturating_sub(before)) * 1024 / compiled;
    eprintln!("{per_method} bytes of memory per compiled method");
    // A generous bound (the allocator keeps some slack).
    assert!(
        per_method < 64 * 1024,
        "{per_method} bytes per compiled method"
    );
}
