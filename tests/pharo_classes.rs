//! Real Pharo code, unmodified from ../shared/pharo/src, running on our
//! kernel: Pharo's classes loaded with `--load` in place of ours must pass
//! our tests for them, and some of Pharo's own test classes run as they
//! are. Skipped, with a message, when ../shared is absent.

mod common;

use std::path::{Path, PathBuf};

use common::zag;

fn pharo_src() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/pharo/src");
    if dir.join("Kernel").is_dir() {
        return Some(dir);
    }
    eprintln!(
        "SKIPPED: {} is absent (it comes with ../shared)",
        dir.display()
    );
    None
}

/// Runs `zag --load FILE test CLASS`; answers the summary line, the
/// output, and whether it exited successfully.
fn run_test(file: &Path, class: &str) -> (String, String, bool) {
    run_test_loading(&[file], class)
}

/// The same, loading several files.
fn run_test_loading(files: &[&Path], class: &str) -> (String, String, bool) {
    let paths: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut args = Vec::new();
    for path in &paths {
        args.extend(["--load", path.as_str()]);
    }
    args.extend(["test", class]);
    let out = zag(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stdout
        .lines()
        .find(|l| l.contains(" run, "))
        .unwrap_or_else(|| panic!("no summary for {class}:\n{stdout}\n{stderr}"))
        .to_string();
    (summary, stdout, out.status.success())
}

/// The class a Tonel file defines (`Foo/BarTest.class.st` → `BarTest`).
fn class_in(file: &str) -> &str {
    let name = file.rsplit('/').next().unwrap();
    name.trim_end_matches(".class.st")
}

/// Checks a test class's summary line: every test ran, and at least
/// `floor` passed. Answers how many passed.
fn check_summary(class: &str, summary: &str, stdout: &str, tests: usize, floor: usize) -> usize {
    eprintln!("Pharo's {class}: {summary}");
    assert_eq!(count(summary, " run,"), tests, "{stdout}");
    let passed = count(summary, " passes");
    assert!(
        passed >= floor,
        "{class}: {passed} passes, expected {floor}:\n{stdout}"
    );
    passed
}

fn count(summary: &str, word: &str) -> usize {
    let end = summary.find(word).expect(word);
    summary[..end]
        .split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .expect("a count")
}

#[test]
fn pharo_classes_in_place_of_ours_pass_our_tests() {
    let Some(src) = pharo_src() else { return };
    for (file, tests) in [
        ("Collections-Unordered/Bag.class.st", "ZagBagTest"),
        ("Kernel/Point.class.st", "ZagPointTest"),
    ] {
        let (summary, stdout, passed) = run_test(&src.join(file), tests);
        eprintln!("Pharo's {file} with {tests}: {summary}");
        assert!(passed, "{stdout}");
        assert!(count(&summary, " run,") >= 7, "{summary}");
    }
}

#[test]
fn pharo_stack_runs_on_our_linked_list() {
    let Some(src) = pharo_src() else { return };
    let file = src.join("Collections-Stack/Stack.class.st");
    let out = zag(&[
        "--load",
        &file.display().to_string(),
        "eval",
        "| s | s := Stack new. s push: 1; push: 2; push: 3. { s pop. s top. s size. s class superclass }",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{3. 2. 2. LinkedList}\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Pharo's own test classes (those without traits, loadable alone), with
/// the number of their tests that pass here at least: a floor that guards
/// what already conforms, and a record of what does not yet.
const PHARO_TESTS: &[(&str, usize, usize)] = &[
    ("Kernel-Tests/MagnitudeTest.class.st", 7, 7),
    ("Kernel-Tests/IntegerDigitLogicTest.class.st", 7, 7),
    ("Kernel-Tests/BlockClosuresTestCase.class.st", 12, 11),
    (
        "Kernel-Tests/BasicBehaviorClassMetaclassTest.class.st",
        9,
        9,
    ),
    ("Collections-Abstract-Tests/SplitJoinTest.class.st", 26, 26),
    ("Collections-Streams-Tests/ReadStreamTest.class.st", 12, 12),
    ("Collections-Streams-Tests/StreamBugsTest.class.st", 1, 1),
    ("SUnit-Tests/ExampleSetTest.class.st", 6, 6),
];

#[test]
fn pharo_test_classes_run_unmodified() {
    let Some(src) = pharo_src() else { return };
    let (mut run, mut passes) = (0, 0);
    for &(file, tests, floor) in PHARO_TESTS {
        let class = class_in(file);
        let (summary, stdout, _) = run_test(&src.join(file), class);
        let passed = check_summary(class, &summary, &stdout, tests, floor);
        (run, passes) = (run + tests, passes + passed);
    }
    eprintln!("Pharo's own tests: {passes} of {run} pass");
}

/// Pharo's test classes of the Pharo runtime (issue 17) and of the
/// collections (issue 18), each with what it loads before it (SUnit-Core's
/// ClassTestCase, the helpers it names, the collection tests' traits), its
/// test count and its floor of passes (as measured: a regression fails).
const PHARO_KERNEL_TESTS: &[(&str, &[&str], usize, usize)] = &[
    ("Kernel-Tests/BecomeTest.class.st", &[], 8, 8),
    (
        "Kernel-Tests/ScaledDecimalTest.class.st",
        CLASS_TEST_CASE,
        30,
        30,
    ),
    ("Kernel-Tests/FloatTest.class.st", CLASS_TEST_CASE, 53, 51),
    (
        "Kernel-Tests/FractionTest.class.st",
        CLASS_TEST_CASE,
        19,
        19,
    ),
    ("Kernel-Tests/NumberTest.class.st", CLASS_TEST_CASE, 20, 20),
    ("Kernel-Tests/IntegerTest.class.st", &[], 56, 53),
    (
        "Kernel-Tests/SmallIntegerTest.class.st",
        CLASS_TEST_CASE,
        27,
        27,
    ),
    (
        "Kernel-Tests/LargePositiveIntegerTest.class.st",
        CLASS_TEST_CASE,
        15,
        15,
    ),
    (
        "Kernel-Tests/LargeNegativeIntegerTest.class.st",
        CLASS_TEST_CASE,
        13,
        13,
    ),
    (
        "Kernel-Tests/CharacterTest.class.st",
        CLASS_TEST_CASE,
        17,
        17,
    ),
    (
        "Kernel-Tests/UndefinedObjectTest.class.st",
        CLASS_TEST_CASE,
        17,
        16,
    ),
    (
        "Kernel-Tests/ProtoObjectTest.class.st",
        CLASS_TEST_CASE,
        14,
        14,
    ),
    (
        "Kernel-Tests/ObjectTest.class.st",
        &[
            "SUnit-Core/AbstractEnvironmentTestCase.class.st",
            "SUnit-Core/ClassTestCase.class.st",
            "Kernel-Tests/ObjectMockForTest.class.st",
        ],
        26,
        26,
    ),
    (
        "Kernel-Tests/ExceptionTest.class.st",
        &[
            "Kernel-Tests/MyResumableTestError.class.st",
            "Kernel-Tests/MyTestError.class.st",
            "Kernel-Tests/MyTestNotification.class.st",
            "Kernel-Tests/ExceptionTester.class.st",
        ],
        45,
        43,
    ),
    ("Kernel-Tests/BlockClosureTest.class.st", &[], 41, 38),
    // Processes.
    (
        "Kernel-Tests/SemaphoreTest.class.st",
        CLASS_TEST_CASE,
        14,
        14,
    ),
    ("Kernel-Tests/MonitorTest.class.st", &[], 3, 3),
    ("Kernel-Tests/ProcessTerminateBugTest.class.st", &[], 12, 12),
    (
        "Kernel-Tests/ProcessSpecificTest.class.st",
        &[
            "Kernel-Tests/ExecutionEnvironmentStub.class.st",
            "Kernel-Tests/TestDynamicVariable.class.st",
            "Kernel-Tests/TestInheritableVariable.class.st",
            "Kernel-Tests/TestLocalVariable.class.st",
        ],
        8,
        8,
    ),
    ("Kernel-Tests/DelayTest.class.st", &[], 3, 3),
    (
        "Kernel-Tests/DelayBasicSchedulerMicrosecondTickerTest.class.st",
        &[],
        16,
        16,
    ),
    (
        "Kernel-Tests/DelayBasicSchedulerMillisecondTickerTest.class.st",
        DELAY_TEST,
        16,
        16,
    ),
    (
        "Kernel-Tests/DelayMutexSchedulerMicrosecondTickerTest.class.st",
        DELAY_TEST,
        16,
        16,
    ),
    (
        "Kernel-Tests/DelayMutexSchedulerMillisecondTickerTest.class.st",
        &[
            "Kernel-Tests/DelayBasicSchedulerMicrosecondTickerTest.class.st",
            "Kernel-Tests/DelayMutexSchedulerMicrosecondTickerTest.class.st",
        ],
        16,
        16,
    ),
    (
        "Kernel-Tests/DelaySemaphoreSchedulerMicrosecondTickerTest.class.st",
        DELAY_TEST,
        16,
        16,
    ),
    (
        "Kernel-Tests/DelaySemaphoreSchedulerMillisecondTickerTest.class.st",
        &[
            "Kernel-Tests/DelayBasicSchedulerMicrosecondTickerTest.class.st",
            "Kernel-Tests/DelaySemaphoreSchedulerMicrosecondTickerTest.class.st",
        ],
        16,
        16,
    ),
    // Streams and support.
    (
        "Collections-Streams-Tests/WriteStreamTest.class.st",
        CLASS_TEST_CASE,
        17,
        17,
    ),
    (
        "Collections-Streams-Tests/LimitedWriteStreamTest.class.st",
        &[
            "SUnit-Core/AbstractEnvironmentTestCase.class.st",
            "SUnit-Core/ClassTestCase.class.st",
            "Collections-Streams-Tests/WriteStreamTest.class.st",
        ],
        21,
        21,
    ),
    (
        "Collections-Streams-Tests/NullStreamTest.class.st",
        CLASS_TEST_CASE,
        6,
        6,
    ),
    (
        "Collections-Streams-Tests/ReadWriteStreamTest.class.st",
        CLASS_TEST_CASE,
        17,
        17,
    ),
    (
        "Collections-Streams-Tests/GeneratorTest.class.st",
        &[],
        13,
        13,
    ),
    (
        "Collections-Support-Tests/RunArrayTest.class.st",
        &[
            "Collections-Abstract-Tests/TSequenceableTruncatedToSize.trait.st",
            "Collections-Abstract-Tests/TCreationWithTest.trait.st",
        ],
        35,
        35,
    ),
    (
        "Collections-Sequenceable-Tests/SharedQueueTest.class.st",
        &[],
        3,
        3,
    ),
    // Strings (Unicode).
    (
        "Collections-Strings-Tests/WideStringTest.class.st",
        CLASS_TEST_CASE,
        17,
        17,
    ),
];

/// What the Delay scheduler tests load first: their abstract parent.
const DELAY_TEST: &[&str] = &["Kernel-Tests/DelayBasicSchedulerMicrosecondTickerTest.class.st"];

/// What a subclass of ClassTestCase loads first.
const CLASS_TEST_CASE: &[&str] = &[
    "SUnit-Core/AbstractEnvironmentTestCase.class.st",
    "SUnit-Core/ClassTestCase.class.st",
];

#[test]
fn pharo_kernel_test_classes_run_unmodified() {
    let Some(src) = pharo_src() else { return };
    let (mut run, mut passes) = (0, 0);
    for &(file, helpers, tests, floor) in PHARO_KERNEL_TESTS {
        let class = class_in(file);
        let paths: Vec<_> = helpers.iter().chain([&file]).map(|f| src.join(f)).collect();
        let files: Vec<&Path> = paths.iter().map(|f| f.as_path()).collect();
        let (summary, stdout, _) = run_test_loading(&files, class);
        let passed = check_summary(class, &summary, &stdout, tests, floor);
        (run, passes) = (run + tests, passes + passed);
    }
    eprintln!("Pharo's test classes of the runtime and collections: {passes} of {run} pass");
}

/// Pharo's StackTest takes its tests from two traits (TEmptyTest,
/// TCloneTest), flattened into it on loading; it tests Pharo's Stack,
/// which runs on our LinkedList.
#[test]
fn pharo_stack_test_runs_with_its_traits() {
    let Some(src) = pharo_src() else { return };
    let files = [
        "Collections-Stack/Stack.class.st",
        "Collections-Abstract-Tests/TEmptyTest.trait.st",
        "Collections-Abstract-Tests/TCloneTest.trait.st",
        "Collections-Stack-Tests/StackTest.class.st",
    ]
    .map(|f| src.join(f));
    let refs: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
    let (summary, stdout, passed) = run_test_loading(&refs, "StackTest");
    eprintln!("Pharo's StackTest with its traits: {summary}");
    assert!(passed, "{stdout}");
    assert_eq!(count(&summary, " run,"), 13, "{stdout}");
}

/// Pharo's own collection test classes, with the test traits they are
/// composed of, run unmodified on our collections: a floor of passes per
/// class records how far our kernel conforms, and guards it.
const PHARO_COLLECTION_TESTS: &[(&str, usize, usize)] = &[
    (
        "Collections-Sequenceable-Tests/ArrayTest.class.st",
        333,
        331,
    ),
    (
        "Collections-Sequenceable-Tests/OrderedCollectionTest.class.st",
        360,
        357,
    ),
    (
        "Collections-Sequenceable-Tests/SortedCollectionTest.class.st",
        295,
        295,
    ),
    (
        "Collections-Sequenceable-Tests/LinkedListTest.class.st",
        260,
        257,
    ),
    ("Collections-Sequenceable-Tests/HeapTest.class.st", 151, 151),
    (
        "Collections-Sequenceable-Tests/IntervalTest.class.st",
        268,
        266,
    ),
    ("Collections-Stack-Tests/StackTest.class.st", 13, 13),
    ("Collections-Unordered-Tests/SetTest.class.st", 181, 181),
    (
        "Collections-Unordered-Tests/DictionaryTest.class.st",
        212,
        210,
    ),
    ("Collections-Unordered-Tests/BagTest.class.st", 176, 175),
    ("Collections-Strings-Tests/StringTest.class.st", 441, 441),
    ("Collections-Strings-Tests/SymbolTest.class.st", 272, 272),
    (
        "Collections-Native-Tests/Float32ArrayTest.class.st",
        285,
        285,
    ),
    (
        "Collections-Native-Tests/Float64ArrayTest.class.st",
        276,
        276,
    ),
    ("Collections-Native-Tests/IntegerArrayTest.class.st", 3, 3),
    ("Collections-Native-Tests/ByteArrayTest.class.st", 13, 12),
];

#[test]
fn pharo_collection_tests_run_with_their_traits() {
    let Some(src) = pharo_src() else { return };
    // Every test trait, in one package folder to load.
    let mut traits = vec![(
        "Traits-All/package.st".to_string(),
        "Package { #name : 'Traits-All' }\n".to_string(),
    )];
    for package in ["Collections-Abstract-Tests", "Collections-Unordered-Tests"] {
        let mut files: Vec<_> = std::fs::read_dir(src.join(package))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".trait.st"))
            .collect();
        files.sort();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            traits.push((
                format!("Traits-All/{name}"),
                std::fs::read_to_string(&file).unwrap(),
            ));
        }
    }
    let entries: Vec<(&str, &str)> = traits
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let traits_dir = common::temp_tree("pharo-test-traits", &entries);
    let support = [
        "SUnit-Core/AbstractEnvironmentTestCase.class.st",
        "SUnit-Core/ClassTestCase.class.st",
        "Collections-Abstract-Tests/CollectionRootTest.class.st",
    ]
    .map(|f| src.join(f));
    let (mut run, mut passes) = (0, 0);
    for &(file, tests, floor) in PHARO_COLLECTION_TESTS {
        let class = class_in(file);
        let test_file = src.join(file);
        let mut files: Vec<&Path> = vec![traits_dir.as_path()];
        files.extend(support.iter().map(|p| p.as_path()));
        files.push(&test_file);
        let (summary, stdout, _) = run_test_loading(&files, class);
        let passed = check_summary(class, &summary, &stdout, tests, floor);
        (run, passes) = (run + tests, passes + passed);
    }
    eprintln!("Pharo's collection tests: {passes} of {run} pass");
}

/// Every other test class of Pharo's Kernel-Tests, Collections-*-Tests
/// and SUnit-Tests, with its test count and floor, as
/// `../shared/tools/pharo-compat.py` runs them (unmodified, with their
/// helpers and traits, one process each): the tool that judges the
/// project keeps them from regressing.
const PHARO_SUITE_TESTS: &[(&str, usize, usize)] = &[
    ("Collections-Native-Tests/NativeArrayTest.class.st", 6, 6),
    (
        "Collections-Sequenceable-Tests/OrderedDictionaryTest.class.st",
        66,
        66,
    ),
    (
        "Collections-Sequenceable-Tests/OrderedIdentityDictionaryTest.class.st",
        66,
        66,
    ),
    ("Collections-Strings-Tests/ByteSymbolTest.class.st", 4, 1),
    (
        "Collections-Strings-Tests/StringInitializationTest.class.st",
        6,
        6,
    ),
    (
        "Collections-Strings-Tests/StringLineEndingsTest.class.st",
        3,
        3,
    ),
    ("Collections-Support-Tests/AssociationTest.class.st", 9, 9),
    ("Collections-Support-Tests/CharacterSetTest.class.st", 1, 1),
    ("Collections-Support-Tests/CollectionTest.class.st", 3, 2),
    ("Collections-Support-Tests/ValueLinkTest.class.st", 3, 3),
    (
        "Collections-Support-Tests/WideCharacterSetTest.class.st",
        3,
        3,
    ),
    (
        "Collections-Unordered-Tests/HashTableSizesTest.class.st",
        1,
        1,
    ),
    ("Collections-Unordered-Tests/IdentityBagTest.class.st", 3, 3),
    (
        "Collections-Unordered-Tests/IdentityDictionaryTest.class.st",
        1,
        1,
    ),
    ("Collections-Unordered-Tests/IdentitySetTest.class.st", 2, 2),
    ("Collections-Unordered-Tests/KeyedTreeTest.class.st", 9, 9),
    (
        "Collections-Unordered-Tests/MethodDictionaryTest.class.st",
        36,
        36,
    ),
    (
        "Collections-Unordered-Tests/NestedDictionaryTest.class.st",
        6,
        6,
    ),
    (
        "Collections-Unordered-Tests/PluggableDictionaryTest.class.st",
        5,
        5,
    ),
    (
        "Collections-Unordered-Tests/PluggableSetTest.class.st",
        181,
        181,
    ),
    (
        "Collections-Unordered-Tests/SmallDictionaryTest.class.st",
        3,
        3,
    ),
    (
        "Collections-Unordered-Tests/SmallIdentityDictionaryTest.class.st",
        213,
        212,
    ),
    ("Kernel-Tests/AllocationTest.class.st", 4, 4),
    ("Kernel-Tests/BehaviorTest.class.st", 41, 37),
    ("Kernel-Tests/BooleanTest.class.st", 3, 3),
    ("Kernel-Tests/ClassAnnouncementsTest.class.st", 1, 1),
    (
        "Kernel-Tests/ClassDefinitionPrinterConfigurationTest.class.st",
        3,
        0,
    ),
    (
        "Kernel-Tests/ClassDescriptionProtocolsTest.class.st",
        41,
        41,
    ),
    ("Kernel-Tests/ClassDescriptionTest.class.st", 26, 25),
    ("Kernel-Tests/ClassHierarchyTest.class.st", 3, 3),
    ("Kernel-Tests/CompiledBlockTest.class.st", 2, 0),
    ("Kernel-Tests/CompiledCodeTest.class.st", 32, 22),
    ("Kernel-Tests/ContextTest.class.st", 18, 9),
    ("Kernel-Tests/DependentsArrayTest.class.st", 1, 1),
    ("Kernel-Tests/DeprecationTest.class.st", 2, 1),
    ("Kernel-Tests/FalseTest.class.st", 15, 15),
    (
        "Kernel-Tests/FluidClassDefinitionPrinterTest.class.st",
        24,
        13,
    ),
    (
        "Kernel-Tests/IVsAndClassVarNamesConflictTest.class.st",
        2,
        2,
    ),
    (
        "Kernel-Tests/LegacyClassDefinitionPrinterTest.class.st",
        10,
        5,
    ),
    ("Kernel-Tests/LocalRecursionStopperTest.class.st", 4, 4),
    ("Kernel-Tests/MessageNotUnderstoodTest.class.st", 2, 2),
    ("Kernel-Tests/MetaClassTest.class.st", 3, 0),
    ("Kernel-Tests/MethodAnnouncementsTest.class.st", 6, 5),
    ("Kernel-Tests/ObjectFinalizerTest.class.st", 1, 1),
    ("Kernel-Tests/ObjectLayoutTest.class.st", 1, 1),
    ("Kernel-Tests/OldClassDefinitionPrinterTest.class.st", 10, 5),
    ("Kernel-Tests/OutOfMemoryTest.class.st", 2, 1),
    ("Kernel-Tests/PragmaTest.class.st", 10, 10),
    ("Kernel-Tests/ProtocolAnnouncementsTest.class.st", 13, 13),
    ("Kernel-Tests/RecursionStopperTest.class.st", 3, 3),
    ("Kernel-Tests/SharedPoolTest.class.st", 6, 0),
    ("Kernel-Tests/TrueTest.class.st", 15, 15),
    ("Kernel-Tests/WeakMessageSendTest.class.st", 9, 9),
    ("SUnit-Tests/ClassFactoryForTestCaseTest.class.st", 6, 4),
    (
        "SUnit-Tests/ClassFactoryWithNonDefaultEnvironmentTest.class.st",
        3,
        0,
    ),
    ("SUnit-Tests/FailingTearDownTest.class.st", 2, 2),
    ("SUnit-Tests/FailingTestResourceTestCase.class.st", 5, 5),
    ("SUnit-Tests/ManyTestResourceTestCase.class.st", 1, 1),
    ("SUnit-Tests/PaCasesMatrixTest.class.st", 1, 1),
    ("SUnit-Tests/PaCombinedMatrixExampleTest.class.st", 1, 1),
    ("SUnit-Tests/PaMatrix3ExampleTest.class.st", 1, 1),
    ("SUnit-Tests/PaMatrixExampleTest.class.st", 1, 1),
    ("SUnit-Tests/PaSelectedCasesExampleTest.class.st", 1, 1),
    ("SUnit-Tests/PaSimpleMatrixExampleTest.class.st", 3, 3),
    ("SUnit-Tests/PaSuiteTest.class.st", 11, 11),
    ("SUnit-Tests/ProcessMonitorTestServiceTest.class.st", 47, 44),
    ("SUnit-Tests/ResumableTestFailureTestCase.class.st", 1, 1),
    ("SUnit-Tests/SUnitExtensionsTest.class.st", 18, 17),
    ("SUnit-Tests/SUnitTest.class.st", 35, 33),
    ("SUnit-Tests/SimpleTestResourceTestCase.class.st", 5, 5),
    ("SUnit-Tests/TestAsserterTest.class.st", 2, 2),
    ("SUnit-Tests/TestCaseTest.class.st", 2, 1),
    ("SUnit-Tests/TestExecutionEnvironmentTest.class.st", 38, 38),
    ("SUnit-Tests/TestFailureTestCase.class.st", 1, 1),
    (
        "SUnit-Tests/TestResourceWithForkedProcessTestCase.class.st",
        2,
        2,
    ),
];

#[test]
fn pharo_suites_run_by_the_compatibility_tool_keep_their_floors() {
    let Some(src) = pharo_src() else { return };
    let tool = src.join("../../tools/pharo-compat.py");
    if !tool.is_file() {
        eprintln!("SKIPPED: {} is absent", tool.display());
        return;
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pharo-compat.json");
    let mut command = std::process::Command::new("python3");
    command
        .arg(&tool)
        .args([
            "--zag",
            env!("CARGO_BIN_EXE_zag"),
            "--quiet",
            "--no-what-if",
        ])
        .arg("--shared")
        .arg(src.join("../.."))
        .arg("--out")
        .arg(&out)
        .arg("--only")
        .args(PHARO_SUITE_TESTS.iter().map(|&(file, _, _)| class_in(file)));
    let ran = match command.output() {
        Ok(ran) => ran,
        Err(e) => {
            eprintln!("SKIPPED: python3 does not run ({e})");
            return;
        }
    };
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    // One line per class, "name tests passed", from the tool's JSON.
    let listed = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys\nfor c in json.load(open(sys.argv[1]))['classes']: \
             print(c['class'], c['tests'], c['passed'])",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listed.stdout);
    let counts: std::collections::HashMap<&str, (usize, usize)> = listing
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let class = words.next()?;
            Some((
                class,
                (words.next()?.parse().ok()?, words.next()?.parse().ok()?),
            ))
        })
        .collect();
    let mut below = Vec::new();
    for &(file, tests, floor) in PHARO_SUITE_TESTS {
        let class = class_in(file);
        let &(counted, passed) = counts
            .get(class)
            .unwrap_or_else(|| panic!("{class} is missing from the tool's report"));
        assert_eq!(
            counted, tests,
            "{class}: the tool counts another number of tests"
        );
        if passed < floor {
            below.push(format!(
                "{class}: {passed} of {tests} pass, the floor is {floor}"
            ));
        }
    }
    assert!(
        below.is_empty(),
        "below their floors:\n{}",
        below.join("\n")
    );
}
