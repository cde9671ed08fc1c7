//! `zag bench [NAMES...]`: runs benchmarks several times each in this
//! process and reports iterations, median, min and max times, and peak RSS;
//! optionally as JSON. A benchmark is any class following Are We Fast Yet's
//! protocol (`innerBenchmarkLoop:` answering whether the results verified):
//! the bundled ones (subclasses of ZagBenchmark), or AWFY's with `--load`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use zag::vm::Vm;

#[derive(Args)]
pub struct BenchArgs {
    /// Benchmark class names (default: every bundled benchmark).
    names: Vec<String>,
    /// Measured runs of each benchmark.
    #[arg(short = 'n', long, default_value_t = 5)]
    iterations: usize,
    /// Inner iterations per run (default: the class's
    /// `defaultInnerIterations`, or 1).
    #[arg(long)]
    inner: Option<i64>,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

struct Row {
    name: String,
    inner: i64,
    times_ms: Vec<f64>,
    peak_rss_mb: Option<f64>,
}

impl Row {
    fn sorted(&self) -> Vec<f64> {
        let mut t = self.times_ms.clone();
        t.sort_by(f64::total_cmp);
        t
    }

    fn median(&self) -> f64 {
        let t = self.sorted();
        t[t.len() / 2]
    }
}

pub fn run(args: &BenchArgs, options: &super::VmOptions) -> ExitCode {
    if args.iterations == 0 {
        eprintln!("zag bench: --iterations must be at least 1");
        return ExitCode::FAILURE;
    }
    let Some(mut vm) = options.boot(Vec::new()) else {
        return ExitCode::FAILURE;
    };
    let names = if args.names.is_empty() {
        bundled(&vm)
    } else {
        args.names.clone()
    };
    let mut rows = Vec::new();
    for name in &names {
        match measure(&mut vm, name, args) {
            Ok(row) => rows.push(row),
            Err(e) => {
                progress::clear();
                eprintln!("{name}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    progress::clear();
    print!("{}", table(&rows));
    if let Some(path) = &args.json {
        if let Err(e) = std::fs::write(path, json(&rows)) {
            eprintln!("zag bench: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    options.report(&vm);
    vm.abandon();
    ExitCode::SUCCESS
}

/// The bundled benchmarks: the subclasses of ZagBenchmark, by name.
fn bundled(vm: &Vm) -> Vec<String> {
    let Some(base) = vm.universe.classes.index_of("ZagBenchmark") else {
        return Vec::new();
    };
    let mut names: Vec<String> = vm
        .universe
        .classes
        .iter()
        .filter(|(i, c)| *i != base && !c.is_meta && vm.universe.classes.inherits_from(*i, base))
        .map(|(_, c)| c.name.clone())
        .collect();
    names.sort();
    names
}

fn measure(vm: &mut Vm, name: &str, args: &BenchArgs) -> Result<Row, String> {
    let class = vm
        .universe
        .global(name)
        .filter(|_| vm.universe.classes.index_of(name).is_some())
        .ok_or("no such benchmark class")?;
    let inner = match args.inner {
        Some(n) => n,
        None => match vm.send(class, "defaultInnerIterations", &[]) {
            Ok(v) => v.as_small_integer().unwrap_or(1),
            Err(_) => 1,
        },
    };
    let inner_oop = zag::object::Oop::small_integer(inner).ok_or("--inner is too large")?;
    let mut times_ms = Vec::with_capacity(args.iterations);
    for i in 0..args.iterations {
        progress::show(&format!("{name} {}/{} ...", i + 1, args.iterations));
        let class = vm.universe.global(name).ok_or("no such benchmark class")?;
        let benchmark = vm.send(class, "new", &[]).map_err(|e| e.to_string())?;
        let start = Instant::now();
        let verified = vm
            .send(benchmark, "innerBenchmarkLoop:", &[inner_oop])
            .map_err(|e| e.to_string())?;
        times_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        if verified != vm.universe.true_object {
            return Err(format!("the result did not verify (run {})", i + 1));
        }
    }
    Ok(Row {
        name: name.to_string(),
        inner,
        times_ms,
        peak_rss_mb: super::peak_rss_kb().map(|kb| kb as f64 / 1024.0),
    })
}

fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<22} {:>6} {:>8} {:>10} {:>10} {:>10} {:>9}\n",
        "benchmark", "runs", "inner", "median ms", "min ms", "max ms", "peak RSS"
    );
    for r in rows {
        let t = r.sorted();
        let rss = r
            .peak_rss_mb
            .map_or_else(|| "?".to_string(), |mb| format!("{mb:.1} MB"));
        out.push_str(&format!(
            "{:<22} {:>6} {:>8} {:>10.1} {:>10.1} {:>10.1} {:>9}\n",
            r.name,
            t.len(),
            r.inner,
            r.median(),
            t[0],
            t[t.len() - 1],
            rss
        ));
    }
    if rows.len() > 1 {
        let mean =
            (rows.iter().map(|r| r.median().max(1e-9).ln()).sum::<f64>() / rows.len() as f64).exp();
        out.push_str(&format!(
            "{:<22} {:>6} {:>8} {:>10.1}\n",
            "geometric mean", "", "", mean
        ));
    }
    out
}

fn json(rows: &[Row]) -> String {
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            let t = r.sorted();
            let times: Vec<String> = r.times_ms.iter().map(|x| format!("{x:.3}")).collect();
            format!(
                "  {{\"benchmark\": \"{}\", \"inner\": {}, \"runs\": {}, \"median_ms\": {:.3}, \"min_ms\": {:.3}, \"max_ms\": {:.3}, \"peak_rss_mb\": {}, \"times_ms\": [{}]}}",
                r.name,
                r.inner,
                t.len(),
                r.median(),
                t[0],
                t[t.len() - 1],
                r.peak_rss_mb.map_or_else(|| "null".to_string(), |m| format!("{m:.1}")),
                times.join(", ")
            )
        })
        .collect();
    format!("[\n{}\n]\n", items.join(",\n"))
}

/// The line saying which run is going on: on standard error when it is a
/// terminal (rewritten in place), nowhere when it is a log.
mod progress {
    use std::io::IsTerminal;

    pub fn show(text: &str) {
        if std::io::stderr().is_terminal() {
            eprint!("\r{text:60}");
        }
    }

    pub fn clear() {
        if std::io::stderr().is_terminal() {
            eprint!("\r{:60}\r", "");
        }
    }
}
