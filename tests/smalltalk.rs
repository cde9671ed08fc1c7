//! Runs the Smalltalk tests baked into the image (`pharo-export/Kernel-Tests`):
//! every `test*` method of every subclass of ZagTest, on a new instance,
//! once normally and once collecting garbage at every allocation.

use zag::vm::Vm;

struct Outcome {
    tests: usize,
    assertions: usize,
    problems: Vec<String>,
    full_collections: u64,
}

fn run_all(gc_stress: Option<u32>, full_collections: bool) -> Outcome {
    let mut vm = zag::image::boot().expect("the image boots");
    vm.set_gc_stress(gc_stress);
    if full_collections {
        // Old space collected after every scavenge.
        vm.heap.set_full_collection_threshold(Some(0));
    }
    let base = vm
        .classes
        .index_of("ZagTest")
        .expect("ZagTest is in the image");
    let mut cases: Vec<(String, Vec<String>)> = vm
        .classes
        .iter()
        .filter(|(i, c)| *i != base && !c.is_meta && vm.classes.inherits_from(*i, base))
        .map(|(_, c)| {
            let mut selectors: Vec<String> = c
                .methods
                .keys()
                .map(|s| vm.symbol_text(*s))
                .filter(|s| s.starts_with("test") && !s.contains(':'))
                .collect();
            selectors.sort();
            (c.name.clone(), selectors)
        })
        .collect();
    cases.sort();
    let mut outcome = Outcome {
        tests: 0,
        assertions: 0,
        problems: Vec::new(),
        full_collections: 0,
    };
    for (class, selectors) in cases {
        for selector in selectors {
            outcome.tests += 1;
            if let Err(problem) = run_one(&mut vm, &class, &selector, &mut outcome.assertions) {
                outcome
                    .problems
                    .push(format!("{class}>>{selector}: {problem}"));
            }
        }
    }
    outcome.full_collections = vm.heap.stats.full_collections;
    outcome
}

fn run_one(vm: &mut Vm, class: &str, selector: &str, assertions: &mut usize) -> Result<(), String> {
    let class_object = vm.global(class).ok_or("no such global")?;
    let test = vm
        .send(class_object, "new", &[])
        .map_err(|e| e.to_string())?;
    // Keep the test object reachable across the collections the test causes.
    vm.set_global("ZagCurrentTest", test);
    vm.send(test, selector, &[]).map_err(|e| e.to_string())?;
    let test = vm.global("ZagCurrentTest").expect("set above");
    let count = vm
        .send(test, "assertionCount", &[])
        .map_err(|e| e.to_string())?;
    *assertions += count.as_small_integer().unwrap_or(0) as usize;
    let report = vm
        .send(test, "failureReport", &[])
        .map_err(|e| e.to_string())?;
    let text = zag::memory::bytes(report)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    if text.is_empty() {
        Ok(())
    } else {
        Err(text.trim_end().replace('\n', "; "))
    }
}

fn check(gc_stress: Option<u32>, full_collections: bool) {
    let outcome = run_all(gc_stress, full_collections);
    assert!(outcome.tests >= 15, "only {} tests found", outcome.tests);
    assert!(
        outcome.problems.is_empty(),
        "{} of {} Smalltalk tests failed:\n{}",
        outcome.problems.len(),
        outcome.tests,
        outcome.problems.join("\n")
    );
    use std::io::Write;
    let mode = match (gc_stress, full_collections) {
        (_, true) => format!(" with {} full collections", outcome.full_collections),
        (Some(_), false) => " under GC stress".to_string(),
        (None, false) => String::new(),
    };
    let _ = writeln!(
        std::io::stderr(),
        "Smalltalk tests{mode}: {} run, {} assertions, all passed",
        outcome.tests,
        outcome.assertions
    );
    if full_collections {
        assert!(
            outcome.full_collections > 100,
            "only {} full collections",
            outcome.full_collections
        );
    }
}

#[test]
fn smalltalk_tests_pass() {
    check(None, false);
}

#[test]
fn smalltalk_tests_pass_under_gc_stress() {
    check(Some(1), false);
}

#[test]
fn smalltalk_tests_pass_with_frequent_old_space_collections() {
    check(Some(50), true);
}
