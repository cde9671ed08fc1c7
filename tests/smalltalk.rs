//! Runs the Smalltalk tests baked into the image (`pharo-export/Kernel-Tests`):
//! every `test*` method of every subclass of ZagTest, on a new instance,
//! once normally and once collecting garbage at every allocation.

use zag::vm::Vm;

struct Outcome {
    tests: usize,
    assertions: usize,
    problems: Vec<String>,
}

fn run_all(gc_stress: Option<u32>) -> Outcome {
    let mut vm = zag::image::boot().expect("the image boots");
    vm.set_gc_stress(gc_stress);
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

fn check(gc_stress: Option<u32>) {
    let outcome = run_all(gc_stress);
    assert!(outcome.tests >= 15, "only {} tests found", outcome.tests);
    assert!(
        outcome.problems.is_empty(),
        "{} of {} Smalltalk tests failed:\n{}",
        outcome.problems.len(),
        outcome.tests,
        outcome.problems.join("\n")
    );
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "Smalltalk tests{}: {} run, {} assertions, all passed",
        if gc_stress.is_some() {
            " under GC stress"
        } else {
            ""
        },
        outcome.tests,
        outcome.assertions
    );
}

#[test]
fn smalltalk_tests_pass() {
    check(None);
}

#[test]
fn smalltalk_tests_pass_under_gc_stress() {
    check(Some(1));
}
