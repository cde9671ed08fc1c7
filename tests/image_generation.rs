//! build.rs's image generator: what it emits for good exports, and the
//! errors that fail the build for bad ones.

mod common;
use common::temp_tree;

#[path = "../build/image.rs"]
#[allow(dead_code)]
mod image;

use std::path::{Path, PathBuf};

/// Generates the image from the project's exports and one more folder,
/// `name`, holding the single file `file`; answers that folder too.
fn generate_with(name: &str, file: &str, text: &str) -> (PathBuf, Result<String, Vec<String>>) {
    let (extra, result) = generate_with_warnings(name, file, text);
    (extra, result.map(|generated| generated.source))
}

/// The same, answering the warnings too.
fn generate_with_warnings(
    name: &str,
    file: &str,
    text: &str,
) -> (PathBuf, Result<image::Generated, Vec<String>>) {
    let extra = temp_tree(name, &[(file, text)]);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("pharo-export");
    let result = image::generate(&[root, extra.clone()]);
    (extra, result)
}

#[test]
fn the_project_exports_generate_a_static_image() {
    let generated =
        image::generate(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("pharo-export")]).unwrap();
    // The kernel uses no undeclared variable.
    assert!(generated.warnings.is_empty(), "{:#?}", generated.warnings);
    let source = generated.source;
    assert!(source.contains("pub static IMAGE: ImageDescription = ImageDescription {"));
    assert!(source.contains("name: \"SmallInteger\""));
    // Superclasses come first.
    let object = source.find("name: \"Object\"").unwrap();
    let proto = source.find("name: \"ProtoObject\"").unwrap();
    assert!(proto < object);
}

#[test]
fn extra_folders_add_classes() {
    let (_, source) = generate_with(
        "app-export",
        "App/Greeter.class.st",
        "Class { #name : 'Greeter', #superclass : 'Object' }\nGreeter >> greet [ ^ 'hi' ]\n",
    );
    let source = source.unwrap();
    assert!(source.contains("class: \"Greeter\""));
    // The literal 'hi' is a static, read-only ByteString: a header, then
    // its bytes in one word ("hi" little-endian), and the method's literal
    // frame points at it.
    let greet = &source[source.find("selector: \"greet\"").unwrap()..];
    let literal = number_after(
        greet,
        "quick: QuickShape::ReturnConstant(LiteralDescription::Object(",
    );
    let words = static_words(&source);
    assert!(
        words[literal].ends_with("+ {BYTE_STRING}"),
        "{}",
        words[literal]
    );
    let hi = u64::from_le_bytes(*b"hi\0\0\0\0\0\0");
    assert_eq!(words[literal + 1], format!("{hi:#x}"));
    // Its static code: the method entry (naming the Symbol #greet) chained
    // to the fused return of the constant, which points at 'hi'.
    let (start, length) = (
        number_after(greet, "code: "),
        number_after(greet, "length: "),
    );
    let code = code_lines(&source);
    assert_eq!(length, 3);
    let entry = code[start];
    assert!(
        entry.starts_with(".quad {method_entry_chained}, {objects} + "),
        "{entry}"
    );
    let symbol = number_after(entry, "{objects} + ") / 8;
    assert!(
        words[symbol].ends_with("+ {BYTE_SYMBOL}"),
        "{}",
        words[symbol]
    );
    assert_eq!(
        code[start + 1],
        format!(
            ".quad {{return_constant}}, {{objects}} + {}\\n.long 0, 0, 0, {}",
            literal * 8,
            zag_compiler::lowering::Handler::return_constant.kind()
        )
    );
    assert!(code[start + 2].starts_with(".quad {return_top}, 0"));
}

#[test]
fn classes_carry_their_slots_and_method_dictionaries() {
    let (_, source) = generate_with(
        "dictionary-export",
        "App/Counter.class.st",
        "Class { #name : 'Counter', #superclass : 'Object', #instVars : [ 'count' ], \
         #classInstVars : [ 'made' ] }\n\
         Counter >> count [ ^ count ]\n\
         Counter >> increment [ count := count + 1 ]\n\
         Counter class >> made [ ^ made ]\n",
    );
    let source = source.unwrap();
    let class = &source[source.find("name: \"Counter\"").unwrap()..];
    let class = &class[..class.find("ClassDescription {").unwrap_or(class.len())];
    // Its superclass by place, and its slots worked out at build time.
    let places: Vec<usize> = source
        .match_indices("ClassDescription {")
        .map(|(at, _)| at)
        .collect();
    let object = source.find("name: \"Object\"").unwrap();
    let object_place = places.iter().filter(|at| **at < object).count() - 1;
    assert_eq!(
        number_after(class, "superclass_number: Some("),
        object_place
    );
    assert!(class.contains("all_inst_vars: &[\"count\"]"), "{class}");
    let class_side = &class[class.find("class_side_inst_vars: &[").unwrap()..];
    let class_side = &class_side[..class_side.find(']').unwrap()];
    let last = class_side.trim_end().trim_end_matches(',');
    assert!(last.ends_with("\"made\""), "{class_side}");
    assert!(class_side.contains("\"superclass\""), "{class_side}");
    // Its method dictionaries: each entry names a selector (a static
    // Symbol) and the method's number, sorted by selector.
    let entries = |side: &str| -> Vec<(usize, usize)> {
        let list = &class[class.find(side).unwrap() + side.len()..];
        let list = &list[..list.find(']').unwrap()];
        list.split("MethodEntry")
            .skip(1)
            .map(|e| (number_after(e, "selector: "), number_after(e, "method: ")))
            .collect()
    };
    let (instance, class_side) = (entries(" methods: &["), entries("class_methods: &["));
    assert_eq!(instance.len(), 2);
    assert_eq!(class_side.len(), 1);
    assert!(instance[0].0 < instance[1].0);
    let words = static_words(&source);
    let methods: Vec<&str> = source.split("MethodDescription {").skip(1).collect();
    for (selector, method) in instance.iter().chain(&class_side) {
        assert!(words[*selector].ends_with("+ {BYTE_SYMBOL}"));
        let m = methods[*method];
        assert!(m.contains("class: \"Counter\""), "{m}");
        assert_eq!(number_after(m, "selector_symbol: "), *selector);
    }
}

/// The number that follows `prefix` in `text` (a Rust literal may have a
/// type suffix).
fn number_after(text: &str, prefix: &str) -> usize {
    let rest = &text[text.find(prefix).unwrap_or_else(|| panic!("no {prefix}")) + prefix.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap()
}

/// The lines of the assembler block that starts at `label`, without their
/// quotes.
fn block_lines<'a>(source: &'a str, label: &str) -> Vec<&'a str> {
    let block = &source[source.find(label).expect("the block") + label.len()..];
    let block = &block[..block.find("end_static_objects!()").unwrap()];
    block.split('"').skip(1).step_by(2).collect()
}

/// The words of the static objects, as the assembler lines give them
/// (without the `.quad`).
fn static_words(source: &str) -> Vec<&str> {
    block_lines(source, "\"{objects}:\"")
        .into_iter()
        .map(|line| line.trim_start_matches(".quad "))
        .collect()
}

/// The instructions of the static code, one assembler line each.
fn code_lines(source: &str) -> Vec<&str> {
    block_lines(source, "\"{code}:\"")
}

#[test]
fn scaled_decimal_literals_are_static_objects() {
    let (_, result) = generate_with(
        "scaled-export",
        "App/Money.class.st",
        "Class { #name : 'Money', #superclass : 'Object' }\nMoney >> price [ ^ 1.5s2 ]\n",
    );
    let source = result.unwrap();
    assert!(
        source.contains("classes::SCALED_DECIMAL"),
        "no static ScaledDecimal"
    );
}

#[test]
fn scaled_decimal_literals_need_the_class_with_its_variables() {
    // Exports without the kernel's ScaledDecimal: the literal fails the
    // build at its method, saying why.
    let alone = temp_tree(
        "scaled-alone-export",
        &[(
            "App/Money.class.st",
            "Class { #name : 'Money', #superclass : nil }\nMoney >> price [ ^ 1.5s2 ]\n",
        )],
    );
    let problems = image::generate(std::slice::from_ref(&alone)).unwrap_err();
    let file = alone.join("App/Money.class.st").display().to_string();
    assert_eq!(
        problems,
        [format!(
            "{file}:2:10: the literal 1.50s2 needs the class ScaledDecimal, which is not defined\n    Money >> price [ ^ 1.5s2 ]\n             ^"
        )]
    );
    // One whose variables are not the VM's layout.
    let odd = temp_tree(
        "scaled-odd-export",
        &[
            (
                "App/ScaledDecimal.class.st",
                "Class { #name : 'ScaledDecimal', #superclass : nil, #instVars : [ 'digits' ] }\n",
            ),
            (
                "App/Money.class.st",
                "Class { #name : 'Money', #superclass : nil }\nMoney >> price [ ^ 1.5s2 ]\n",
            ),
        ],
    );
    let problems = image::generate(std::slice::from_ref(&odd)).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("ScaledDecimal has the instance variable digits"),
        "{problems:?}"
    );
}

#[test]
fn errors_in_exports_are_reported_with_file_line_and_column() {
    let (bad, result) = generate_with(
        "bad-export",
        "Bad/Broken.class.st",
        "Class { #name : 'Broken', #superclass : 'Object' }\nBroken >> one [\n\t^ 1 +\n]\nBroken >> two: x [ x := 2 ]\n",
    );
    let problems = result.unwrap_err();
    let file = bad.join("Bad/Broken.class.st").display().to_string();
    assert_eq!(
        problems,
        [
            format!("{file}:4:1: expected an expression, found ']'\n    ]\n    ^"),
            format!("{file}:5:20: cannot assign to argument 'x'\n    Broken >> two: x [ x := 2 ]\n                       ^"),
        ]
    );
}

#[test]
fn a_superclass_missing_from_every_export_is_an_error() {
    let orphan = temp_tree(
        "orphan-export",
        &[(
            "P/Orphan.class.st",
            "Class { #name : 'Orphan', #superclass : 'Nowhere' }\n",
        )],
    );
    let problems = image::generate(std::slice::from_ref(&orphan)).unwrap_err();
    let file = orphan.join("P/Orphan.class.st").display().to_string();
    assert_eq!(
        problems,
        [format!(
            "{file}:1:42: superclass Nowhere of Orphan is not defined\n    \
             Class {{ #name : 'Orphan', #superclass : 'Nowhere' }}\n    \
             {}^",
            " ".repeat(41)
        )]
    );
}

/// Undeclared variables are warnings (the build goes on, cargo shows
/// them); assigning to a class is an error, as Pharo refuses it.
#[test]
fn undeclared_variables_warn_and_assigning_a_class_fails() {
    let (dir, result) = generate_with_warnings(
        "undeclared-export",
        "App/Greeter.class.st",
        "Class { #name : 'Greeter', #superclass : 'Object', #instVars : [ 'name' ] }\n\
         Greeter >> greet [ Trnscript show: 'hi'. ^ Transcript ]\n\
         Greeter >> name: aString [ nme := aString ]\n\
         Greeter class >> initialize [ GreeterDefault := self new ]\n\
         Greeter class >> default [ ^ GreeterDefault ]\n",
    );
    let file = dir.join("App/Greeter.class.st").display().to_string();
    let warnings: Vec<String> = result
        .unwrap()
        .warnings
        .iter()
        .map(|w| w.headline())
        .collect();
    assert_eq!(
        warnings,
        [
            format!("{file}:2:20: warning: undeclared variable Trnscript in Greeter>>greet (nil until assigned, as in Pharo)"),
            format!("{file}:3:28: warning: undeclared variable nme in Greeter>>name: (nil until assigned, as in Pharo)"),
        ]
    );
    let (_, result) = generate_with(
        "class-assignment-export",
        "App/Clobber.class.st",
        "Class { #name : 'Clobber', #superclass : 'Object' }\nClobber >> clobber [ Object := 3 ]\n",
    );
    let problems = result.unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains(":2:22: cannot assign to Object: it is a class"),
        "{problems:?}"
    );
}

/// Layouts Pharo's class builder refuses fail the build at the class:
/// named instance variables in a bytes class (they would read bytes as
/// objects), and a pointer class under a bytes one.
#[test]
fn impossible_layouts_fail_the_build_at_their_class() {
    let (dir, result) = generate_with(
        "layout-export",
        "P/Blob.class.st",
        "Class { #name : 'Blob', #superclass : 'Object', #instVars : [ 'n' ], #type : 'bytes' }\n",
    );
    let problems = result.unwrap_err();
    let file = dir.join("P/Blob.class.st");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with(&format!(
        "{}:1:1: Blob cannot have instance variables (n): its instances hold bytes",
        file.display()
    )));
    let (_, result) = generate_with(
        "layout-export-2",
        "P/Frame.class.st",
        "Class { #name : 'Frame', #superclass : 'ByteArray' }\n",
    );
    let problems = result.unwrap_err();
    assert!(
        problems[0].contains("Frame must hold bytes as its superclass ByteArray does"),
        "{problems:?}"
    );
}

/// A method whose expression is a chain of a thousand sends (within
/// `parser::MAX_DEPTH`) goes through the whole generator, on a stack as
/// large as build.rs gives it; a longer one fails the build at its column.
#[test]
fn long_chains_of_sends_generate_and_longer_ones_fail_the_build() {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let method = |links: usize| {
                format!(
                    "Class {{ #name : 'Chains', #superclass : 'Object' }}\nChains >> long [ ^ 3{} ]\n",
                    " + 1".repeat(links)
                )
            };
            let (_, source) = generate_with("chain-export", "Chains/Chains.class.st", &method(1000));
            assert!(source.unwrap().contains("selector: \"long\""));
            let (_, result) = generate_with("chain-export-too-long", "Chains/Chains.class.st", &method(2000));
            let problems = result.unwrap_err();
            assert!(
                problems.iter().any(|p| p.contains("Chains.class.st:2:")
                    && p.contains("at most 1024 sends and nesting levels deep")),
                "{problems:?}"
            );
        })
        .unwrap()
        .join()
        .unwrap();
}
