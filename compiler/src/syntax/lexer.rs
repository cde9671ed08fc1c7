//! The Pharo scanner: turns source text into tokens.
//!
//! Tokens are `Copy` spans into the text; values (numbers, strings, symbols)
//! are decoded by the parser only when it needs them. Comments are skipped
//! like whitespace but recorded, so the AST keeps them.

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Identifier,
    /// `foo:`
    Keyword,
    /// `foo:bar:` written without spaces (a symbol in a literal array).
    MultiKeyword,
    /// A binary selector: `+`, `->`, `~~`, `==>`, `|`...
    Binary,
    Number,
    /// `$a`
    Character,
    /// `'...'`
    String,
    /// `#foo`, `#foo:bar:`, `#+`, `#'with space'`
    Symbol,
    /// `#(`
    LiteralArrayOpen,
    /// `#[`
    ByteArrayOpen,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    LeftBrace,
    RightBrace,
    /// `:=`
    Assign,
    /// `^`
    Caret,
    Period,
    Semicolon,
    Colon,
    Eof,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: u32,
    pub end: u32,
}

impl Token {
    pub fn span(&self) -> Span {
        Span {
            start: self.start,
            end: self.end,
        }
    }
}

/// A scanning or parsing error at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

impl SyntaxError {
    pub fn new(offset: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            offset,
            message: message.into(),
        }
    }
}

/// The characters binary selectors are made of: ASCII's, and the
/// mathematical signs of Latin-1 Pharo's scanner accepts (`±`, `×`, `÷`,
/// `·`).
pub fn is_binary_char(c: char) -> bool {
    matches!(
        c,
        '!' | '%'
            | '&'
            | '*'
            | '+'
            | ','
            | '-'
            | '/'
            | '<'
            | '='
            | '>'
            | '?'
            | '@'
            | '\\'
            | '~'
            | '|'
            | '±'
            | '×'
            | '÷'
            | '·'
    )
}

pub struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Spans of the comments skipped so far, quotes included.
    pub comments: Vec<Span>,
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str, start: usize) -> Lexer<'a> {
        Lexer {
            text,
            bytes: text.as_bytes(),
            pos: start,
            comments: Vec::new(),
        }
    }

    pub fn text(&self) -> &'a str {
        self.text
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn set_position(&mut self, pos: usize) {
        self.pos = pos;
    }

    fn peek_at(&self, offset: usize) -> u8 {
        self.bytes.get(self.pos + offset).copied().unwrap_or(0)
    }

    /// The character starting at byte `pos`, if any.
    fn char_at(&self, pos: usize) -> Option<char> {
        self.text.get(pos..).and_then(|s| s.chars().next())
    }

    fn is_letter_at(&self, pos: usize) -> bool {
        match self.bytes.get(pos) {
            Some(b) if b.is_ascii_alphabetic() || *b == b'_' => true,
            Some(b) if *b >= 0x80 => self.char_at(pos).is_some_and(char::is_alphabetic),
            _ => false,
        }
    }

    fn is_ident_char_at(&self, pos: usize) -> bool {
        self.bytes.get(pos).is_some_and(u8::is_ascii_digit) || self.is_letter_at(pos)
    }

    /// Skips whitespace and comments, recording the comments.
    pub fn skip_trivia(&mut self) -> Result<(), SyntaxError> {
        loop {
            match self.peek_at(0) {
                b' ' | b'\t' | b'\r' | b'\n' | 0x0c => self.pos += 1,
                b'"' => {
                    let start = self.pos;
                    self.pos += 1;
                    // A doubled quote inside a comment does not end it, as
                    // in Pharo's scanner: `"say ""hi"""` is one comment.
                    loop {
                        match self.bytes[self.pos..].iter().position(|&b| b == b'"') {
                            Some(i) => {
                                self.pos += i + 1;
                                if self.peek_at(0) == b'"' {
                                    self.pos += 1;
                                } else {
                                    break;
                                }
                            }
                            None => {
                                return Err(SyntaxError::new(
                                    start,
                                    "unterminated comment: expected a closing '\"'",
                                ))
                            }
                        }
                    }
                    self.comments.push(Span::new(start, self.pos));
                }
                _ => return Ok(()),
            }
        }
    }

    pub fn next_token(&mut self) -> Result<Token, SyntaxError> {
        self.skip_trivia()?;
        let start = self.pos;
        let Some(&b) = self.bytes.get(start) else {
            return Ok(self.token(TokenKind::Eof, start));
        };
        let kind = match b {
            b'0'..=b'9' => {
                self.scan_number()?;
                TokenKind::Number
            }
            b'\'' => {
                self.scan_string()?;
                TokenKind::String
            }
            b'$' => {
                match self.char_at(start + 1) {
                    Some(c) => self.pos = start + 1 + c.len_utf8(),
                    None => return Err(SyntaxError::new(start, "expected a character after '$'")),
                }
                TokenKind::Character
            }
            b'#' => self.scan_hash()?,
            b'(' => self.single(TokenKind::LeftParen),
            b')' => self.single(TokenKind::RightParen),
            b'[' => self.single(TokenKind::LeftBracket),
            b']' => self.single(TokenKind::RightBracket),
            b'{' => self.single(TokenKind::LeftBrace),
            b'}' => self.single(TokenKind::RightBrace),
            b'^' => self.single(TokenKind::Caret),
            b'.' => self.single(TokenKind::Period),
            b';' => self.single(TokenKind::Semicolon),
            b':' => {
                if self.peek_at(1) == b'=' {
                    self.pos += 2;
                    TokenKind::Assign
                } else {
                    self.single(TokenKind::Colon)
                }
            }
            _ if self.binary_char_at(start) => {
                self.scan_binary();
                TokenKind::Binary
            }
            _ if self.is_letter_at(start) => self.scan_identifier(),
            _ => {
                let c = self.char_at(start).unwrap_or('?');
                return Err(SyntaxError::new(
                    start,
                    format!("unexpected character {c:?}"),
                ));
            }
        };
        Ok(self.token(kind, start))
    }

    fn token(&self, kind: TokenKind, start: usize) -> Token {
        Token {
            kind,
            start: start as u32,
            end: self.pos as u32,
        }
    }

    fn single(&mut self, kind: TokenKind) -> TokenKind {
        self.pos += 1;
        kind
    }

    fn scan_identifier(&mut self) -> TokenKind {
        self.skip_identifier_chars();
        if self.peek_at(0) != b':' || self.peek_at(1) == b'=' {
            return TokenKind::Identifier;
        }
        self.pos += 1;
        // `foo:bar:` without spaces is one token, as in Pharo's scanner.
        let mut kind = TokenKind::Keyword;
        loop {
            let save = self.pos;
            if !self.is_letter_at(self.pos) {
                break;
            }
            self.skip_identifier_chars();
            if self.peek_at(0) == b':' && self.peek_at(1) != b'=' {
                self.pos += 1;
                kind = TokenKind::MultiKeyword;
            } else {
                self.pos = save;
                break;
            }
        }
        kind
    }

    fn skip_identifier_chars(&mut self) {
        while self.is_ident_char_at(self.pos) {
            self.pos += self.char_at(self.pos).map_or(1, char::len_utf8);
        }
    }

    /// Whether the character at `at` is one binary selectors are made of.
    fn binary_char_at(&self, at: usize) -> bool {
        self.char_at(at).is_some_and(is_binary_char)
    }

    /// Moves past the binary selector characters at the position.
    fn skip_binary_chars(&mut self) {
        while let Some(c) = self.char_at(self.pos).filter(|&c| is_binary_char(c)) {
            self.pos += c.len_utf8();
        }
    }

    fn scan_binary(&mut self) {
        let start = self.pos;
        self.skip_binary_chars();
        // `x+-1` is `x + -1`: a trailing minus before a digit starts a number.
        if self.pos - start > 1
            && self.bytes[self.pos - 1] == b'-'
            && self.peek_at(0).is_ascii_digit()
        {
            self.pos -= 1;
        }
    }

    /// `'...'` with `''` standing for one quote.
    fn scan_string(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.bytes[self.pos..].iter().position(|&b| b == b'\'') {
                Some(i) => {
                    self.pos += i + 1;
                    if self.peek_at(0) == b'\'' {
                        self.pos += 1;
                    } else {
                        return Ok(());
                    }
                }
                None => {
                    return Err(SyntaxError::new(
                        start,
                        "unterminated string: expected a closing '",
                    ))
                }
            }
        }
    }

    fn scan_hash(&mut self) -> Result<TokenKind, SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        // Old code writes `##foo`; the extra hashes mean nothing.
        while self.peek_at(0) == b'#' {
            self.pos += 1;
        }
        let b = self.peek_at(0);
        match b {
            b'(' => {
                self.pos += 1;
                Ok(TokenKind::LiteralArrayOpen)
            }
            b'[' => {
                self.pos += 1;
                Ok(TokenKind::ByteArrayOpen)
            }
            b'\'' => {
                self.scan_string()?;
                Ok(TokenKind::Symbol)
            }
            _ if self.binary_char_at(self.pos) => {
                self.skip_binary_chars();
                Ok(TokenKind::Symbol)
            }
            _ if self.is_letter_at(self.pos) => {
                while self.is_ident_char_at(self.pos) || self.peek_at(0) == b':' {
                    self.pos += self.char_at(self.pos).map_or(1, char::len_utf8);
                }
                Ok(TokenKind::Symbol)
            }
            _ => Err(SyntaxError::new(
                start,
                "expected a symbol, '(' or '[' after '#'",
            )),
        }
    }

    /// Whether `b` continues the digits of a number: decimal digits only
    /// without a radix prefix. After `NNr`: decimal digits and upper-case
    /// letters (one too large for the radix is reported by
    /// [`crate::number::parse_number`]), and lower-case letters whose value
    /// is below the radix, as Pharo's `Character>>digitValue` counts them
    /// (`16rff` is 255, but the `e` of `10r1e2` is an exponent).
    fn is_radix_digit(b: u8, radix: Option<u32>) -> bool {
        match radix {
            None => b.is_ascii_digit(),
            Some(r) => {
                b.is_ascii_digit()
                    || b.is_ascii_uppercase()
                    || (b.is_ascii_lowercase() && ((b - b'a') as u32 + 10) < r)
            }
        }
    }

    /// Finds the extent of a number: `123`, `16r1F`, `16rff`, `16r-1F`,
    /// `1.5`, `1e10`, `1.5e-3`, `2r1e4`, `1.5s2`, `3s`. The value is computed
    /// by [`crate::number::parse_number`].
    fn scan_number(&mut self) -> Result<(), SyntaxError> {
        let digits_start = self.pos;
        while self.peek_at(0).is_ascii_digit() {
            self.pos += 1;
        }
        let mut radix = None;
        if self.peek_at(0) == b'r' {
            let after = if self.peek_at(1) == b'-' { 2 } else { 1 };
            let written = &self.text[digits_start..self.pos];
            let value: u32 = written.parse().unwrap_or(u32::MAX);
            if Self::is_radix_digit(self.peek_at(after), Some(value.min(36))) {
                if !(2..=36).contains(&value) {
                    return Err(SyntaxError::new(
                        digits_start,
                        format!("radix must be between 2 and 36, not {written}"),
                    ));
                }
                radix = Some(value);
                self.pos += after;
                while Self::is_radix_digit(self.peek_at(0), radix) {
                    self.pos += 1;
                }
            }
        }
        if self.peek_at(0) == b'.' && Self::is_radix_digit(self.peek_at(1), radix) {
            self.pos += 1;
            while Self::is_radix_digit(self.peek_at(0), radix) {
                self.pos += 1;
            }
        }
        if matches!(self.peek_at(0), b'e' | b'd' | b'q') {
            let after = if self.peek_at(1) == b'-' { 2 } else { 1 };
            if self.peek_at(after).is_ascii_digit() {
                self.pos += after;
                while self.peek_at(0).is_ascii_digit() {
                    self.pos += 1;
                }
            }
        }
        if self.peek_at(0) == b's' {
            if self.peek_at(1).is_ascii_digit() {
                self.pos += 1;
                while self.peek_at(0).is_ascii_digit() {
                    self.pos += 1;
                }
            } else if !self.is_ident_char_at(self.pos + 1) && self.peek_at(1) != b':' {
                self.pos += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind::*;

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        let mut lexer = Lexer::new(text, 0);
        let mut out = Vec::new();
        loop {
            let t = lexer.next_token().unwrap();
            if t.kind == Eof {
                return out;
            }
            out.push((t.kind, &text[t.start as usize..t.end as usize]));
        }
    }

    #[test]
    fn keywords_and_multi_keywords() {
        assert_eq!(
            kinds("at: 1 put:2 foo:bar: x:=y"),
            vec![
                (Keyword, "at:"),
                (Number, "1"),
                (Keyword, "put:"),
                (Number, "2"),
                (MultiKeyword, "foo:bar:"),
                (Identifier, "x"),
                (Assign, ":="),
                (Identifier, "y"),
            ]
        );
    }

    #[test]
    fn binary_operators_split_before_negative_numbers() {
        assert_eq!(
            kinds("a->b x+-1 ==> ~~"),
            vec![
                (Identifier, "a"),
                (Binary, "->"),
                (Identifier, "b"),
                (Identifier, "x"),
                (Binary, "+"),
                (Binary, "-"),
                (Number, "1"),
                (Binary, "==>"),
                (Binary, "~~"),
            ]
        );
    }

    #[test]
    fn number_extents() {
        for n in [
            "16r1F", "2r1010", "1e10", "36rZZ", "1.5e-3", "2.0e10", "1.5s2", "3s", "16r-1F",
        ] {
            assert_eq!(kinds(n), vec![(Number, n)], "{n}");
        }
        assert_eq!(kinds("1."), vec![(Number, "1"), (Period, ".")]);
        assert_eq!(kinds("3 sqrt"), vec![(Number, "3"), (Identifier, "sqrt")]);
        assert_eq!(kinds("3sqrt"), vec![(Number, "3"), (Identifier, "sqrt")]);
        assert_eq!(kinds("16r1e2"), vec![(Number, "16r1e2")]);
        assert_eq!(kinds("16rff"), vec![(Number, "16rff")]);
        assert_eq!(kinds("10r1e2"), vec![(Number, "10r1e2")]);
        // Lower-case letters too large for the radix end the number.
        assert_eq!(kinds("2r1x"), vec![(Number, "2r1"), (Identifier, "x")]);
        assert_eq!(kinds("2rx"), vec![(Number, "2"), (Identifier, "rx")]);
    }

    #[test]
    fn hash_forms() {
        assert_eq!(
            kinds("#foo #foo:bar: #+ #'a b' #( #["),
            vec![
                (Symbol, "#foo"),
                (Symbol, "#foo:bar:"),
                (Symbol, "#+"),
                (Symbol, "#'a b'"),
                (LiteralArrayOpen, "#("),
                (ByteArrayOpen, "#["),
            ]
        );
    }

    #[test]
    fn characters_strings_and_comments() {
        let mut lexer = Lexer::new("$  $' 'it''s' \"c\" $\"", 0);
        let mut toks = Vec::new();
        loop {
            let t = lexer.next_token().unwrap();
            if t.kind == Eof {
                break;
            }
            toks.push(t.kind);
        }
        assert_eq!(toks, vec![Character, Character, String, Character]);
        assert_eq!(lexer.comments, vec![Span::new(14, 17)]);
    }

    #[test]
    fn doubled_quotes_inside_a_comment() {
        let mut lexer = Lexer::new("\"say \"\"hi\"\"\" x", 0);
        assert_eq!(lexer.next_token().unwrap().kind, Identifier);
        assert_eq!(lexer.comments, vec![Span::new(0, 12)]);
    }

    #[test]
    fn errors() {
        let err = |t: &str| Lexer::new(t, 0).next_token().unwrap_err();
        assert_eq!(
            err("'abc").message,
            "unterminated string: expected a closing '"
        );
        assert_eq!(
            err("\"abc").message,
            "unterminated comment: expected a closing '\"'"
        );
        assert_eq!(err("$").message, "expected a character after '$'");
        assert_eq!(err("# ").message, "expected a symbol, '(' or '[' after '#'");
        assert_eq!(err("\u{1}").message, "unexpected character '\\u{1}'");
        assert_eq!(
            err("40r1").message,
            "radix must be between 2 and 36, not 40"
        );
    }
}
