//! Order-preserving parallel map over a slice, on scoped threads: importing
//! is independent per file and per method, so it scales with the cores.

use std::num::NonZeroUsize;
use std::thread;

/// Stack of each worker: conversion and printing recurse once per nesting
/// level (up to `parser::MAX_NESTING`), and an unoptimized build (as build
/// scripts are) uses large frames. Only touched pages cost memory.
const WORKER_STACK: usize = 64 << 20;

/// Number of worker threads: the machine's parallelism, at most 16.
pub fn workers() -> usize {
    thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(16)
}

/// `items.iter().map(|i| f(&mut state, i))` with one `state` per thread
/// (made by `init`), results in the order of `items`.
pub fn map_with<T, S, R, I, F>(items: &[T], init: I, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &T) -> R + Sync,
{
    let threads = workers().min(items.len().max(1));
    if threads <= 1 {
        let mut state = init();
        return items.iter().map(|i| f(&mut state, i)).collect();
    }
    let chunk = items.len().div_ceil(threads);
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let (init, f) = (&init, &f);
                thread::Builder::new()
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, move || {
                        let mut state = init();
                        part.iter().map(|i| f(&mut state, i)).collect::<Vec<R>>()
                    })
                    .expect("a worker thread can be started")
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}
