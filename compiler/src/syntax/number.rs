//! Number literals: decoding the text the lexer delimited, and printing a
//! value back in a form that reads back to the same value.
//!
//! Pharo's rules (its `NumberParser`): `1e10` is an Integer; an integer with
//! a negative exponent is an Integer when the value is whole (`100e-2` is 1)
//! and otherwise a Float, since fractions are not literals (`1e-2` is 0.01);
//! a number with a fraction part is a Float (`1.5`, `2r1.1`, `1.5e-3`, also
//! with the `d` and `q` exponent letters); `1.5s2` and `3s` are
//! ScaledDecimals. After a radix, letters of either case are digits (`16rFF`
//! and `16rff` are 255).

use crate::bigint::BigInt;
use crate::literal::{Float, Literal};

/// Largest exponent accepted on an integer (`1e100000000` would otherwise
/// build a hundred-million-digit integer at compile time).
const MAX_INTEGER_EXPONENT: i64 = 100_000;

/// Decodes a number token's text; `negative` when a `-` preceded it.
pub fn parse_number(text: &str, negative: bool) -> Result<Literal, String> {
    let (radix, mut rest, negative) = match text.find('r') {
        Some(i) => {
            let radix: u32 = text[..i].parse().map_err(|_| "invalid radix".to_string())?;
            let rest = &text[i + 1..];
            match rest.strip_prefix('-') {
                Some(r) => (radix, r, !negative),
                None => (radix, rest, negative),
            }
        }
        None => (10, text, negative),
    };
    let radix_digit_count = |s: &str| s.bytes().take_while(|&b| is_digit_char(b, radix)).count();
    let n = radix_digit_count(rest);
    let integer_digits = &rest[..n];
    rest = &rest[n..];
    let mut fraction_digits = None;
    if let Some(r) = rest.strip_prefix('.') {
        let n = radix_digit_count(r);
        fraction_digits = Some(&r[..n]);
        rest = &r[n..];
    }
    let mut exponent: Option<i64> = None;
    if let Some(r) = rest.strip_prefix(['e', 'd', 'q']) {
        let n = r.bytes().skip(1).take_while(u8::is_ascii_digit).count() + 1;
        let e = r[..n].parse::<i64>().unwrap_or(if r.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        });
        exponent = Some(e);
        rest = &r[n..];
    }
    let mut scale = None;
    if let Some(r) = rest.strip_prefix('s') {
        scale = Some(if r.is_empty() {
            fraction_digits.map_or(0, str::len) as u32
        } else {
            r.parse::<u32>()
                .ok()
                .filter(|s| i64::from(*s) <= MAX_INTEGER_EXPONENT)
                .ok_or_else(|| format!("scale {r} is too large for a literal"))?
        });
        rest = "";
    }
    if !rest.is_empty() {
        return Err(format!(
            "digit '{}' is not valid in radix {radix}",
            &rest[..1]
        ));
    }
    let all_digits = || {
        integer_digits
            .bytes()
            .chain(fraction_digits.unwrap_or("").bytes())
    };
    let digits: String = all_digits().map(char::from).collect();
    let mantissa = BigInt::from_digits(negative, &digits, radix)
        .ok_or_else(|| format!("digits not valid in radix {radix}"))?;
    let decimals = fraction_digits.map_or(0, str::len) as i64;

    if let Some(scale) = scale {
        if exponent.is_some() {
            return Err("a scaled decimal cannot have an exponent".to_string());
        }
        if radix != 10 && decimals > 0 {
            return Err("a scaled decimal with a fraction part must be decimal".to_string());
        }
        let (mantissa, decimals) = canonical_scaled(mantissa, decimals as u32, scale);
        return Ok(Literal::ScaledDecimal {
            mantissa,
            decimals,
            scale,
        });
    }
    let exponent = exponent.unwrap_or(0);
    if fraction_digits.is_some() {
        return Ok(Literal::Float(Float(float_value(
            &mantissa,
            negative,
            radix,
            exponent.saturating_sub(decimals),
        ))));
    }
    if !(-MAX_INTEGER_EXPONENT..=MAX_INTEGER_EXPONENT).contains(&exponent) {
        return Err(format!(
            "exponent {exponent} is too large for an exact number"
        ));
    }
    if exponent < 0 {
        return Ok(negative_exponent_value(mantissa, radix, (-exponent) as u32));
    }
    Ok(Literal::integer(
        mantissa.mul(&BigInt::pow(radix, exponent as u32)),
    ))
}

/// `mantissa * radix^-n`: the Integer when it is whole, else the Float Pharo
/// computes, `mantissa asFloat * (radix asFloat raisedToInteger: n)
/// reciprocal` (so `3e-5` rounds as Pharo rounds it, twice).
fn negative_exponent_value(mantissa: BigInt, radix: u32, n: u32) -> Literal {
    let mut quotient = mantissa.clone();
    let mut whole = true;
    for _ in 0..n {
        if quotient.is_zero() {
            break;
        }
        if quotient.divmod_small(radix) != 0 {
            whole = false;
            break;
        }
    }
    if whole {
        // The sign stayed with the magnitude (and zero is never negative).
        return Literal::integer(quotient);
    }
    let m: f64 = mantissa.to_string().parse().unwrap_or(f64::NAN);
    Literal::Float(Float(m * (1.0 / raised_to_integer(radix as f64, n))))
}

/// `base raisedToInteger: n` as Pharo's `Number>>raisedToInteger:` computes
/// it on a Float: square-and-multiply from the highest bit of `n`.
fn raised_to_integer(base: f64, n: u32) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let mut probe = 1u32 << (31 - n.leading_zeros());
    let mut result = 1.0;
    loop {
        if n & probe != 0 {
            result *= base;
        }
        probe >>= 1;
        if probe == 0 {
            return result;
        }
        result *= result;
    }
}

fn is_digit_char(b: u8, radix: u32) -> bool {
    b.is_ascii_alphanumeric() && digit_value(b) < radix
}

/// The value of an ASCII digit or letter (`a` and `A` are both 10).
fn digit_value(b: u8) -> u32 {
    match b {
        b'0'..=b'9' => (b - b'0') as u32,
        b'a'..=b'z' => (b - b'a') as u32 + 10,
        _ => (b - b'A') as u32 + 10,
    }
}

/// `mantissa * radix^exponent` correctly rounded when the value has a finite
/// decimal expansion (radix 10, powers of 2 and of 5, any non-negative
/// exponent); other radixes with negative exponents (`3r0.1`) are
/// approximated, which no real code depends on.
fn float_value(mantissa: &BigInt, negative: bool, radix: u32, exponent: i64) -> f64 {
    let sign = if negative { "-" } else { "" };
    let magnitude = mantissa.abs();
    let exponent = exponent.clamp(-100_000, 100_000);
    if radix == 10 {
        return format!("{sign}{magnitude}e{exponent}")
            .parse()
            .unwrap_or(f64::NAN);
    }
    if exponent >= 0 {
        let value = magnitude.mul(&BigInt::pow(radix, exponent as u32));
        return format!("{sign}{value}").parse().unwrap_or(f64::NAN);
    }
    let n = (-exponent) as u32;
    let (twos, fives, other) = factor_2_5(radix);
    if other == 1 {
        // 1 / (2^a 5^b)^n == 2^((m-a)n) 5^((m-b)n) / 10^(mn) with m = max(a, b).
        let m = twos.max(fives);
        let scaled = magnitude
            .mul(&BigInt::pow(2, (m - twos) * n))
            .mul(&BigInt::pow(5, (m - fives) * n));
        return format!("{sign}{scaled}e-{}", m as u64 * n as u64)
            .parse()
            .unwrap_or(f64::NAN);
    }
    mantissa.to_f64() / (radix as f64).powi(n as i32)
}

fn factor_2_5(mut radix: u32) -> (u32, u32, u32) {
    let (mut twos, mut fives) = (0, 0);
    while radix % 2 == 0 {
        radix /= 2;
        twos += 1;
    }
    while radix % 5 == 0 {
        radix /= 5;
        fives += 1;
    }
    (twos, fives, radix)
}

/// A float as Pharo source: the shortest digits that read back to the same
/// bits, always with a fraction part (`1.0e300`, not `1e300`, which would be
/// an Integer). Infinities have no literal; they print as an overflowing
/// literal that reads back to them.
pub fn format_float(value: f64) -> String {
    if value.is_infinite() {
        return if value > 0.0 { "1.0e400" } else { "-1.0e400" }.to_string();
    }
    let text = format!("{value:?}");
    match text.split_once('e') {
        Some((mantissa, exp)) if !mantissa.contains('.') => format!("{mantissa}.0e{exp}"),
        Some(_) => text,
        None if text.contains('.') => text,
        None => format!("{text}.0"),
    }
}

/// A float as Pharo's `printString` shows it: the shortest digits that
/// read back (Burger and Dybvig's free format), in fixed notation when the
/// decimal point falls within 3 places left and 6 right of the first digit
/// (`0.001`, `123456.0`), in scientific notation otherwise (`1.0e-5`,
/// `1.234567e6`); `Float nan`, `Float infinity`, `Float infinity negated`.
pub fn pharo_float_print_string(value: f64) -> String {
    if value.is_nan() {
        return "Float nan".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "Float infinity"
        } else {
            "Float infinity negated"
        }
        .to_string();
    }
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if value == 0.0 {
        return format!("{sign}0.0");
    }
    // `{:e}` gives the shortest round-trip digits: d[.ddd]e<exp>.
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').expect("scientific notation");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Digits before the decimal point, as Pharo's baseExpEstimate.
    let k: i64 = exponent.parse::<i64>().expect("an exponent") + 1;
    let mut out = String::from(sign);
    if (-3..=6).contains(&k) {
        if k <= 0 {
            out.push_str("0.");
            out.push_str(&"0".repeat((-k) as usize));
            out.push_str(&digits);
        } else if digits.len() as i64 <= k {
            out.push_str(&digits);
            out.push_str(&"0".repeat((k - digits.len() as i64) as usize));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..k as usize]);
            out.push('.');
            out.push_str(&digits[k as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push('e');
        out.push_str(&(k - 1).to_string());
    }
    out
}

/// A scaled decimal's digits written as Pharo prints them: as many
/// decimals as the scale, or more when the value needs them (1.5s2 is
/// 1.50s2, 1.500s2 is 1.50s2, 1.234s2 stays), so that printing a literal
/// gives what Smalltalk's printString and AST printer give.
fn canonical_scaled(mut mantissa: BigInt, mut decimals: u32, scale: u32) -> (BigInt, u32) {
    let ten = BigInt::from_i64(10);
    while decimals > scale {
        match mantissa.quo_rem(&ten) {
            Some((q, r)) if r.is_zero() => {
                mantissa = q;
                decimals -= 1;
            }
            _ => break,
        }
    }
    if decimals < scale {
        mantissa = mantissa.mul(&BigInt::pow(10, scale - decimals));
        decimals = scale;
    }
    (mantissa, decimals)
}

/// The exact value of a scaled decimal, `mantissa / 10^decimals`, as a
/// reduced fraction: (numerator, positive denominator); 1.50s2 is 3/2.
pub fn scaled_fraction(mantissa: &BigInt, decimals: u32) -> (BigInt, BigInt) {
    let power = BigInt::pow(10, decimals);
    let gcd = mantissa.gcd(&power);
    let reduce = |n: &BigInt| n.quo_rem(&gcd).expect("a power of ten is not zero").0;
    (reduce(mantissa), reduce(&power))
}

/// A scaled decimal as Pharo source: `1.5s2`, `3s0`, `-0.05s2`.
pub fn format_scaled(mantissa: &BigInt, decimals: u32, scale: u32) -> String {
    let digits = mantissa.magnitude_digits(10);
    let decimals = decimals as usize;
    let padded = if digits.len() <= decimals {
        format!("{}{}", "0".repeat(decimals + 1 - digits.len()), digits)
    } else {
        digits
    };
    let sign = if mantissa.is_negative() { "-" } else { "" };
    let (int, frac) = padded.split_at(padded.len() - decimals);
    if decimals == 0 {
        format!("{sign}{int}s{scale}")
    } else {
        format!("{sign}{int}.{frac}s{scale}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Literal {
        parse_number(text, false).unwrap()
    }

    fn float(text: &str) -> f64 {
        match num(text) {
            Literal::Float(Float(f)) => f,
            other => panic!("{text} gave {other:?}"),
        }
    }

    #[test]
    fn integers_in_any_radix() {
        assert_eq!(num("42"), Literal::Integer(42));
        assert_eq!(num("16r1F"), Literal::Integer(31));
        assert_eq!(num("2r1010"), Literal::Integer(10));
        assert_eq!(num("36rZZ"), Literal::Integer(1295));
        assert_eq!(num("16r-1F"), Literal::Integer(-31));
        assert_eq!(parse_number("5", true).unwrap(), Literal::Integer(-5));
        assert_eq!(num("1e10"), Literal::Integer(10_000_000_000));
        assert_eq!(num("2r1e4"), Literal::Integer(16));
        assert_eq!(num("16rff"), Literal::Integer(255));
        assert_eq!(num("36rzz"), Literal::Integer(1295));
        // In radix 16 `e` is a digit, not an exponent.
        assert_eq!(num("16r1e2"), Literal::Integer(0x1e2));
        assert_eq!(
            parse_number("9223372036854775808", true).unwrap(),
            Literal::Integer(i64::MIN)
        );
        match num("16r1FFFFFFFFFFFFFFFF") {
            Literal::LargeInteger(b) => assert_eq!(b.magnitude_digits(16), "1FFFFFFFFFFFFFFFF"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn floats() {
        assert_eq!(float("1.5e-3"), 1.5e-3);
        assert_eq!(float("2.0e10"), 2.0e10);
        assert_eq!(float("12.3456d2"), 1234.56);
        assert_eq!(float("12.3456q2"), 1234.56);
        assert_eq!(float("2r1.1"), 1.5);
        assert_eq!(float("16r1.8"), 1.5);
        assert_eq!(float("1.7976931348623157e308"), f64::MAX);
        assert_eq!(float("1.0e1000"), f64::INFINITY);
        assert_eq!(float("0.1"), 0.1);
        assert_eq!(
            parse_number("0.0", true).unwrap(),
            Literal::Float(Float(-0.0))
        );
    }

    #[test]
    fn negative_exponents_and_scaled_decimals() {
        // Pharo answers a Float, or an Integer when the value is whole.
        assert_eq!(num("1e-2"), Literal::Float(Float(0.01)));
        assert_eq!(num("2r1e-1"), Literal::Float(Float(0.5)));
        assert_eq!(num("100e-2"), Literal::Integer(1));
        assert_eq!(
            parse_number("5e-1", true).unwrap(),
            Literal::Float(Float(-0.5))
        );
        assert_eq!(num("0e-7"), Literal::Integer(0));
        assert_eq!(num("1e-400"), Literal::Float(Float(0.0)));
        assert_eq!(
            num("1.5s2"),
            Literal::ScaledDecimal {
                mantissa: BigInt::from_i64(150),
                decimals: 2,
                scale: 2
            }
        );
        assert_eq!(
            num("1.500s2"),
            Literal::ScaledDecimal {
                mantissa: BigInt::from_i64(150),
                decimals: 2,
                scale: 2
            }
        );
        assert_eq!(
            num("1.234s2"),
            Literal::ScaledDecimal {
                mantissa: BigInt::from_i64(1234),
                decimals: 3,
                scale: 2
            }
        );
        assert_eq!(
            num("3s"),
            Literal::ScaledDecimal {
                mantissa: BigInt::from_i64(3),
                decimals: 0,
                scale: 0
            }
        );
        assert_eq!(
            num("10.160s3"),
            Literal::ScaledDecimal {
                mantissa: BigInt::from_i64(10160),
                decimals: 3,
                scale: 3
            }
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_number("2r102", false).unwrap_err(),
            "digit '2' is not valid in radix 2"
        );
        assert_eq!(
            parse_number("1e200000", false).unwrap_err(),
            "exponent 200000 is too large for an exact number"
        );
        // The digits a scale asks for are written out: it is bounded too.
        assert_eq!(
            parse_number("1s4000000000", false).unwrap_err(),
            "scale 4000000000 is too large for a literal"
        );
        assert!(parse_number("1s100000", false).is_ok());
    }

    #[test]
    fn floats_print_as_pharo_prints_them() {
        for (value, text) in [
            (100.0, "100.0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (0.001, "0.001"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-5"),
            (1e-5, "1.0e-5"),
            (123456.0, "123456.0"),
            (1234567.0, "1.234567e6"),
            (1e16, "1.0e16"),
            (-2.5, "-2.5"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (std::f64::consts::PI, "3.141592653589793"),
            (f64::MAX, "1.7976931348623157e308"),
            (5e-324, "5.0e-324"),
            (f64::INFINITY, "Float infinity"),
            (f64::NEG_INFINITY, "Float infinity negated"),
            (f64::NAN, "Float nan"),
        ] {
            assert_eq!(pharo_float_print_string(value), text, "{value:?}");
        }
    }

    #[test]
    fn printing_reads_back() {
        for f in [
            1.5e-3,
            1e300,
            0.1,
            -0.0,
            100.0,
            1e-320,
            f64::MAX,
            f64::INFINITY,
            5e-324,
        ] {
            let text = format_float(f);
            let neg = text.starts_with('-');
            assert_eq!(float_of(&text, neg), f, "{text}");
        }
        assert_eq!(format_float(1e300), "1.0e300");
        assert_eq!(format_float(2.0), "2.0");
        assert_eq!(format_scaled(&BigInt::from_i64(-5), 2, 2), "-0.05s2");
        let fraction = |m: i64, d| {
            let (n, d) = scaled_fraction(&BigInt::from_i64(m), d);
            (n.to_i64().unwrap(), d.to_i64().unwrap())
        };
        assert_eq!(fraction(150, 2), (3, 2));
        assert_eq!(fraction(-5, 2), (-1, 20));
        assert_eq!(fraction(3, 0), (3, 1));
        assert_eq!(fraction(0, 3), (0, 1));
        assert_eq!(format_scaled(&BigInt::from_i64(3), 0, 0), "3s0");
    }

    fn float_of(text: &str, neg: bool) -> f64 {
        match parse_number(text.trim_start_matches('-'), neg).unwrap() {
            Literal::Float(Float(f)) => f,
            other => panic!("{other:?}"),
        }
    }
}
