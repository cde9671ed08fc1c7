//! Traits, flattened into the classes that use them when Tonel packages
//! are loaded (`--load`) or baked into the image: composition, exclusion,
//! aliases, class-side traits, precedence of the class's own methods,
//! requirements, and the errors for conflicts and unknown or stateful
//! traits.

mod common;
use common::{temp_tree, zag};

#[path = "../build/image.rs"]
#[allow(dead_code)]
mod image;

const PACKAGE: &str = "Package { #name : 'T-Test' }\n";

const T_POLITE: &str = "Trait { #name : 'TPolite', #package : 'T-Test' }

TPolite >> please [ ^ 'please' ]

TPolite >> greet [ ^ 'from TPolite' ]

TPolite >> name [ ^ self explicitRequirement ]

TPolite class >> politeClass [ ^ true ]
";

const T_GREETING: &str = "Trait {
	#name : 'TGreeting',
	#traits : 'TPolite',
	#classTraits : 'TPolite classTrait',
	#package : 'T-Test'
}

TGreeting >> greet [ ^ 'hello ' , self name ]

TGreeting >> wave [ ^ #wave ]

TGreeting class >> kind [ ^ #greeter ]
";

const PERSON: &str = "Class {
	#name : 'Person',
	#superclass : 'Object',
	#traits : 'TGreeting - {#wave} + ((TPolite - {#greet}) @ {#pleaseAlias -> #please})',
	#classTraits : 'TGreeting classTrait',
	#instVars : [ 'name' ],
	#package : 'T-Test'
}

Person >> name [ ^ name ifNil: [ 'Ann' ] ]

Person >> please [ ^ 'mine' ]
";

fn eval_with(dir: &std::path::Path, expression: &str) -> (String, String) {
    let out = zag(&["--load", &dir.display().to_string(), "eval", expression]);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn classes_get_the_methods_of_their_traits() {
    let dir = temp_tree(
        "traits-compose",
        &[
            ("T-Test/package.st", PACKAGE),
            ("T-Test/TPolite.trait.st", T_POLITE),
            ("T-Test/TGreeting.trait.st", T_GREETING),
            ("T-Test/Person.class.st", PERSON),
        ],
    );
    let (stdout, stderr) = eval_with(
        &dir,
        "{ Person new greet. Person new please. Person new pleaseAlias. \
         Person new respondsTo: #wave. Person kind. Person politeClass. \
         Person new respondsTo: #greet }",
    );
    // greet: TGreeting's (it overrides TPolite's, which is excluded);
    // please: the class's own; pleaseAlias: TPolite's please; wave
    // excluded; name: the class's, which meets TPolite's requirement.
    assert_eq!(
        stdout, "#('hello Ann' 'mine' 'please' false #greeter true true)\n",
        "{stderr}"
    );
}

#[test]
fn conflicts_and_unknown_or_stateful_traits_are_reported() {
    let conflict = "Class {
	#name : 'Both',
	#superclass : 'Object',
	#traits : 'TGreeting + TPolite',
	#package : 'T-Test'
}
";
    let unknown = "Class { #name : 'Lost', #superclass : 'Object', #traits : 'TMissing', #package : 'T-Test' }\n";
    let stateful = "Trait { #name : 'TCounter', #instVars : [ 'count' ], #package : 'T-Test' }\n\nTCounter >> count [ ^ count ]\n";
    let user = "Class { #name : 'Counted', #superclass : 'Object', #traits : 'TCounter', #package : 'T-Test' }\n";
    let dir = temp_tree(
        "traits-errors",
        &[
            ("T-Test/package.st", PACKAGE),
            ("T-Test/TPolite.trait.st", T_POLITE),
            ("T-Test/TGreeting.trait.st", T_GREETING),
            ("T-Test/Both.class.st", conflict),
            ("T-Test/Lost.class.st", unknown),
            ("T-Test/TCounter.trait.st", stateful),
            ("T-Test/Counted.class.st", user),
        ],
    );
    let (_, stderr) = eval_with(&dir, "3");
    for expected in [
        "Both: #greet comes from two traits; exclude one of them",
        "Lost: uses the trait TMissing, which is not loaded",
        "Counted: the trait TCounter has instance variables, which are not supported",
    ] {
        assert!(stderr.contains(expected), "{expected} not in:\n{stderr}");
    }
}

#[test]
fn the_image_generator_flattens_traits_too() {
    let dir = temp_tree(
        "traits-image",
        &[
            ("T-Test/package.st", PACKAGE),
            ("T-Test/TPolite.trait.st", T_POLITE),
            ("T-Test/TGreeting.trait.st", T_GREETING),
            ("T-Test/Person.class.st", PERSON),
        ],
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pharo-export");
    let source = image::generate(&[root, dir]).unwrap().source;
    // The trait methods are described as Person's, and no method belongs
    // to a trait itself.
    let person_methods = source.matches("class: \"Person\"").count();
    assert!(person_methods >= 6, "{person_methods} methods for Person");
    assert!(!source.contains("class: \"TGreeting\""));
    assert!(!source.contains("class: \"TPolite\""));
    assert!(source.contains("selector: \"pleaseAlias\""));
}
