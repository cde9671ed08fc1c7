//! The classes the VM fixes by index.
//!
//! Objects name their class by index: in the header for objects, by tag
//! for immediates. The classes the VM must name itself (to make integers,
//! strings, closures, messages...) have the fixed indices below, which
//! the runtime's class table, the memory manager (the classes of
//! immediates) and build.rs (the classes of the image's static objects)
//! share; every other class is numbered as it is defined.

/// A class's index in the class table (22 bits in a header).
pub type ClassIndex = u32;

// Index 0 is no class (an empty inline cache names it).
pub const SMALL_INTEGER: ClassIndex = 1;
pub const CHARACTER: ClassIndex = 2;
pub const SMALL_FLOAT: ClassIndex = 3;
pub const UNDEFINED_OBJECT: ClassIndex = 4;
pub const TRUE: ClassIndex = 5;
pub const FALSE: ClassIndex = 6;
pub const BYTE_SYMBOL: ClassIndex = 7;
pub const BYTE_STRING: ClassIndex = 8;
pub const ARRAY: ClassIndex = 9;
pub const BLOCK_CLOSURE: ClassIndex = 10;
pub const MESSAGE: ClassIndex = 11;
pub const ASSOCIATION: ClassIndex = 12;
pub const METACLASS: ClassIndex = 13;
pub const LARGE_POSITIVE_INTEGER: ClassIndex = 14;
pub const LARGE_NEGATIVE_INTEGER: ClassIndex = 15;
pub const BOXED_FLOAT: ClassIndex = 16;
pub const BYTE_ARRAY: ClassIndex = 17;
pub const COMPILED_METHOD: ClassIndex = 18;
/// The AST node classes (`CompiledMethod>>ast`) have fixed indices from
/// here, in the order of `zag_compiler::ast_objects::NodeClass::ALL`, so
/// that build.rs can lay out the image's ASTs as static objects.
pub const FIRST_AST_NODE_CLASS: ClassIndex = 19;
/// After the AST node classes: ScaledDecimal, whose literals the image
/// holds as static objects.
pub const SCALED_DECIMAL: ClassIndex = 30;
/// Strings and Symbols with a character past Latin-1 (32-bit code points):
/// the image holds literals of both.
pub const WIDE_SYMBOL: ClassIndex = 31;
pub const WIDE_STRING: ClassIndex = 32;
