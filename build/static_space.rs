//! Lays out the image's static objects (Symbols, method literals,
//! CompiledMethod objects and the methods' AST nodes) as one block of words
//! (`memory::statics` in the runtime), written as assembler lines in a
//! `global_asm!`: every header, every byte, and every pointer between
//! static objects is a constant the assembler and the linker resolve, so
//! start-up creates none of these objects.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proc_macro2::TokenStream;
use quote::quote;
use zag_compiler::ast_objects::{NodeClass, ObjectSpace};
use zag_compiler::bigint::BigInt;
use zag_compiler::literal::Literal;
// The runtime's own encoding of headers and immediates.
use zag_object::{fits_small_float, Format, Header, Oop, OVERFLOW_MARK};

/// A value as a static object's slot (or a method's literal) holds it.
#[derive(Clone, Copy)]
pub enum Value {
    Nil,
    True,
    False,
    SmallInteger(i64),
    Character(char),
    /// The bits of a double that is a SmallFloat64.
    SmallFloat(u64),
    /// The static object whose header is at this word.
    Object(usize),
}

/// The class of a static object, as the runtime knows it by index.
#[derive(Clone, Copy)]
enum Class {
    /// The constant in `zag_object::classes` naming it.
    Named(&'static str),
    /// An AST node class (numbered from `zag_object::classes::FIRST_AST_NODE_CLASS`).
    Node(NodeClass),
}

impl Class {
    /// The assembler operand giving its index, and its value.
    fn operand(self) -> (&'static str, TokenStream) {
        match self {
            Class::Named(name) => {
                let constant = proc_macro2::Ident::new(name, proc_macro2::Span::call_site());
                (name, quote!(classes::#constant))
            }
            Class::Node(node) => {
                let offset = node as u32;
                (node.name(), quote!(classes::FIRST_AST_NODE_CLASS + #offset))
            }
        }
    }
}

impl Value {
    /// For nil, true and false: the operand giving the object's offset in
    /// `SPECIAL_OBJECTS`, and the constant in `memory::statics` that says it.
    fn special(self) -> Option<(&'static str, &'static str)> {
        match self {
            Value::Nil => Some(("nil_at", "NIL")),
            Value::True => Some(("true_at", "TRUE")),
            Value::False => Some(("false_at", "FALSE")),
            _ => None,
        }
    }
}

enum Word {
    Header {
        class: Class,
        format: Format,
        slots: u64,
        hash: u32,
    },
    Overflow(usize),
    Bits(u64),
    Value(Value),
}

/// Hashes 1-3 are nil, true and false's.
const FIRST_HASH: u32 = 16;

pub struct StaticSpace {
    words: Vec<Word>,
    symbols: HashMap<String, usize>,
    next_hash: u32,
    /// The empty Array the AST nodes share (static objects are read-only,
    /// so one serves them all).
    empty_array: Option<usize>,
    /// ScaledDecimal's instance variables, when the exports define it.
    scaled_decimal_variables: Option<Vec<String>>,
}

impl StaticSpace {
    pub fn new() -> StaticSpace {
        StaticSpace {
            words: Vec::new(),
            symbols: HashMap::new(),
            next_hash: FIRST_HASH,
            empty_array: None,
            scaled_decimal_variables: None,
        }
    }

    /// Lets ScaledDecimal literals be laid out, with the class's instance
    /// variables (all of them, inherited first).
    pub fn define_scaled_decimal(&mut self, variables: Vec<String>) {
        self.scaled_decimal_variables = Some(variables);
    }

    /// The Symbol `name` (one per name).
    pub fn symbol(&mut self, name: &str) -> usize {
        if let Some(&at) = self.symbols.get(name) {
            return at;
        }
        let at = self.text_object("BYTE_SYMBOL", "WIDE_SYMBOL", name);
        self.symbols.insert(name.to_string(), at);
        at
    }

    /// The value of a literal; objects are made read-only, as the
    /// compiler makes literals.
    pub fn literal(&mut self, literal: &Literal) -> Result<Value, String> {
        Ok(match literal {
            Literal::Nil => Value::Nil,
            Literal::True => Value::True,
            Literal::False => Value::False,
            Literal::Integer(i) => self.integer(&BigInt::from_i64(*i)),
            Literal::LargeInteger(big) => self.integer(big),
            Literal::Float(f) if fits_small_float(f.0) => Value::SmallFloat(f.0.to_bits()),
            Literal::Float(f) => {
                let at = self.header(Class::Named("BOXED_FLOAT"), Format::Words64, 1);
                self.words.push(Word::Bits(f.0.to_bits()));
                Value::Object(at)
            }
            Literal::Character(c) => Value::Character(*c),
            Literal::String(s) => Value::Object(self.text_object("BYTE_STRING", "WIDE_STRING", s)),
            Literal::Symbol(s) => Value::Object(self.symbol(s)),
            Literal::ByteArray(b) => Value::Object(self.bytes_object("BYTE_ARRAY", b)),
            Literal::Array(items) => {
                // Elements first: an object's words are contiguous.
                let values = items
                    .iter()
                    .map(|item| self.literal(item))
                    .collect::<Result<Vec<_>, _>>()?;
                Value::Object(self.array(&values))
            }
            Literal::ScaledDecimal {
                mantissa,
                decimals,
                scale,
            } => {
                let Some(variables) = self.scaled_decimal_variables.clone() else {
                    return Err(format!(
                        "the literal {} needs the class ScaledDecimal, which is not defined",
                        zag_compiler::printer::print_literal(literal)
                    ));
                };
                let (numerator, denominator) =
                    zag_compiler::number::scaled_fraction(mantissa, *decimals);
                // The integers first: an object's words are contiguous.
                let numerator = self.integer(&numerator);
                let denominator = self.integer(&denominator);
                let slots = variables
                    .iter()
                    .map(|v| match v.as_str() {
                        "numerator" => Ok(numerator),
                        "denominator" => Ok(denominator),
                        "scale" => Ok(Value::SmallInteger(*scale as i64)),
                        other => Err(format!(
                            "ScaledDecimal has the instance variable {other}: literals need \
                             exactly numerator, denominator and scale"
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if slots.len() != 3 {
                    return Err(
                        "ScaledDecimal literals need the instance variables numerator, \
                         denominator and scale"
                            .to_string(),
                    );
                }
                let at = self.header(Class::Named("SCALED_DECIMAL"), Format::Fixed, slots.len());
                self.words.extend(slots.into_iter().map(Word::Value));
                Value::Object(at)
            }
        })
    }

    /// The CompiledMethod object of the image's method number `index` (its
    /// place in the VM's method registry), with the kernel's instance
    /// variables `variables`: the VM fills `selector` and `index`.
    pub fn compiled_method(
        &mut self,
        variables: &[String],
        selector: &str,
        index: usize,
        protocol: Option<&str>,
    ) -> usize {
        let selector = self.symbol(selector);
        let protocol = protocol.map(|p| self.symbol(p));
        let slots: Vec<Word> = variables
            .iter()
            .map(|v| {
                Word::Value(match v.as_str() {
                    "selector" => Value::Object(selector),
                    "index" => Value::SmallInteger(index as i64),
                    "protocol" => protocol.map_or(Value::Nil, Value::Object),
                    _ => Value::Nil,
                })
            })
            .collect();
        let at = self.header(Class::Named("COMPILED_METHOD"), Format::Fixed, slots.len());
        self.words.extend(slots);
        self.pad_empty(variables.len());
        at
    }

    /// An Array of `items`.
    fn array(&mut self, items: &[Value]) -> usize {
        let at = self.header(Class::Named("ARRAY"), Format::Indexable, items.len());
        self.words.extend(items.iter().copied().map(Word::Value));
        self.pad_empty(items.len());
        at
    }

    /// A SmallInteger, or a LargePositive/NegativeInteger object.
    fn integer(&mut self, value: &BigInt) -> Value {
        match value.to_i64() {
            Some(i) if (Oop::SMALL_INTEGER_MIN..=Oop::SMALL_INTEGER_MAX).contains(&i) => {
                Value::SmallInteger(i)
            }
            _ => {
                let class = if value.is_negative() {
                    "LARGE_NEGATIVE_INTEGER"
                } else {
                    "LARGE_POSITIVE_INTEGER"
                };
                Value::Object(self.bytes_object(class, &value.magnitude_bytes()))
            }
        }
    }

    /// A string or symbol object as the VM reads them: one byte per
    /// character when every character is below 256 (Latin-1, of
    /// `byte_class`), else one 32-bit code point per character (of
    /// `wide_class`).
    fn text_object(
        &mut self,
        byte_class: &'static str,
        wide_class: &'static str,
        text: &str,
    ) -> usize {
        if text.chars().all(|c| (c as u32) < 256) {
            let bytes: Vec<u8> = text.chars().map(|c| c as u8).collect();
            return self.bytes_object(byte_class, &bytes);
        }
        let words: Vec<u32> = text.chars().map(|c| c as u32).collect();
        let slots = words.len().div_ceil(2);
        let format = Format::Words32((slots * 2 - words.len()) as u8);
        let at = self.header(Class::Named(wide_class), format, slots);
        self.words.extend(words.chunks(2).map(|pair| {
            let low = pair[0] as u64;
            let high = pair.get(1).map_or(0, |&w| w as u64);
            Word::Bits(low | high << 32)
        }));
        self.pad_empty(slots);
        at
    }

    fn bytes_object(&mut self, class: &'static str, bytes: &[u8]) -> usize {
        let slots = bytes.len().div_ceil(8);
        let format = Format::Bytes((slots * 8 - bytes.len()) as u8);
        let at = self.header(Class::Named(class), format, slots);
        self.words.extend(bytes.chunks(8).map(|chunk| {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            Word::Bits(u64::from_le_bytes(word))
        }));
        self.pad_empty(slots);
        at
    }

    /// Starts an object; answers the index of its header.
    fn header(&mut self, class: Class, format: Format, slots: usize) -> usize {
        if slots as u64 >= Header::OVERFLOW_SLOTS {
            self.words.push(Word::Overflow(slots));
        }
        let hash = self.next_hash;
        self.next_hash += 1;
        self.words.push(Word::Header {
            class,
            format,
            slots: slots as u64,
            hash,
        });
        self.words.len() - 1
    }

    /// An object without slots still takes one word, as on the heap.
    fn pad_empty(&mut self, slots: usize) {
        if slots == 0 {
            self.words.push(Word::Bits(0));
        }
    }

    /// The static objects and the symbol table sorted by name, for
    /// `ImageDescription`.
    ///
    /// The objects are one block of words that the assembler lays out
    /// (`global_asm!`), each word a number or a symbol plus an offset:
    /// the linker relocates the pointers as it would a Rust static's, and
    /// rustc does not have to evaluate a constant expression per word
    /// (which took about 20 times as long).
    pub fn tokens(&self) -> (TokenStream, TokenStream) {
        let mut operands = Operands::default();
        let lines: Vec<String> = self
            .words
            .iter()
            .map(|word| word_line(word, &mut operands))
            .collect();
        let block = assembler_block(
            AssemblerBlock {
                label: "objects",
                name: "OBJECTS",
                link_name: "zag_image_objects",
                element: quote!(Word),
                doc: "The image's static objects (laid out below).",
            },
            &lines,
            &operands.declarations(),
        );
        let mut symbols: Vec<(&String, &usize)> = self.symbols.iter().collect();
        symbols.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let symbols = symbols.iter().map(|(name, at)| {
            let at = **at as u32;
            quote!((#name, #at))
        });
        (block, quote!(&[#(#symbols),*]))
    }
}

/// A block of static data laid out by the assembler, one element per line.
pub struct AssemblerBlock {
    /// The operand naming the block's start in its lines.
    pub label: &'static str,
    /// The `extern` static through which Rust reads it.
    pub name: &'static str,
    pub link_name: &'static str,
    pub element: TokenStream,
    pub doc: &'static str,
}

/// The `extern` declaration of `block` and the `global_asm!` that lays out
/// its `lines` (in the static objects' section: on ELF, read-only once the
/// loader has relocated the addresses), with the `operands` they name.
pub fn assembler_block(
    block: AssemblerBlock,
    lines: &[String],
    operands: &[TokenStream],
) -> TokenStream {
    let AssemblerBlock {
        label,
        name,
        link_name,
        element,
        doc,
    } = block;
    let count = lines.len();
    let name = proc_macro2::Ident::new(name, proc_macro2::Span::call_site());
    let label_operand = proc_macro2::Ident::new(label, proc_macro2::Span::call_site());
    let (globl, start) = (format!(".globl {{{label}}}"), format!("{{{label}}}:"));
    quote! {
        #[allow(improper_ctypes)]
        unsafe extern "C" {
            #[doc = #doc]
            #[link_name = #link_name]
            static #name: [#element; #count];
        }

        std::arch::global_asm!(
            begin_static_objects!(),
            ".balign 8",
            #globl,
            #start,
            #(#lines,)*
            end_static_objects!(),
            #label_operand = sym #name,
            #(#operands,)*
        );
    }
}

/// The assembler operands that lines name besides `objects` (the static
/// block): the classes of headers (operand name → value), and which of nil,
/// true and false are pointed at.
#[derive(Default)]
pub struct Operands {
    classes: BTreeMap<&'static str, TokenStream>,
    specials: BTreeSet<(&'static str, &'static str)>,
    /// Whether a line points into the static objects (`objects`).
    pub objects_used: bool,
}

impl Operands {
    /// A value as an assembler expression: an immediate encoded by the
    /// runtime's own `Oop`, or a static object's address (the block's
    /// symbol plus an offset, which the linker relocates).
    pub fn value(&mut self, value: Value) -> String {
        let bits = match value {
            Value::Nil | Value::True | Value::False => {
                let special = value.special().expect("nil, true or false");
                self.specials.insert(special);
                return format!("{{special_objects}} + {{{}}}", special.0);
            }
            Value::Object(at) => {
                self.objects_used = true;
                return format!("{{objects}} + {}", at * 8);
            }
            Value::SmallInteger(i) => Oop::small_integer(i).expect("a SmallInteger").bits(),
            Value::Character(c) => Oop::character(c).bits(),
            Value::SmallFloat(bits) => Oop::small_float(f64::from_bits(bits))
                .expect("a SmallFloat64")
                .bits(),
        };
        format!("{bits:#x}")
    }

    /// The declarations of the operands used, for `global_asm!`.
    pub fn declarations(&self) -> Vec<TokenStream> {
        let classes = self.classes.iter().map(|(name, value)| {
            let name = proc_macro2::Ident::new(name, proc_macro2::Span::call_site());
            quote!(#name = const #value)
        });
        let specials = self.specials.iter().map(|(operand, index)| {
            let operand = proc_macro2::Ident::new(operand, proc_macro2::Span::call_site());
            let index = proc_macro2::Ident::new(index, proc_macro2::Span::call_site());
            quote!(#operand = const statics::#index * 8)
        });
        let special_objects = (!self.specials.is_empty())
            .then(|| quote!(special_objects = sym statics::SPECIAL_OBJECTS));
        special_objects
            .into_iter()
            .chain(specials)
            .chain(classes)
            .collect()
    }
}

/// One word as an assembler line. Headers and overflow words are encoded
/// by the runtime's own `Header`; a header's class index (its low bits) is
/// the runtime's constant, as an operand.
fn word_line(word: &Word, operands: &mut Operands) -> String {
    let bits = match *word {
        Word::Header {
            class,
            format,
            slots,
            hash,
        } => {
            let (name, value) = class.operand();
            operands.classes.insert(name, value);
            let header = Header::new_static(0, format, slots, hash).with_immutable(true);
            return format!(".quad {:#x} + {{{name}}}", header.bits());
        }
        Word::Overflow(slots) => slots as u64 | OVERFLOW_MARK,
        Word::Bits(bits) => bits,
        Word::Value(value) => return format!(".quad {}", operands.value(value)),
    };
    format!(".quad {bits:#x}")
}

/// The image's AST objects: the static space, with the instance variables
/// of each node class (inherited ones first).
pub struct StaticNodes<'s> {
    pub space: &'s mut StaticSpace,
    pub variables: &'s [(NodeClass, Vec<String>)],
}

impl ObjectSpace for StaticNodes<'_> {
    type Object = Value;

    fn symbol(&mut self, name: &str) -> Value {
        Value::Object(self.space.symbol(name))
    }

    fn literal(&mut self, literal: &Literal) -> Result<Value, String> {
        self.space.literal(literal)
    }

    fn array(&mut self, items: &[Value]) -> Value {
        if !items.is_empty() {
            return Value::Object(self.space.array(items));
        }
        let empty = match self.space.empty_array {
            Some(at) => at,
            None => self.space.array(&[]),
        };
        self.space.empty_array = Some(empty);
        Value::Object(empty)
    }

    fn node(&mut self, class: NodeClass, fields: &[(&str, Value)]) -> Result<Value, String> {
        let variables = self
            .variables
            .iter()
            .find(|(c, _)| *c == class)
            .map(|(_, vars)| vars)
            .ok_or_else(|| format!("the kernel has no {}", class.name()))?;
        let slots: Vec<Word> = variables
            .iter()
            .map(|v| {
                let value = fields.iter().find(|(field, _)| *field == v.as_str());
                Word::Value(value.map_or(Value::Nil, |(_, value)| *value))
            })
            .collect();
        let at = self
            .space
            .header(Class::Node(class), Format::Fixed, slots.len());
        self.space.words.extend(slots);
        self.space.pad_empty(variables.len());
        Ok(Value::Object(at))
    }
}

/// A method literal as `LiteralDescription` tokens.
pub fn literal_description(value: Value) -> TokenStream {
    match value {
        Value::Nil => quote!(LiteralDescription::Nil),
        Value::True => quote!(LiteralDescription::True),
        Value::False => quote!(LiteralDescription::False),
        Value::SmallInteger(i) => quote!(LiteralDescription::Integer(#i)),
        Value::Character(c) => quote!(LiteralDescription::Character(#c)),
        Value::SmallFloat(bits) => quote!(LiteralDescription::Float(#bits)),
        Value::Object(at) => {
            let at = at as u32;
            quote!(LiteralDescription::Object(#at))
        }
    }
}
