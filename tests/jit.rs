//! The JIT against the interpreter on random programs: a seeded generator
//! writes Smalltalk do-its (SmallInteger and float arithmetic at the range
//! edges, comparisons, branches, loops, blocks, non-local return,
//! `ensure:`, `on:do:` with `retry`, `return:` and `resume:`, polymorphic
//! receivers, doesNotUnderstand:, deep recursion), and each runs on a VM
//! that interprets and on one that compiles every method at its first call
//! (and every fourth on one that compiles methods once their caches are
//! warm, and on one that compiles them on its worker thread); their
//! answers (or errors) must be the same.
//!
//! `ZAG_JIT_PROGRAMS=N` runs N programs instead of the default 2,000, and
//! `ZAG_JIT_SEED=S` starts from another seed; `ZAG_JIT_VERBOSE=1` prints
//! each program before it runs.

#![cfg(feature = "jit")]

use zag::vm::Vm;

/// xorshift64*: small, seeded, good enough to pick program shapes.
struct Random(u64);

impl Random {
    /// The generator for `seed`: every seed gets a stream of its own
    /// (splitmix64's finalizer is a bijection; xorshift needs a non-zero
    /// state). `seed | 1` used to give seeds 2k and 2k+1 the same one.
    fn seeded(seed: u64) -> Random {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Random(if z == 0 { 0x5EED } else { z })
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const INTEGERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "7",
    "-13",
    "100",
    "1152921504606846975",  // SmallInteger maxVal
    "-1152921504606846976", // SmallInteger minVal
    "1152921504606846974",
    "4294967296",
    "(2 raisedTo: 64)",
];

const FLOATS: &[&str] = &["0.5", "-2.25", "1.0e300", "3.0e-300", "1.5", "-0.0"];

struct Generator {
    random: Random,
    depth: u32,
}

impl Generator {
    /// A number-valued expression.
    fn number(&mut self) -> String {
        self.depth += 1;
        let leaf = self.depth > 3 || self.random.below(3) == 0;
        let text = if leaf {
            match self.random.below(6) {
                0 => self.random.pick(FLOATS).to_string(),
                1 => "s".to_string(),
                2 => "t".to_string(),
                _ => self.random.pick(INTEGERS).to_string(),
            }
        } else {
            match self.random.below(11) {
                0..=3 => {
                    let op = self.random.pick(&["+", "-", "*", "max:", "min:"]);
                    format!("({} {op} {})", self.number(), self.number())
                }
                4 => {
                    let op = self.random.pick(&["//", "\\\\", "rem:", "quo:"]);
                    format!(
                        "({} truncated {op} {} truncated)",
                        self.number(),
                        self.number()
                    )
                }
                5 => {
                    let op = self.random.pick(&["bitAnd:", "bitOr:", "bitXor:"]);
                    format!(
                        "({} truncated {op} {} truncated)",
                        self.number(),
                        self.number()
                    )
                }
                6 => format!(
                    "({} ifTrue: [{}] ifFalse: [{}])",
                    self.condition(),
                    self.number(),
                    self.number()
                ),
                7 => format!("([:x | x + {}] value: {})", self.number(), self.number()),
                8 => format!(
                    "(#(3 1 4 1 5) inject: {} into: [:a :b | a + (b * {})])",
                    self.number(),
                    self.number()
                ),
                9 => format!("({} abs)", self.number()),
                _ => format!(
                    "([:k | #(2 4 6 8) detect: [:e | e > k] ifNone: [{}]] value: {})",
                    self.number(),
                    self.random.below(10)
                ),
            }
        };
        self.depth -= 1;
        text
    }

    fn condition(&mut self) -> String {
        let op = self.random.pick(&["<", ">", "<=", ">=", "=", "~="]);
        let left = self.number();
        let right = self.number();
        match self.random.below(4) {
            0 => format!("({left} {op} {right} and: [s < 1000])"),
            1 => format!("(({left} {op} {right}) | (t = 3))"),
            _ => format!("({left} {op} {right})"),
        }
    }

    /// A statement that changes `s` or `t`.
    fn statement(&mut self) -> String {
        let n = self.random.below(5) + 1;
        match self.random.below(12) {
            0 => format!("s := {}", self.number()),
            1 => format!("t := {}", self.number()),
            2 => format!("1 to: {n} do: [:i | s := s + (i * {})]", self.number()),
            // (Loops count with `r`, which only they change, so that they
            // end whatever `s` and `t` hold.)
            3 => format!(
                "r := 0. [r < {}] whileTrue: [r := r + 1. t := t + 1]",
                self.random.below(20)
            ),
            4 => format!("s := [{}] ensure: [t := t + 1]", self.number()),
            5 => format!(
                "s := [{} / 0] on: ZeroDivide do: [:e | e return: {}]",
                self.number(),
                self.number()
            ),
            6 => "r := 0. s := [r := r + 1. r < 3 ifTrue: [1 / 0]. r + t] on: ZeroDivide do: [:e | e retry]".to_string(),
            7 => format!(
                "s := [(Warning signal: 'w') + 1] on: Warning do: [:e | e resume: {}]",
                self.number()
            ),
            8 => format!(
                "t := [{} frobnicate] on: MessageNotUnderstood do: [:e | e message selector size]",
                self.number()
            ),
            9 => format!(
                "s := (Array with: {} with: 'ab' with: #cd with: nil with: 2.5) inject: 0 into: [:a :x | a + x printString size]",
                self.number()
            ),
            10 => format!(
                "s := [:k | | f | f := nil. f := [:m | m = 0 ifTrue: [0] ifFalse: [(f value: m - 1) + 1]]. f value: k] value: {}",
                self.random.below(2000)
            ),
            _ => format!("{} ifTrue: [s := s + 1] ifFalse: [t := t - 1]", self.condition()),
        }
    }

    fn program(&mut self) -> String {
        let statements: Vec<String> = (0..self.random.below(3) + 1)
            .map(|_| self.statement())
            .collect();
        format!(
            "| s t r | s := 0. t := 1. {}. {{s. t}} printString",
            statements.join(". ")
        )
    }
}

/// What a program answers: its printString, or the error's first line.
fn outcome(vm: &mut Vm, program: &str) -> String {
    match vm.evaluate(program) {
        Ok(v) => vm.symbol_text(v),
        Err(e) => format!("error: {}", e.message),
    }
}

#[test]
fn random_programs_answer_the_same_compiled_and_interpreted() {
    let count: u64 = std::env::var("ZAG_JIT_PROGRAMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let seed: u64 = std::env::var("ZAG_JIT_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x5EED_1234_ABCD);
    let mut generator = Generator {
        random: Random::seeded(seed),
        depth: 0,
    };
    let mut interpreted = zag::image::boot().unwrap();
    let mut compiled = zag::image::boot().unwrap();
    compiled.universe.set_jit_threshold(Some(0));
    // Methods compiled once their send sites' caches are warm, so that the
    // compiled sends take the guesses those caches give (see
    // `jit::speculation`), with whatever receivers the programs pass (every
    // fourth program: each VM costs as much again).
    let mut warm = zag::image::boot().unwrap();
    warm.universe.set_jit_threshold(Some(2));
    // And compiled on the worker thread, installed whenever the VM looks,
    // in the middle of whatever program runs then (every fourth program,
    // between the warm VM's).
    let mut background = zag::image::boot().unwrap();
    background.universe.set_jit_threshold(Some(2));
    background.universe.jit.background = true;
    let mut errors = 0;
    for i in 0..count {
        let program = generator.program();
        if std::env::var_os("ZAG_JIT_VERBOSE").is_some() {
            eprintln!("{i}: {program}");
        }
        let expected = outcome(&mut interpreted, &program);
        let got = outcome(&mut compiled, &program);
        assert_eq!(got, expected, "program {i} (seed {seed}): {program}");
        if i % 4 == 0 {
            let got = outcome(&mut warm, &program);
            assert_eq!(got, expected, "program {i} (seed {seed}, warm): {program}");
        }
        if i % 4 == 2 {
            let got = outcome(&mut background, &program);
            assert_eq!(
                got, expected,
                "program {i} (seed {seed}, background): {program}"
            );
        }
        errors += expected.starts_with("error:") as u64;
    }
    let stats = &compiled.universe.jit.stats;
    assert!(stats.methods as u64 >= count, "{}", stats.report());
    assert!(stats.refused.is_empty(), "{}", stats.report());
    let warm_stats = &warm.universe.jit.stats;
    assert!(warm_stats.guessed_sends > 0, "{}", warm_stats.report());
    zag::jit::finish_compiling(&mut background);
    let background_stats = &background.universe.jit.stats;
    assert!(
        background_stats.methods > 0,
        "{}",
        background_stats.report()
    );
    assert!(
        background_stats.refused.is_empty(),
        "{}",
        background_stats.report()
    );
    // The programs mostly run to their end.
    assert!(errors < count / 2, "{errors} of {count} programs failed");
    eprintln!(
        "{count} random programs, {errors} ending in an error, the same compiled and interpreted; {}",
        stats.report().replace('\n', "; ")
    );
}
