//! Files, directories and the standard streams, for the kernel's File,
//! FileSystem and Stdio: the VM keeps a table of open files, and a
//! Smalltalk file stream holds an index into it (a SmallInteger
//! handle). Handles 0, 1 and 2 are standard input, output and error;
//! standard output is the Transcript's, so the two stay in order.
//!
//! Reads answer a new ByteArray (empty at the end); writes take a
//! ByteArray (the Smalltalk side encodes text in UTF-8 first). A primitive that meets an error of the
//! operating system fails and records it; `primitiveFileLastError`
//! answers `{kind. description}`, from which the kernel raises Pharo's
//! exception (FileDoesNotExistException, FileExists...). Reading standard
//! input blocks every Process (they share one OS thread).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::{failure, int, string_array, top, Prim, Primitive, BAD_ARGUMENT, GENERIC};
use crate::memory::{self, Space};
use crate::object::Oop;
use crate::vm::{classes, Vm};

/// An open file of the table.
enum Open {
    Stdin,
    Stdout,
    Stderr,
    File(File),
}

/// The VM's open files, by handle.
///
/// A handle names an entry and the opening that made it (its generation),
/// so that a handle kept after `close` fails instead of reaching a file
/// opened later in the same entry. The handles of the standard streams
/// are 0, 1 and 2.
///
/// A file stream tells the table it owns its file
/// (`primitiveFileSetOwner`); the table holds the owner weakly, and closes
/// the file once a collection finds nothing else refers to the owner
/// ([`OpenFiles::settle_weak_roots`]), as Pharo finalizes its file streams.
pub(crate) struct OpenFiles {
    table: Vec<Option<Entry>>,
    /// The generation of the next opening.
    next_generation: i64,
    /// The last error of the operating system a primitive met.
    last_error: Option<std::io::Error>,
}

struct Entry {
    open: Open,
    generation: i64,
    /// The stream the file is closed with, held weakly.
    owner: Option<Oop>,
}

/// A handle is `generation << INDEX_BITS | index`.
const INDEX_BITS: u32 = 20;

impl Default for OpenFiles {
    fn default() -> Self {
        let standard = |open| {
            Some(Entry {
                open,
                generation: 0,
                owner: None,
            })
        };
        OpenFiles {
            table: vec![
                standard(Open::Stdin),
                standard(Open::Stdout),
                standard(Open::Stderr),
            ],
            next_generation: 1,
            last_error: None,
        }
    }
}

impl OpenFiles {
    /// The handle of `file`, now open; `None` when the table is full.
    fn add(&mut self, file: File) -> Option<i64> {
        let index = match self.table.iter().position(Option::is_none) {
            Some(free) => free,
            None if self.table.len() < 1 << INDEX_BITS => {
                self.table.push(None);
                self.table.len() - 1
            }
            None => return None,
        };
        let generation = self.next_generation;
        self.next_generation += 1;
        self.table[index] = Some(Entry {
            open: Open::File(file),
            generation,
            owner: None,
        });
        Some(generation << INDEX_BITS | index as i64)
    }

    /// The place in the table of the file `handle` names, if it is still
    /// open.
    fn index(&self, handle: Oop) -> Option<usize> {
        let handle = handle.as_small_integer().filter(|h| *h >= 0)?;
        let index = (handle & ((1 << INDEX_BITS) - 1)) as usize;
        let entry = self.table.get(index)?.as_ref()?;
        (entry.generation == handle >> INDEX_BITS).then_some(index)
    }

    /// The entry `handle` names, if it is still open.
    fn entry(&mut self, handle: Oop) -> Option<&mut Entry> {
        let index = self.index(handle)?;
        self.table[index].as_mut()
    }

    fn get(&mut self, handle: Oop) -> Option<&mut Open> {
        self.entry(handle).map(|e| &mut e.open)
    }

    /// Closes the file `handle` names (not a standard stream); answers
    /// whether it was open.
    fn close(&mut self, handle: Oop) -> bool {
        let Some(index) = self.index(handle) else {
            return false;
        };
        if self.table[index].as_ref().is_some_and(|e| e.generation > 0) {
            self.table[index] = None;
        }
        true
    }

    /// After a collection (`fate`: where each owner is now, `None` if it
    /// was reclaimed): closes the files whose streams are gone.
    pub(crate) fn settle_weak_roots(&mut self, fate: &mut dyn FnMut(Oop) -> Option<Oop>) {
        for slot in &mut self.table {
            let Some(owner) = slot.as_ref().and_then(|e| e.owner) else {
                continue;
            };
            match fate(owner) {
                Some(now) => slot.as_mut().expect("an entry").owner = Some(now),
                None => *slot = None,
            }
        }
    }
}

/// How `primitiveFileOpen` opens (its second argument).
const READ: i64 = 0;
/// Writes from the start, keeping what lies beyond (Pharo's writable
/// files do not truncate); creates the file.
const WRITE: i64 = 1;
const APPEND: i64 = 2;
/// Empties the file first; creates it.
const TRUNCATE: i64 = 3;

pub(super) const PRIMITIVES: &[Primitive] = &[
    Primitive::named("primitiveFileOpen", 2, |vm, _, _| {
        let [_, path, mode] = top(vm);
        let Some(path) = path_of(vm, path) else {
            return failure(BAD_ARGUMENT);
        };
        let mut options = OpenOptions::new();
        match mode.as_small_integer() {
            Some(READ) => options.read(true),
            Some(WRITE) => options.read(true).write(true).create(true),
            Some(APPEND) => options.append(true).create(true),
            Some(TRUNCATE) => options.write(true).create(true).truncate(true),
            _ => return failure(BAD_ARGUMENT),
        };
        match options.open(&path) {
            Ok(file) if file.metadata().is_ok_and(|m| m.is_dir()) => {
                io_failure(vm, std::io::Error::from(ErrorKind::IsADirectory))
            }
            Ok(file) => match vm.universe.files.add(file) {
                Some(handle) => int(handle),
                None => io_failure(vm, std::io::Error::from(ErrorKind::OutOfMemory)),
            },
            Err(e) => io_failure(vm, e),
        }
    }),
    // The standard streams stay open.
    Primitive::named("primitiveFileClose", 1, |vm, _, _| {
        let [_, handle] = top(vm);
        match vm.universe.files.close(handle) {
            true => Prim::Value(vm.universe.nil),
            false => failure(BAD_ARGUMENT),
        }
    }),
    // File class>>handle: aHandle ownedBy: aStream: the file is closed once
    // nothing refers to aStream any more.
    Primitive::named("primitiveFileSetOwner", 2, |vm, _, _| {
        let [_, handle, owner] = top(vm);
        match vm.universe.files.entry(handle) {
            Some(entry) if entry.generation > 0 && owner.is_pointer() => {
                entry.owner = Some(owner);
                Prim::Value(vm.universe.nil)
            }
            Some(_) => Prim::Value(vm.universe.nil),
            None => failure(BAD_ARGUMENT),
        }
    }),
    // At most `count` bytes, as a ByteArray (empty at the end).
    Primitive::named("primitiveFileRead", 2, |vm, _, _| {
        let [_, handle, count] = top(vm);
        let Some(count) = count
            .as_small_integer()
            .and_then(|c| usize::try_from(c).ok())
        else {
            return failure(BAD_ARGUMENT);
        };
        let mut buffer = vec![0u8; count.min(1 << 24)];
        let read = match vm.universe.files.get(handle) {
            Some(Open::Stdin) => read_retrying(&mut std::io::stdin().lock(), &mut buffer),
            Some(Open::File(file)) => read_retrying(file, &mut buffer),
            Some(_) => Err(std::io::Error::from(ErrorKind::Unsupported)),
            None => return failure(BAD_ARGUMENT),
        };
        match read {
            Ok(n) => {
                Prim::Value(vm.allocate_bytes(Space::Young, classes::BYTE_ARRAY, &buffer[..n]))
            }
            Err(e) => io_failure(vm, e),
        }
    }),
    // Writes all of a ByteArray's bytes.
    Primitive::named("primitiveFileWrite", 2, |vm, _, _| {
        let [_, handle, data] = top(vm);
        if memory::class_index_of(data) != classes::BYTE_ARRAY {
            return failure(BAD_ARGUMENT);
        }
        let bytes = memory::bytes(&vm.heap, data).unwrap_or_default().to_vec();
        let written = match vm.universe.files.get(handle) {
            Some(Open::Stdout) => std::io::stdout().lock().write_all(&bytes),
            Some(Open::Stderr) => super::system::write_stderr(&bytes),
            Some(Open::File(file)) => file.write_all(&bytes),
            Some(Open::Stdin) => Err(std::io::Error::from(ErrorKind::Unsupported)),
            None => return failure(BAD_ARGUMENT),
        };
        match written {
            Ok(()) => int(bytes.len() as i64),
            Err(e) => io_failure(vm, e),
        }
    }),
    Primitive::named("primitiveFileFlush", 1, |vm, _, _| {
        let [_, handle] = top(vm);
        let flushed = match vm.universe.files.get(handle) {
            Some(Open::Stdout) => std::io::stdout().flush(),
            Some(Open::Stderr) => std::io::stderr().flush(),
            Some(Open::File(file)) => file.flush(),
            Some(Open::Stdin) => Ok(()),
            None => return failure(BAD_ARGUMENT),
        };
        match flushed {
            Ok(()) => Prim::Value(vm.universe.nil),
            Err(e) => io_failure(vm, e),
        }
    }),
    // The position (0-based); fails on the standard streams.
    Primitive::named("primitiveFilePosition", 1, |vm, _, _| {
        let [_, handle] = top(vm);
        on_file(vm, handle, |file| Ok(Some(file.stream_position()? as i64)))
    }),
    Primitive::named("primitiveFileSetPosition", 2, |vm, _, _| {
        let [_, handle, position] = top(vm);
        let Some(position) = position
            .as_small_integer()
            .and_then(|p| u64::try_from(p).ok())
        else {
            return failure(BAD_ARGUMENT);
        };
        on_file(vm, handle, |file| {
            file.seek(SeekFrom::Start(position)).map(|_| None)
        })
    }),
    Primitive::named("primitiveFileSize", 1, |vm, _, _| {
        let [_, handle] = top(vm);
        on_file(vm, handle, |file| Ok(Some(file.metadata()?.len() as i64)))
    }),
    Primitive::named("primitiveFileTruncate", 2, |vm, _, _| {
        let [_, handle, size] = top(vm);
        let Some(size) = size.as_small_integer().and_then(|p| u64::try_from(p).ok()) else {
            return failure(BAD_ARGUMENT);
        };
        on_file(vm, handle, |file| file.set_len(size).map(|()| None))
    }),
    // `{kind. size. seconds. nanoseconds}` of what `path` names,
    // following links: kind 1 for a file, 2 for a directory, 3 for
    // anything else; then when it was last modified, in seconds since
    // 1970 (UTC) and nanoseconds within that second.
    Primitive::named("primitiveFileAttributes", 1, |vm, _, _| {
        let [_, path] = top(vm);
        on_path(vm, path, |vm, path| {
            let metadata = std::fs::metadata(path)?;
            let kind = if metadata.is_file() {
                1
            } else if metadata.is_dir() {
                2
            } else {
                3
            };
            let since_1970 = metadata
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .unwrap_or_default();
            let fields = [
                kind,
                metadata.len() as i64,
                since_1970.as_secs() as i64,
                since_1970.subsec_nanos() as i64,
            ]
            .map(|v| Oop::small_integer(v).unwrap_or(Oop::small_integer(0).expect("zero")));
            Ok(vm.new_array(Space::Young, &fields))
        })
    }),
    // The names in a directory, sorted.
    Primitive::named("primitiveDirectoryEntries", 1, |vm, _, _| {
        let [_, path] = top(vm);
        on_path(vm, path, |vm, path| {
            let mut names: Vec<String> = std::fs::read_dir(path)?
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            Ok(string_array(vm, &names))
        })
    }),
    Primitive::named("primitiveDirectoryCreate", 1, |vm, _, _| {
        let [receiver, path] = top(vm);
        on_path(vm, path, |_, path| {
            std::fs::create_dir(path).map(|()| receiver)
        })
    }),
    // Deletes a file, or a directory when it is empty.
    Primitive::named("primitiveFileDelete", 1, |vm, _, _| {
        let [receiver, path] = top(vm);
        on_path(vm, path, |_, path| {
            if std::fs::symlink_metadata(path)?.is_dir() {
                std::fs::remove_dir(path)?;
            } else {
                std::fs::remove_file(path)?;
            }
            Ok(receiver)
        })
    }),
    Primitive::named("primitiveFileRename", 2, |vm, _, _| {
        let [receiver, from, to] = top(vm);
        let (Some(from), Some(to)) = (path_of(vm, from), path_of(vm, to)) else {
            return failure(BAD_ARGUMENT);
        };
        match std::fs::rename(&from, &to) {
            Ok(()) => Prim::Value(receiver),
            Err(e) => io_failure(vm, e),
        }
    }),
    Primitive::named(
        "primitiveWorkingDirectory",
        0,
        |vm, _, _| match std::env::current_dir() {
            Ok(dir) => Prim::Value(vm.new_string(Space::Young, &dir.to_string_lossy())),
            Err(e) => io_failure(vm, e),
        },
    ),
    // `{kind. description}` of the last error: kind is one of #notFound,
    // #exists, #permission, #isDirectory, #notDirectory, #notEmpty,
    // #other; nil when there was none.
    Primitive::named("primitiveFileLastError", 0, |vm, _, _| {
        let Some(error) = vm.universe.files.last_error.take() else {
            return Prim::Value(vm.universe.nil);
        };
        let kind = match error.kind() {
            ErrorKind::NotFound => "notFound",
            ErrorKind::AlreadyExists => "exists",
            ErrorKind::PermissionDenied => "permission",
            ErrorKind::IsADirectory => "isDirectory",
            ErrorKind::NotADirectory => "notDirectory",
            ErrorKind::DirectoryNotEmpty => "notEmpty",
            _ => "other",
        };
        let kind = vm.intern(kind);
        let description = vm.new_string(Space::Old, &description_of(&error));
        Prim::Value(vm.new_array(Space::Young, &[kind, description]))
    }),
];

/// `operation` on the file (not a standard stream) `handle` names: its
/// answer (nil for none), or the failure it met.
fn on_file(
    vm: &mut Vm,
    handle: Oop,
    operation: impl FnOnce(&mut File) -> std::io::Result<Option<i64>>,
) -> Prim {
    let Some(Open::File(file)) = vm.universe.files.get(handle) else {
        return failure(BAD_ARGUMENT);
    };
    match operation(file) {
        Ok(Some(answer)) => int(answer),
        Ok(None) => Prim::Value(vm.universe.nil),
        Err(e) => io_failure(vm, e),
    }
}

/// `operation` on the path the String `path` names: its answer, or the
/// failure it met (a path that is no String fails at once).
fn on_path(
    vm: &mut Vm,
    path: Oop,
    operation: impl FnOnce(&mut Vm, &Path) -> std::io::Result<Oop>,
) -> Prim {
    let Some(path) = path_of(vm, path) else {
        return failure(BAD_ARGUMENT);
    };
    match operation(vm, &path) {
        Ok(answer) => Prim::Value(answer),
        Err(e) => io_failure(vm, e),
    }
}

/// The path a String names; None when it is not a String or holds a NUL.
fn path_of(vm: &Vm, path: Oop) -> Option<std::path::PathBuf> {
    if !super::strings::is_string(path) {
        return None;
    }
    let text = memory::text(&vm.heap, path)?;
    (!text.contains('\0')).then(|| Path::new(&text).to_path_buf())
}

/// Records `error` for `primitiveFileLastError` and fails.
fn io_failure(vm: &mut Vm, error: std::io::Error) -> Prim {
    vm.universe.files.last_error = Some(error);
    failure(GENERIC)
}

/// The operating system's description, without Rust's "(os error N)".
fn description_of(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Reads what is there, retrying when a signal interrupted the read.
fn read_retrying(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match reader.read(buffer) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
