//! Source text, byte spans and the diagnostics built from them.
//!
//! Every node of the Pharo AST carries a [`Span`] of byte offsets into the
//! file it came from. Line and column numbers are computed only when a
//! diagnostic is shown ([`line_column`]), so the parser pays nothing for
//! them on the happy path.

use std::fmt;
use std::sync::Arc;

/// A half-open byte range `start..end` in a source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A source file: its display name and its text. Shared (`Arc`) because the
/// ASTs of every method defined in it point back at it.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<SourceFile> {
        Arc::new(SourceFile {
            name: name.into(),
            text: text.into(),
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        line_column(&self.text, offset)
    }
}

/// 1-based line and column (counted in characters, not bytes) of `offset`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A problem found in a source text, located precisely enough for a user to
/// act on it: file, line, column, what was expected, and the offending line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The whole source line the error is on (without its newline).
    pub source_line: String,
}

impl Diagnostic {
    /// Locates `message` at byte `offset` of `text`.
    pub fn at(file: &str, text: &str, offset: usize, message: impl Into<String>) -> Diagnostic {
        let (line, column) = line_column(text, offset);
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let source_line = text[start..end].trim_end_matches('\r').to_string();
        Diagnostic {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            source_line,
        }
    }

    /// A diagnostic about a whole file (unreadable, not UTF-8...).
    pub fn file(file: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_string(),
            line: 0,
            column: 0,
            message: message.into(),
            source_line: String::new(),
        }
    }

    /// `file:line:column: message`, the one-line form (`zag check --verbose`).
    pub fn headline(&self) -> String {
        if self.line == 0 {
            format!("{}: {}", self.file, self.message)
        } else {
            format!(
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl fmt::Display for Diagnostic {
    /// The headline, then the offending line with a caret under the column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.headline())?;
        if self.line == 0 {
            return Ok(());
        }
        // Tabs are kept in the padding so the caret lines up in a terminal.
        let pad: String = self
            .source_line
            .chars()
            .take(self.column - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "\n    {}\n    {}^", self.source_line, pad)
    }
}

impl std::error::Error for Diagnostic {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "ab\ncé d\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        // 'd' is after a two-byte 'é': byte 7, character column 4.
        assert_eq!(line_column(text, 7), (2, 4));
    }

    #[test]
    fn diagnostic_shows_line_and_caret() {
        let d = Diagnostic::at("f.st", "one\n\tfoo bar\nthree", 9, "expected x");
        assert_eq!(d.headline(), "f.st:2:6: expected x");
        assert_eq!(
            d.to_string(),
            "f.st:2:6: expected x\n    \tfoo bar\n    \t    ^"
        );
    }
}
