//! build.rs's image generator: what it emits for good exports, and the
//! errors that fail the build for bad ones.

mod common;
use common::temp_tree;

#[path = "../build/image.rs"]
#[allow(dead_code)]
mod image;

use std::path::Path;

#[test]
fn the_project_exports_generate_a_static_image() {
    let source =
        image::generate(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("pharo-export")]).unwrap();
    assert!(source.contains("pub static IMAGE: ImageDescription = ImageDescription {"));
    assert!(source.contains("name: \"SmallInteger\""));
    // Superclasses come first.
    let object = source.find("name: \"Object\"").unwrap();
    let proto = source.find("name: \"ProtoObject\"").unwrap();
    assert!(proto < object);
}

#[test]
fn extra_folders_add_classes() {
    let app = temp_tree(
        "app-export",
        &[(
            "App/Greeter.class.st",
            "Class { #name : 'Greeter', #superclass : 'Object' }\nGreeter >> greet [ ^ 'hi' ]\n",
        )],
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("pharo-export");
    let source = image::generate(&[root, app]).unwrap();
    assert!(source.contains("class: \"Greeter\""));
    // The literal 'hi' is a static, read-only ByteString: a header, then
    // its bytes in one word ("hi" little-endian), and the method's literal
    // frame points at it.
    let greet = &source[source.find("selector: \"greet\"").unwrap()..];
    let literal = greet
        .split_once("literals: &[LiteralDescription::Object(")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(at, _)| at.trim_end_matches("u32").parse::<usize>().unwrap())
        .expect("'hi' is a static object");
    let words = static_words(&source);
    assert!(
        words[literal].ends_with("+ {BYTE_STRING}"),
        "{}",
        words[literal]
    );
    let hi = u64::from_le_bytes(*b"hi\0\0\0\0\0\0");
    assert_eq!(words[literal + 1], format!("{hi:#x}"));
}

/// The words of the static objects, as the assembler lines give them
/// (without the `.quad`).
fn static_words(source: &str) -> Vec<&str> {
    source
        .split("\".quad ")
        .skip(1)
        .map(|line| &line[..line.find('"').unwrap()])
        .collect()
}

#[test]
fn unsupported_literals_fail_the_build_at_their_method() {
    let app = temp_tree(
        "scaled-export",
        &[(
            "App/Money.class.st",
            "Class { #name : 'Money', #superclass : 'Object' }\nMoney >> price [ ^ 1.5s2 ]\n",
        )],
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("pharo-export");
    let problems = image::generate(&[root, app.clone()]).unwrap_err();
    let file = app.join("App/Money.class.st").display().to_string();
    assert_eq!(
        problems,
        [format!(
            "{file}:2:10: the ScaledDecimal literal 1.5s2 is not supported yet\n    Money >> price [ ^ 1.5s2 ]\n             ^"
        )]
    );
}

#[test]
fn errors_in_exports_are_reported_with_file_line_and_column() {
    let bad = temp_tree(
        "bad-export",
        &[("Bad/Broken.class.st", "Class { #name : 'Broken', #superclass : 'Object' }\nBroken >> one [\n\t^ 1 +\n]\nBroken >> two: x [ x := 2 ]\n")],
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("pharo-export");
    let problems = image::generate(&[root, bad.clone()]).unwrap_err();
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
    let problems = image::generate(&[orphan]).unwrap_err();
    assert_eq!(problems, ["Orphan: superclass Nowhere is not defined"]);
}
