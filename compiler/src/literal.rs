//! Literal values, as they appear in source and in a method's literal frame.
//! Shared by the Pharo AST and the Zag AST.

use crate::bigint::BigInt;

/// A literal value. Equality is exact: floats compare by bits, so `0.0` and
/// `-0.0` differ, as they must for a round trip to be faithful.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Nil,
    True,
    False,
    /// A SmallInteger-or-larger value that fits in 64 bits.
    Integer(i64),
    /// An integer outside the `i64` range (a LargePositive/NegativeInteger).
    LargeInteger(BigInt),
    Float(Float),
    /// `mantissa / 10^decimals` with `scale` digits shown: `1.5s2` is
    /// mantissa 15, decimals 1, scale 2.
    ScaledDecimal {
        mantissa: BigInt,
        decimals: u32,
        scale: u32,
    },
    Character(char),
    String(String),
    Symbol(String),
    /// `#( ... )`
    Array(Vec<Literal>),
    /// `#[ ... ]`
    ByteArray(Vec<u8>),
}

/// An `f64` compared by bit pattern.
#[derive(Clone, Copy, Debug)]
pub struct Float(pub f64);

impl PartialEq for Float {
    fn eq(&self, other: &Float) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Literal {
    /// An integer literal in its normal form: `Integer` when it fits 64 bits.
    pub fn integer(value: BigInt) -> Literal {
        match value.to_i64() {
            Some(v) => Literal::Integer(v),
            None => Literal::LargeInteger(value),
        }
    }
}
