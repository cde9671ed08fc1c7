//! The Tonel reader: definitions, methods, trait compositions, and errors.

use zag_compiler::import::Import;
use zag_compiler::source::SourceFile;
use zag_compiler::tonel::*;

fn read(text: &str) -> TonelFile {
    let (file, errors) = read_tonel(text);
    assert!(errors.is_empty(), "unexpected errors: {errors:?}");
    file
}

fn class(text: &str) -> ClassDefinition {
    match read(text).definition {
        Some(Definition::Class(c) | Definition::Trait(c)) => c,
        other => panic!("not a class: {other:?}"),
    }
}

/// The diagnostics of importing one file, one line each.
fn errors_of(text: &str) -> Vec<String> {
    let mut import = Import::default();
    import.add_source(SourceFile::new("Foo.class.st", text));
    import.errors.iter().map(|d| d.headline()).collect()
}

#[test]
fn class_definition_with_every_key() {
    let c = class(
        r#""A comment with ""quotes"" in it"
Class {
	#name : 'Foo',
	#superclass : 'Object',
	#instVars : [ 'a', 'b' ],
	#classVars : [ 'Shared' ],
	#classInstVars : [ 'count' ],
	#pools : [ 'ChronologyConstants' ],
	#type : 'variable',
	#traits : 'TFoo + TBar',
	#classTraits : 'TFoo classTrait + TBar classTrait',
	#category : 'Kernel-Objects',
	#package : 'Kernel',
	#tag : 'Objects'
}
"#,
    );
    assert_eq!(c.name, "Foo");
    assert_eq!(c.superclass.as_deref(), Some("Object"));
    assert_eq!(c.inst_vars, ["a", "b"]);
    assert_eq!(c.class_vars, ["Shared"]);
    assert_eq!(c.class_inst_vars, ["count"]);
    assert_eq!(c.pools, ["ChronologyConstants"]);
    assert_eq!(c.layout, Layout::Variable);
    assert_eq!(c.category.as_deref(), Some("Kernel-Objects"));
    assert_eq!(c.package.as_deref(), Some("Kernel"));
    assert_eq!(c.tag.as_deref(), Some("Objects"));
    assert_eq!(
        c.comment.as_deref(),
        Some("A comment with \"quotes\" in it")
    );
    let names: Vec<_> = c
        .traits
        .uses
        .iter()
        .map(|u| u.trait_name.as_str())
        .collect();
    assert_eq!(names, ["TFoo", "TBar"]);
    assert!(c.class_traits.uses.iter().all(|u| u.class_side));
}

#[test]
fn nil_superclass_and_layout_types() {
    let c = class("Class { #name : 'ProtoObject', #superclass : nil }");
    assert_eq!(c.superclass, None);
    for (ty, layout) in [
        ("bytes", Layout::Bytes),
        ("words", Layout::Words),
        ("weak", Layout::Weak),
        ("ephemeron", Layout::Ephemeron),
        ("immediate", Layout::Immediate),
        ("compiledMethod", Layout::CompiledMethod),
        ("DoubleByteLayout", Layout::DoubleBytes),
        ("DoubleWordLayout", Layout::DoubleWords),
    ] {
        let c = class(&format!(
            "Class {{ #name : 'X', #superclass : 'Object', #type : '{ty}' }}"
        ));
        assert_eq!(c.layout, layout, "{ty}");
    }
    assert_eq!(
        errors_of("Class { #name : 'X', #type : 'squares' }"),
        ["Foo.class.st:1:22: unknown class type #squares"]
    );
}

#[test]
fn trait_compositions_with_exclusions_and_aliases() {
    let c = class(
        "Class { #name : 'X', #superclass : 'Object', \
         #traits : 'TA + (TB - {#foo. #bar:}) + (TC @ {#newName -> #oldName}) + TD classTrait' }",
    );
    let uses = &c.traits.uses;
    assert_eq!(uses.len(), 4);
    assert_eq!(
        uses[0],
        TraitUse {
            trait_name: "TA".into(),
            ..TraitUse::default()
        }
    );
    assert_eq!(uses[1].excluded, ["foo", "bar:"]);
    assert_eq!(
        uses[2].aliases,
        [("newName".to_string(), "oldName".to_string())]
    );
    assert!(uses[3].class_side);
    assert_eq!(
        errors_of("Class { #name : 'X', #traits : 'TA * TB' }"),
        ["Foo.class.st:1:22: in trait composition 'TA * TB': unexpected message '*'"]
    );
}

#[test]
fn methods_instance_and_class_side_with_metadata() {
    let f = read(
        "Class { #name : 'Foo', #superclass : 'Object' }

{ #category : 'accessing' }
Foo >> at: index put: value [
	\"Store it\"
	^ value
]

Foo class >> new [ ^ super new ]

{ #category : 'arithmetic' }
Foo >> + other [ ^ self ]
",
    );
    let m: Vec<_> = f
        .methods
        .iter()
        .map(|m| {
            (
                m.method.selector.as_str(),
                m.class_side,
                m.category.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        m,
        [
            ("at:put:", false, Some("accessing")),
            ("new", true, None),
            ("+", false, Some("arithmetic")),
        ]
    );
    assert_eq!(f.methods[0].method.comments[0].text, "Store it");
}

#[test]
fn method_body_may_contain_brackets_in_strings_characters_and_comments() {
    let f = read(
        "Class { #name : 'Foo', #superclass : 'Object' }
Foo >> tricky [
	\"a ] in a comment\"
	^ { $]. ']'. #']'. [ :x | x ] }
]
Foo >> next [ ^ 1 ]
",
    );
    assert_eq!(f.methods.len(), 2);
    assert_eq!(f.methods[1].method.selector, "next");
}

#[test]
fn traits_with_class_side_and_extensions() {
    let f = read(
        "Trait { #name : 'TFoo', #instVars : [ 'x' ], #category : 'T' }
TFoo >> foo [ ^ x ]
TFoo classSide >> make [ ^ self new ]
",
    );
    assert!(matches!(f.definition, Some(Definition::Trait(ref t)) if t.inst_vars == ["x"]));
    assert!(f.methods[1].class_side);

    let e = read("Extension { #name : 'String' }\n{ #category : '*Mine' }\nString >> shout [ ^ self asUppercase ]\n");
    assert_eq!(
        e.definition,
        Some(Definition::Extension {
            class_name: "String".into()
        })
    );
    assert_eq!(e.methods[0].category.as_deref(), Some("*Mine"));
}

#[test]
fn package_files() {
    let p = read("Package { #name : 'Kernel', #tags : [ 'Objects', 'Numbers' ] }");
    assert_eq!(
        p.definition,
        Some(Definition::Package {
            name: "Kernel".into(),
            tags: vec!["Objects".into(), "Numbers".into()]
        })
    );
}

#[test]
fn ston_strings_use_backslash_escapes() {
    let c = class(r"Class { #name : 'Foo', #superclass : 'Object', #category : 'it\'s' }");
    assert_eq!(c.category.as_deref(), Some("it's"));
}

#[test]
fn unknown_keys_are_reported_with_the_keys_allowed() {
    assert_eq!(
        errors_of("Extension { #name : 'Foo', #colour : 'red' }"),
        ["Foo.class.st:1:28: unknown key #colour in a Extension definition; expected one of #name"]
    );
}

#[test]
fn every_bad_method_is_reported_and_the_good_ones_kept() {
    let text = "Class { #name : 'Foo', #superclass : 'Object' }

Foo >> one [ ^ 1 + ]

Foo >> two [ ^ 2 ]

Foo >> three [ ^ ( 3 ]

Bar >> four [ ^ 4 ]

Foo >> five [ ^ 5 ]
";
    assert_eq!(
        errors_of(text),
        [
            "Foo.class.st:3:20: expected an expression, found ']'",
            "Foo.class.st:7:22: expected ')' to close the parenthesis opened at 7:18, found ']'",
            "Foo.class.st:9:1: method of 'Bar' in a file that defines 'Foo'",
        ]
    );
    let (file, _) = read_tonel(text);
    let names: Vec<_> = file
        .methods
        .iter()
        .map(|m| m.method.selector.as_str())
        .collect();
    assert_eq!(names, ["two", "five"]);
}

#[test]
fn diagnostics_show_the_line_with_a_caret() {
    let mut import = Import::default();
    import.add_source(SourceFile::new(
        "Foo.class.st",
        "Class { #name : 'Foo', #superclass : 'Object' }\nFoo >> bad [\n\t^ 1 +\n]\n",
    ));
    assert_eq!(
        import.errors[0].to_string(),
        "Foo.class.st:4:1: expected an expression, found ']'\n    ]\n    ^"
    );
}

#[test]
fn malformed_files_give_errors_not_panics() {
    let cases: &[(&str, &str)] = &[
        ("", "Foo.class.st:1:1: expected 'Class', 'Trait', 'Extension' or 'Package' definition, found end of file"),
        ("\"never closed", "Foo.class.st:1:1: unterminated class comment: expected a closing '\"'"),
        ("Class { #name : 'Foo'", "Foo.class.st:1:22: expected '}' to close the map opened at 1:7, found end of file"),
        ("Class { #superclass : 'Object' }", "Foo.class.st:1:7: a Class definition needs a #name"),
        ("Class { #name : 'Foo }", "Foo.class.st:1:17: unterminated string: expected a closing '"),
        ("Class { #name 'Foo' }", "Foo.class.st:1:15: expected ':' after the key, found '\\''"),
        ("Class { #name : 'Foo' }\nFoo >> x [\n\t^ 'open", "Foo.class.st:3:4: unterminated string: expected a closing '"),
        ("Class { #name : 'Foo' }\nFoo >> x [\n\t^ 1\n", "Foo.class.st:4:1: expected ']' to end the method, found end of input"),
        ("Class { #name : 'Foo' }\nFoo >> x ^ 1 ]", "Foo.class.st:2:10: expected '[' to start the method body, found '^'"),
        ("Class { #name : 'Foo' }\nFoo x [ ]", "Foo.class.st:2:5: expected '>>' after the class name, found 'x'"),
        ("\u{1}\u{2}\u{3}junk", "Foo.class.st:1:1: expected 'Class', 'Trait', 'Extension' or 'Package' definition, found '\\u{1}'"),
    ];
    for (text, expected) in cases {
        assert_eq!(
            errors_of(text).first().map(String::as_str),
            Some(*expected),
            "for {text:?}"
        );
    }
}

#[test]
fn truncated_files_never_panic() {
    let text = "\"comment\"\nClass { #name : 'Foo', #superclass : 'Object', #instVars : [ 'a' ], #traits : 'T - {#x}' }\n\
        { #category : 'c' }\nFoo >> at: i put: v [ | t | t := #(1 $a 'x' #[1 2] (3)). ^ [:x | x -> { i. v } ] value: 1.5e3 ]\n";
    for end in 0..=text.len() {
        if text.is_char_boundary(end) {
            let _ = read_tonel(&text[..end]);
        }
    }
}

/// A fixed-seed xorshift generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_edits_of_a_valid_file_never_panic_and_what_compiles_round_trips() {
    let base = "Class { #name : 'Foo', #superclass : 'Object', #instVars : [ 'a' ] }\n\
        { #category : 'c' }\nFoo >> at: i put: v [ | t | t := #(1 $a 'x' #[1 2] (3) foo:bar:). ^ [:x | x -> { i. v. a } ] value: 16r1F ]\n\
        Foo class >> new [ <primitive: 70 error: ec> ^ super new; yourself ]\n";
    let alphabet = b"[](){}'\"$#:;.^|<>-+ \n\taZ09r.e_";
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let mut bytes = base.as_bytes().to_vec();
        for _ in 0..1 + rng.next() % 4 {
            let at = (rng.next() as usize) % bytes.len();
            match rng.next() % 3 {
                0 => {
                    bytes.remove(at);
                }
                1 => bytes.insert(at, alphabet[(rng.next() as usize) % alphabet.len()]),
                _ => bytes[at] = alphabet[(rng.next() as usize) % alphabet.len()],
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let mut import = Import::default();
        import.add_source(SourceFile::new("Fuzz.class.st", text.as_ref()));
        let mut errors = Vec::new();
        let env = import.environment(&mut errors);
        let mut scopes = zag_compiler::environment::ScopeCache::new(&env);
        for m in zag_compiler::import::convert_all(&import, &env, &mut errors) {
            let scope = scopes.get(&m.method.class_name, m.method.class_side);
            if let Err(problem) = zag_compiler::import::verify_round_trip(&m.method, scope) {
                panic!("{problem}\nfrom:\n{text}");
            }
        }
    }
}

#[test]
fn scripts_beside_packages_are_not_read_as_tonel() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("scripts-beside");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("Pkg")).unwrap();
    std::fs::write(dir.join("run.st"), "| x | x := 3. x!").unwrap();
    std::fs::write(dir.join("Pkg/package.st"), "Package { #name : 'Pkg' }").unwrap();
    std::fs::write(
        dir.join("Pkg/A.class.st"),
        "Class { #name : 'A', #superclass : 'Object' }",
    )
    .unwrap();
    let import = Import::read(std::slice::from_ref(&dir));
    assert!(import.errors.is_empty(), "{:?}", import.errors);
    assert_eq!(import.files.len(), 2);
    // A package folder given directly, and a file given directly, are read.
    assert_eq!(Import::read(&[dir.join("Pkg")]).files.len(), 2);
    assert_eq!(Import::read(&[dir.join("run.st")]).errors.len(), 1);
}
