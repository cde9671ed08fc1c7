//! Where MCJIT puts what it compiles. LLVM's own memory manager maps
//! memory per module and makes each module's code pages executable with
//! their own `mprotect`, so every module leaves a few more mappings with
//! alternating permissions; past the kernel's limit (`vm.max_map_count`,
//! 65,530) `mprotect` fails, MCJIT ignores it, and the next call into new
//! code faults (a long run of random programs died so). Here code goes
//! into large chunks, each module's starting on a fresh page, and
//! finalizing makes the module's pages executable: they join the
//! executable prefix of their chunk, so a chunk is two mappings however
//! many modules it holds. Data goes into chunks of its own that stay
//! writable. Code pages are never writable again once executable, so the
//! VM may run code of a chunk while the JIT's thread fills its next pages.

use std::cell::RefCell;
use std::rc::Rc;

/// Bytes mapped at a time (reserved, not committed: pages are touched as
/// they are used).
const CHUNK: usize = 16 << 20;
const PAGE: usize = 4096;

/// One mapping, used from its start.
#[derive(Debug)]
struct Chunk {
    start: *mut u8,
    len: usize,
    used: usize,
    /// The executable prefix (code chunks), a multiple of the page size.
    sealed: usize,
}

/// Chunks of one kind; allocations go into the last.
#[derive(Debug, Default)]
struct Arena {
    chunks: Vec<Chunk>,
}

impl Arena {
    fn allocate(&mut self, size: usize, alignment: usize) -> *mut u8 {
        let alignment = alignment.max(16);
        let fits = |c: &Chunk| c.used.next_multiple_of(alignment) + size <= c.len;
        if !self.chunks.last().is_some_and(fits) {
            let len = CHUNK.max((size + alignment).next_multiple_of(PAGE));
            // SAFETY: a fresh private anonymous mapping; nothing else
            // refers to it.
            let start = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            if start == libc::MAP_FAILED {
                return std::ptr::null_mut();
            }
            self.chunks.push(Chunk {
                start: start as *mut u8,
                len,
                used: 0,
                sealed: 0,
            });
        }
        let chunk = self.chunks.last_mut().expect("one fits");
        let offset = chunk.used.next_multiple_of(alignment);
        chunk.used = offset + size;
        // SAFETY: within the chunk's mapping.
        unsafe { chunk.start.add(offset) }
    }
}

/// MCJIT's memory manager for one engine (see the module's comment).
#[derive(Debug)]
pub(super) struct CodeMemory {
    code: Arena,
    data: Arena,
    /// Why finalizing failed, for the compiler to see (MCJIT does not
    /// pass it on).
    failure: Rc<RefCell<Option<String>>>,
}

impl CodeMemory {
    pub fn new(failure: Rc<RefCell<Option<String>>>) -> CodeMemory {
        CodeMemory {
            code: Arena::default(),
            data: Arena::default(),
            failure,
        }
    }
}

impl inkwell::memory_manager::McjitMemoryManager for CodeMemory {
    fn allocate_code_section(
        &mut self,
        size: usize,
        alignment: u32,
        _section_id: u32,
        _section_name: &str,
    ) -> *mut u8 {
        self.code.allocate(size, alignment as usize)
    }

    fn allocate_data_section(
        &mut self,
        size: usize,
        alignment: u32,
        _section_id: u32,
        _section_name: &str,
        _is_read_only: bool,
    ) -> *mut u8 {
        self.data.allocate(size, alignment as usize)
    }

    /// Makes the code written since the last time executable, and starts
    /// the next module's code on a fresh page.
    fn finalize_memory(&mut self) -> Result<(), String> {
        for chunk in &mut self.code.chunks {
            let end = chunk.used.next_multiple_of(PAGE).min(chunk.len);
            if end > chunk.sealed {
                // SAFETY: whole pages of the chunk's mapping, holding only
                // code LLVM has finished writing.
                let status = unsafe {
                    libc::mprotect(
                        chunk.start.add(chunk.sealed) as *mut libc::c_void,
                        end - chunk.sealed,
                        libc::PROT_READ | libc::PROT_EXEC,
                    )
                };
                if status != 0 {
                    let why = format!(
                        "the JIT's code cannot be made executable: {}",
                        std::io::Error::last_os_error()
                    );
                    *self.failure.borrow_mut() = Some(why.clone());
                    return Err(why);
                }
                chunk.sealed = end;
            }
            chunk.used = chunk.used.max(chunk.sealed);
        }
        Ok(())
    }

    fn destroy(&mut self) {
        for chunk in self.code.chunks.drain(..).chain(self.data.chunks.drain(..)) {
            // SAFETY: the engine is going, and the code with it.
            unsafe { libc::munmap(chunk.start as *mut libc::c_void, chunk.len) };
        }
    }
}
