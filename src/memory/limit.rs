//! The heap limit: how much memory Smalltalk objects may take, and what
//! happens when the operating system refuses memory below that limit.
//!
//! The limit (`--max-heap`) bounds the nursery plus old space. By default
//! it is half of what the machine can give the process: its physical
//! memory, or the address-space or data limit (`ulimit -v`, `ulimit -d`)
//! when that is lower, so a program that keeps allocating meets
//! OutOfMemory before the allocator can fail.

/// Used when the machine's memory cannot be read (not Linux).
const FALLBACK_BYTES: usize = 4 << 30;
/// The limit is never set below this (the image itself needs room).
pub const MIN_BYTES: usize = 32 << 20;

/// Half of the memory this process can have: the smaller of the
/// physical memory and the address-space and data limits.
pub fn default_max_heap() -> usize {
    let physical = physical_memory();
    let limits = process_limits();
    let available = [physical, limits.0, limits.1]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(2 * FALLBACK_BYTES);
    (available / 2).max(MIN_BYTES)
}

/// `MemTotal` of /proc/meminfo, in bytes.
fn physical_memory() -> Option<usize> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The soft "Max address space" and "Max data size" of /proc/self/limits
/// (`None` for unlimited).
fn process_limits() -> (Option<usize>, Option<usize>) {
    let Ok(text) = std::fs::read_to_string("/proc/self/limits") else {
        return (None, None);
    };
    let soft = |name: &str| {
        let line = text.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    (soft("Max address space"), soft("Max data size"))
}

/// Parses a size as `--max-heap` takes it: bytes, or a number with a
/// `K`, `M`, `G` or `T` suffix (powers of 1024; `KB`, `MiB`... also read).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: usize = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (examples: 512M, 2G, 1048576)"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use K, M, G or T)"
            ))
        }
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// Ends the process when the operating system refuses memory the heap
/// limit allows (the limit is above what the machine can give): a clear
/// message and exit status 1 rather than the allocator's abort.
#[cold]
pub(crate) fn refused_by_the_system(bytes: usize) -> ! {
    eprintln!(
        "zag: out of memory: the system refused {} MB for the heap; \
         run with a lower --max-heap",
        bytes >> 20
    );
    std::process::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn the_default_limit_is_half_the_machine_at_most() {
        let limit = default_max_heap();
        assert!(limit >= MIN_BYTES);
        if let Some(physical) = physical_memory() {
            assert!(limit <= physical / 2 || limit == MIN_BYTES);
        }
    }
}
