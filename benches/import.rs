//! Import throughput on ../shared/pharo/src (29 Pharo packages, ~2.9 MB):
//! each phase timed over several runs, medians reported in MB/s of Tonel
//! source. `cargo bench --bench import [-- RUNS]`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zag_compiler::environment::{Environment, ScopeCache};
use zag_compiler::import::{check, convert_all, verify_round_trip, Import};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/pharo/src");
    if !corpus.is_dir() {
        eprintln!(
            "SKIPPED: {} is absent (it comes with ../shared)",
            corpus.display()
        );
        return;
    }
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(11);
    let paths: Vec<PathBuf> = vec![corpus];
    let mut read = Vec::new();
    let mut convert = Vec::new();
    let mut round_trip = Vec::new();
    let mut whole = Vec::new();
    let mut bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let import = Import::read(&paths);
        read.push(t.elapsed());
        bytes = import.bytes;

        let t = Instant::now();
        let mut errors = Vec::new();
        let env = import.environment(&mut errors);
        let methods = convert_all(&import, &env, &mut errors);
        convert.push(t.elapsed());
        assert!(errors.is_empty());

        let t = Instant::now();
        let mut scopes = ScopeCache::new(&env);
        for m in &methods {
            verify_round_trip(
                &m.method,
                scopes.get(&m.method.class_name, m.method.class_side),
            )
            .unwrap();
        }
        round_trip.push(t.elapsed());

        let t = Instant::now();
        let report = check(&paths, &Environment::new(), |_| false);
        whole.push(t.elapsed());
        assert!(report.errors.is_empty());
    }
    let mb = bytes as f64 / 1e6;
    println!("import benchmark: {mb:.2} MB of Tonel, median of {runs} runs");
    for (phase, samples) in [
        ("read + parse (parallel)", read),
        ("environment + convert (parallel)", convert),
        ("round trip (one thread)", round_trip),
        ("zag check, everything (parallel)", whole),
    ] {
        let m = median(samples).as_secs_f64();
        println!("  {phase:<34} {:>7.1} ms  {:>6.1} MB/s", m * 1000.0, mb / m);
    }
}
