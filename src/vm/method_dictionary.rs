//! A class's method dictionary: selector → method.
//!
//! The image's dictionaries are static tables that build.rs sorted by
//! selector: a selector is a static Symbol, named by the index of its
//! header in the image's objects, so a lookup is a binary search with no
//! hashing and start-up fills nothing. Methods installed at run time (the
//! runtime compiler, file-in) go into a per-VM map that is searched first,
//! so they replace the image's: every VM shares the static tables.

use super::classes::SelectorMap;
use super::method::MethodRef;
use crate::memory::statics::Word;
use crate::object::Oop;

/// One entry of a static method dictionary.
#[derive(Clone, Copy, Debug)]
pub struct MethodEntry {
    /// The selector: the index of a static Symbol's header in the image's
    /// objects.
    pub selector: u32,
    /// The method: its place in the VM's registry (build.rs numbered the
    /// image's methods in registration order).
    pub method: MethodRef,
}

#[derive(Default)]
pub struct MethodDictionary {
    /// The image's methods, sorted by selector.
    image: &'static [MethodEntry],
    /// The objects the image's selectors are in.
    objects: &'static [Word],
    /// Methods installed at run time, over the image's.
    installed: SelectorMap,
    /// The image's selectors removed at run time (`removeSelector:`).
    removed: Vec<Oop>,
}

impl MethodDictionary {
    /// The image's dictionary `entries`, whose selectors are in `objects`.
    pub fn image(entries: &'static [MethodEntry], objects: &'static [Word]) -> MethodDictionary {
        debug_assert!(entries.windows(2).all(|w| w[0].selector < w[1].selector));
        MethodDictionary {
            image: entries,
            objects,
            installed: SelectorMap::default(),
            removed: Vec::new(),
        }
    }

    pub fn get(&self, selector: Oop) -> Option<MethodRef> {
        if let Some(m) = self.installed.get(&selector) {
            return Some(*m);
        }
        if !self.removed.is_empty() && self.removed.contains(&selector) {
            return None;
        }
        let index = self.static_index(selector)?;
        let at = self
            .image
            .binary_search_by_key(&index, |e| e.selector)
            .ok()?;
        Some(self.image[at].method)
    }

    pub fn contains(&self, selector: Oop) -> bool {
        self.get(selector).is_some()
    }

    /// Installs `method` for `selector`, replacing any other.
    pub fn insert(&mut self, selector: Oop, method: MethodRef) {
        self.installed.insert(selector, method);
        self.removed.retain(|s| *s != selector);
    }

    /// Removes the method for `selector`; answers whether there was one.
    pub fn remove(&mut self, selector: Oop) -> bool {
        let had = self.get(selector).is_some();
        self.installed.remove(&selector);
        if had && self.get(selector).is_some() {
            // The image's, under the one installed.
            self.removed.push(selector);
        }
        had
    }

    /// Every selector, once.
    pub fn selectors(&self) -> Vec<Oop> {
        let image = self
            .image
            .iter()
            .map(|e| self.symbol(e.selector))
            .filter(|s| !self.installed.contains_key(s) && !self.removed.contains(s));
        self.installed.keys().copied().chain(image).collect()
    }

    /// The place of `selector` among the image's objects, if it is one.
    /// (An immediate is not, whatever its bits: only a pointer can be.)
    fn static_index(&self, selector: Oop) -> Option<u32> {
        if !selector.is_pointer() {
            return None;
        }
        let range = self.objects.as_ptr_range();
        let address = selector.bits() as usize;
        let (start, end) = (range.start as usize, range.end as usize);
        (start..end)
            .contains(&address)
            .then(|| ((address - start) / std::mem::size_of::<Word>()) as u32)
    }

    fn symbol(&self, index: u32) -> Oop {
        crate::memory::statics::object_at(self.objects, index as usize)
    }
}
