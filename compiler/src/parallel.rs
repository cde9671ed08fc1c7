//! Order-preserving parallel map over a slice, on scoped threads: importing
//! is independent per file and per method, so it scales with the cores.

use std::num::NonZeroUsize;
use std::thread;

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
                scope.spawn(move || {
                    let mut state = init();
                    part.iter().map(|i| f(&mut state, i)).collect::<Vec<R>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}
