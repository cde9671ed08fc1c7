//! The Tonel reader: one `.st` file of a Tonel package, as Iceberg writes it.
//!
//! ```text
//! "class comment"                       optional
//! Class { #name : 'Foo', ... }          or Trait { }, Extension { }, Package { }
//!
//! { #category : 'accessing' }           optional method metadata
//! Foo [class|classSide] >> selector: arg [
//!     body
//! ]
//! ```
//!
//! Definitions are STON maps, read by the small STON reader below; method
//! headers and bodies are read by the Pharo [`Parser`] in place in the file
//! text, so every span is a file offset. A malformed method is reported and
//! skipped (its end is found by bracket matching), so one import reports
//! every error in a file, not only the first.

use crate::lexer::{SyntaxError, TokenKind};
use crate::parser::{BodyEnd, Parser};
use crate::pharo_ast::{self as p, Expr};
use crate::source::Span;

/// What a `.st` file defines.
#[derive(Clone, Debug, PartialEq)]
pub enum Definition {
    Class(ClassDefinition),
    Trait(ClassDefinition),
    /// `Extension { #name : 'String' }`: methods added to a class defined elsewhere.
    Extension {
        class_name: String,
    },
    /// `package.st`
    Package {
        name: String,
        tags: Vec<String>,
    },
}

/// The memory layout of a class's instances (`#type` in Tonel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Layout {
    /// Named instance variables only.
    #[default]
    Fixed,
    /// Named plus indexed pointer fields (`#variable`).
    Variable,
    Bytes,
    Words,
    DoubleBytes,
    DoubleWords,
    Weak,
    Ephemeron,
    Immediate,
    CompiledMethod,
}

impl Layout {
    fn parse(name: &str) -> Option<Layout> {
        Some(match name {
            "normal" | "fixed" => Layout::Fixed,
            "variable" | "VariableLayout" => Layout::Variable,
            "bytes" | "ByteLayout" => Layout::Bytes,
            "words" | "WordLayout" => Layout::Words,
            "DoubleByteLayout" => Layout::DoubleBytes,
            "DoubleWordLayout" => Layout::DoubleWords,
            "weak" | "WeakLayout" => Layout::Weak,
            "ephemeron" | "EphemeronLayout" => Layout::Ephemeron,
            "immediate" | "ImmediateLayout" => Layout::Immediate,
            "compiledMethod" | "CompiledMethodLayout" => Layout::CompiledMethod,
            _ => return None,
        })
    }

    /// Whether instances have pointer slots: the others hold raw bits (or
    /// are immediate), so they can have no named instance variables.
    pub fn holds_pointers(self) -> bool {
        !matches!(
            self,
            Layout::Bytes
                | Layout::Words
                | Layout::DoubleBytes
                | Layout::DoubleWords
                | Layout::Immediate
                | Layout::CompiledMethod
        )
    }

    /// What instances hold, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Layout::Fixed => "named instance variables only",
            Layout::Variable => "indexed pointers",
            Layout::Bytes => "bytes",
            Layout::Words => "32-bit words",
            Layout::DoubleBytes => "16-bit words",
            Layout::DoubleWords => "64-bit words",
            Layout::Weak => "weak pointers",
            Layout::Ephemeron => "an ephemeron",
            Layout::Immediate => "an immediate value",
            Layout::CompiledMethod => "a compiled method",
        }
    }

    /// Why class `name` of this layout, with all its instance variables
    /// `inst_vars`, under `superclass` (its name and layout), cannot be
    /// defined, as Pharo's class builder refuses it.
    pub fn problem(
        self,
        name: &str,
        inst_vars: &[String],
        superclass: Option<(&str, Layout)>,
    ) -> Option<String> {
        if !self.holds_pointers() && !inst_vars.is_empty() {
            return Some(format!(
                "{name} cannot have instance variables ({}): its instances hold {}",
                inst_vars.join(" "),
                self.describe()
            ));
        }
        match superclass {
            Some((superclass, layout)) if !layout.holds_pointers() && layout != self => {
                Some(format!(
                    "{name} must hold {} as its superclass {superclass} does, not {}",
                    layout.describe(),
                    self.describe()
                ))
            }
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClassDefinition {
    pub name: String,
    /// `None` for a root class (`#superclass : nil`) and for traits.
    pub superclass: Option<String>,
    pub inst_vars: Vec<String>,
    pub class_vars: Vec<String>,
    pub class_inst_vars: Vec<String>,
    pub pools: Vec<String>,
    pub category: Option<String>,
    pub package: Option<String>,
    pub tag: Option<String>,
    pub layout: Layout,
    pub traits: TraitComposition,
    pub class_traits: TraitComposition,
    pub comment: Option<String>,
    pub span: Span,
}

impl ClassDefinition {
    /// The package the class belongs to: `#package`, or for older exports
    /// that write only `#category`, the category.
    pub fn package_name(&self) -> &str {
        self.package
            .as_deref()
            .or(self.category.as_deref())
            .unwrap_or("")
    }

    /// Pharo's class category: `#category`, or the package and its tag.
    pub fn category_name(&self) -> String {
        match (&self.category, &self.tag) {
            (Some(category), _) => category.clone(),
            (None, Some(tag)) => format!("{}-{tag}", self.package_name()),
            (None, None) => self.package_name().to_string(),
        }
    }
}

/// `'TFoo + (TBar - {#baz}) + (TQux @ {#new -> #old})'`
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraitComposition {
    pub uses: Vec<TraitUse>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraitUse {
    pub trait_name: String,
    /// `TFoo classTrait` (or `classSide`).
    pub class_side: bool,
    /// Selectors removed with `- {#a. #b}`.
    pub excluded: Vec<String>,
    /// `@ {#newName -> #oldName}`: (alias, original).
    pub aliases: Vec<(String, String)>,
}

/// One method definition of a Tonel file.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodDefinition {
    /// The instance-side name of the class or trait the method belongs to.
    pub class_name: String,
    pub class_side: bool,
    pub category: Option<String>,
    pub method: p::Method,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TonelFile {
    pub definition: Option<Definition>,
    pub methods: Vec<MethodDefinition>,
    /// Method definitions that could not be read (each has an error).
    pub malformed_methods: usize,
}

/// Reads a Tonel file. Answers what could be read and every error found.
pub fn read_tonel(text: &str) -> (TonelFile, Vec<SyntaxError>) {
    let mut reader = Reader {
        text,
        pos: 0,
        errors: Vec::new(),
    };
    let file = reader.file();
    (file, reader.errors)
}

/// A STON value, as Tonel definitions and metadata use them.
#[derive(Clone, Debug, PartialEq)]
enum Ston {
    String(String),
    Symbol(String),
    Nil,
    Bool(bool),
    Number(String),
    List(Vec<Ston>),
    Map(Vec<(Ston, Ston, usize)>),
}

struct Reader<'a> {
    text: &'a str,
    pos: usize,
    errors: Vec<SyntaxError>,
}

type RResult<T> = Result<T, SyntaxError>;

impl<'a> Reader<'a> {
    fn peek(&self) -> u8 {
        self.text.as_bytes().get(self.pos).copied().unwrap_or(0)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), b' ' | b'\t' | b'\r' | b'\n' | 0x0c) {
            self.pos += 1;
        }
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError::new(self.pos, message)
    }

    fn found(&self) -> String {
        match self.text[self.pos..].chars().next() {
            None => "end of file".to_string(),
            Some(c) => format!("{c:?}"),
        }
    }

    fn expected(&self, what: &str) -> SyntaxError {
        self.error(format!("expected {what}, found {}", self.found()))
    }

    fn file(&mut self) -> TonelFile {
        let mut file = TonelFile::default();
        match self.definition() {
            Ok(d) => file.definition = Some(d),
            Err(e) => {
                // Without its definition nothing else in the file can be trusted.
                self.errors.push(e);
                return file;
            }
        }
        let owner = match &file.definition {
            Some(Definition::Class(c) | Definition::Trait(c)) => Some(c.name.clone()),
            Some(Definition::Extension { class_name }) => Some(class_name.clone()),
            _ => None,
        };
        loop {
            self.skip_whitespace();
            if self.at_end() {
                break;
            }
            let start = self.pos;
            match self.method(owner.as_deref()) {
                Ok(m) => file.methods.push(m),
                Err((e, resume)) => {
                    self.errors.push(e);
                    file.malformed_methods += 1;
                    match resume {
                        Some(pos) if pos > start => self.pos = pos,
                        _ => break,
                    }
                }
            }
        }
        file
    }

    /// The optional class comment and the `Class { ... }` (or other) definition.
    fn definition(&mut self) -> RResult<Definition> {
        self.skip_whitespace();
        let mut comment = None;
        if self.peek() == b'"' {
            comment = Some(self.comment()?);
            self.skip_whitespace();
        }
        let kind_start = self.pos;
        let kind = self.word();
        if !matches!(kind, "Class" | "Trait" | "Extension" | "Package") {
            self.pos = kind_start;
            return Err(self.expected("'Class', 'Trait', 'Extension' or 'Package' definition"));
        }
        self.skip_whitespace();
        let map_start = self.pos;
        let Ston::Map(entries) = self.ston_map()? else {
            unreachable!()
        };
        let span = Span::new(kind_start, self.pos);
        let allowed: &[&str] = match kind {
            "Class" => &[
                "name",
                "superclass",
                "instVars",
                "classVars",
                "classInstVars",
                "pools",
                "sharedPools",
                "category",
                "package",
                "tag",
                "type",
                "traits",
                "classTraits",
            ],
            "Trait" => &[
                "name",
                "instVars",
                "classInstVars",
                "category",
                "package",
                "tag",
                "traits",
                "classTraits",
            ],
            "Extension" => &["name"],
            _ => &["name", "tags"],
        };
        let mut def = ClassDefinition {
            comment,
            span,
            ..ClassDefinition::default()
        };
        let mut tags = Vec::new();
        let mut has_name = false;
        for (key, value, at) in &entries {
            let key_name = match key {
                Ston::Symbol(s) => s.as_str(),
                _ => return Err(SyntaxError::new(*at, "expected a #symbol key")),
            };
            if !allowed.contains(&key_name) {
                return Err(SyntaxError::new(
                    *at,
                    format!(
                        "unknown key #{key_name} in a {kind} definition; expected one of {}",
                        allowed
                            .iter()
                            .map(|k| format!("#{k}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            let text = |v: &Ston| -> RResult<String> {
                match v {
                    Ston::String(s) | Ston::Symbol(s) => Ok(s.clone()),
                    _ => Err(SyntaxError::new(
                        *at,
                        format!("expected a string for #{key_name}"),
                    )),
                }
            };
            let list = |v: &Ston| -> RResult<Vec<String>> {
                match v {
                    Ston::List(items) => items.iter().map(&text).collect(),
                    // Older Tonel writes space-separated names in one string.
                    Ston::String(s) => Ok(s.split_whitespace().map(str::to_string).collect()),
                    _ => Err(SyntaxError::new(
                        *at,
                        format!("expected a list of names for #{key_name}"),
                    )),
                }
            };
            match key_name {
                "name" => {
                    def.name = text(value)?;
                    has_name = true;
                }
                "superclass" => {
                    def.superclass = match value {
                        Ston::Nil => None,
                        v => Some(text(v)?),
                    }
                }
                "instVars" => def.inst_vars = list(value)?,
                "classVars" => def.class_vars = list(value)?,
                "classInstVars" => def.class_inst_vars = list(value)?,
                "pools" | "sharedPools" => def.pools = list(value)?,
                "category" => def.category = Some(text(value)?),
                "package" => def.package = Some(text(value)?),
                "tag" => def.tag = Some(text(value)?),
                "tags" => tags = list(value)?,
                "type" => {
                    let name = text(value)?;
                    def.layout = Layout::parse(&name).ok_or_else(|| {
                        SyntaxError::new(*at, format!("unknown class type #{name}"))
                    })?;
                }
                "traits" => def.traits = trait_composition(&text(value)?, *at)?,
                "classTraits" => def.class_traits = trait_composition(&text(value)?, *at)?,
                _ => unreachable!("key checked above"),
            }
        }
        if !has_name {
            return Err(SyntaxError::new(
                map_start,
                format!("a {kind} definition needs a #name"),
            ));
        }
        Ok(match kind {
            "Class" => Definition::Class(def),
            "Trait" => Definition::Trait(def),
            "Extension" => Definition::Extension {
                class_name: def.name,
            },
            _ => Definition::Package {
                name: def.name,
                tags,
            },
        })
    }

    /// A `"..."` comment with `""` standing for one quote.
    fn comment(&mut self) -> RResult<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.text[self.pos..].find('"') {
                None => {
                    return Err(SyntaxError::new(
                        start,
                        "unterminated class comment: expected a closing '\"'",
                    ))
                }
                Some(i) => {
                    out.push_str(&self.text[self.pos..self.pos + i]);
                    self.pos += i + 1;
                    if self.peek() == b'"' {
                        out.push('"');
                        self.pos += 1;
                    } else {
                        return Ok(out);
                    }
                }
            }
        }
    }

    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_ascii_alphanumeric() || self.peek() == b'_' {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    // ----- STON --------------------------------------------------------------

    fn ston_value(&mut self) -> RResult<Ston> {
        self.skip_whitespace();
        match self.peek() {
            b'{' => self.ston_map(),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_whitespace();
                    if self.peek() == b']' {
                        self.pos += 1;
                        return Ok(Ston::List(items));
                    }
                    if !items.is_empty() {
                        if self.peek() != b',' {
                            return Err(self.expected("',' or ']'"));
                        }
                        self.pos += 1;
                    }
                    items.push(self.ston_value()?);
                }
            }
            b'\'' => Ok(Ston::String(self.ston_string()?)),
            b'#' => {
                self.pos += 1;
                if self.peek() == b'\'' {
                    return Ok(Ston::Symbol(self.ston_string()?));
                }
                let start = self.pos;
                while self.peek().is_ascii_alphanumeric()
                    || matches!(self.peek(), b'_' | b':' | b'.' | b'/')
                {
                    self.pos += 1;
                }
                if start == self.pos {
                    return Err(self.expected("a symbol"));
                }
                Ok(Ston::Symbol(self.text[start..self.pos].to_string()))
            }
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                self.pos += 1;
                while self.peek().is_ascii_alphanumeric() || self.peek() == b'.' {
                    self.pos += 1;
                }
                Ok(Ston::Number(self.text[start..self.pos].to_string()))
            }
            _ => {
                let start = self.pos;
                match self.word() {
                    "nil" => Ok(Ston::Nil),
                    "true" => Ok(Ston::Bool(true)),
                    "false" => Ok(Ston::Bool(false)),
                    _ => {
                        self.pos = start;
                        Err(self.expected(
                            "a value ('string', #symbol, nil, a number, [list] or {map})",
                        ))
                    }
                }
            }
        }
    }

    /// `{ key : value, ... }`; entries keep the offset of their key.
    fn ston_map(&mut self) -> RResult<Ston> {
        if self.peek() != b'{' {
            return Err(self.expected("'{'"));
        }
        let open = self.pos;
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_whitespace();
            if self.peek() == b'}' {
                self.pos += 1;
                return Ok(Ston::Map(entries));
            }
            if self.at_end() {
                let (line, column) = crate::source::line_column(self.text, open);
                return Err(
                    self.expected(&format!("'}}' to close the map opened at {line}:{column}"))
                );
            }
            if !entries.is_empty() {
                if self.peek() != b',' {
                    return Err(self.expected("',' or '}'"));
                }
                self.pos += 1;
                self.skip_whitespace();
            }
            let at = self.pos;
            let key = self.ston_value()?;
            self.skip_whitespace();
            if self.peek() != b':' {
                return Err(self.expected("':' after the key"));
            }
            self.pos += 1;
            let value = self.ston_value()?;
            entries.push((key, value, at));
        }
    }

    /// `'...'` with STON's backslash escapes (and `''`, which Tonel also reads).
    fn ston_string(&mut self) -> RResult<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let unterminated = || SyntaxError::new(start, "unterminated string: expected a closing '");
        loop {
            let rest = &self.text[self.pos..];
            let i = rest.find(['\'', '\\']).ok_or_else(unterminated)?;
            out.push_str(&rest[..i]);
            self.pos += i;
            if self.peek() == b'\\' {
                let c = self.text[self.pos + 1..]
                    .chars()
                    .next()
                    .ok_or_else(unterminated)?;
                self.pos += 1 + c.len_utf8();
                match c {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => {
                        let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
                        let ch = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                        out.push(ch.ok_or_else(|| self.error("expected 4 hex digits after \\u"))?);
                        self.pos += 4;
                    }
                    other => out.push(other),
                }
            } else {
                self.pos += 1;
                if self.peek() == b'\'' {
                    out.push('\'');
                    self.pos += 1;
                } else {
                    return Ok(out);
                }
            }
        }
    }

    // ----- methods -----------------------------------------------------------

    /// One method definition. On error, answers where reading can resume.
    fn method(
        &mut self,
        owner: Option<&str>,
    ) -> Result<MethodDefinition, (SyntaxError, Option<usize>)> {
        let mut category = None;
        if self.peek() == b'{' {
            let map = self
                .ston_map()
                .map_err(|e| (e, self.next_definition_start()))?;
            if let Ston::Map(entries) = map {
                for (key, value, _) in entries {
                    if let (Ston::Symbol(k), Ston::String(v) | Ston::Symbol(v)) = (key, value) {
                        if k == "category" {
                            category = Some(v);
                        }
                    }
                }
            }
            self.skip_whitespace();
        }
        let header_start = self.pos;
        let resume_header = |r: &Reader| r.next_definition_start();
        let mut parser = Parser::new(self.text, self.pos).map_err(|e| (e, resume_header(self)))?;
        let (class_name, class_side) =
            method_owner(&mut parser).map_err(|e| (e, resume_header(self)))?;
        if let Some(owner) = owner {
            if class_name != owner {
                return Err((
                    SyntaxError::new(
                        header_start,
                        format!("method of '{class_name}' in a file that defines '{owner}'"),
                    ),
                    resume_header(self),
                ));
            }
        }
        let pattern_start = parser.token().start as usize;
        let result = parser.parse_method(BodyEnd::Bracket);
        match result {
            Ok(method) => {
                self.pos = method.span.end as usize;
                Ok(MethodDefinition {
                    class_name,
                    class_side,
                    category,
                    method,
                })
            }
            Err(e) => {
                let resume = match self.text[pattern_start..].find('[') {
                    Some(i) if self.text[pattern_start..pattern_start + i].lines().count() <= 1 => {
                        matching_bracket(self.text, pattern_start + i)
                    }
                    _ => self.next_definition_start(),
                };
                Err((e, resume))
            }
        }
    }

    /// The start of the next line that begins like a method definition
    /// (`{` metadata or a class name), after the current position.
    fn next_definition_start(&self) -> Option<usize> {
        let mut offset = self.pos;
        for line in self.text[self.pos..].split_inclusive('\n') {
            if offset > self.pos && line.starts_with(|c: char| c == '{' || c.is_ascii_uppercase()) {
                return Some(offset);
            }
            offset += line.len();
        }
        None
    }
}

/// `Foo >>`, `Foo class >>` or `TFoo classSide >>`.
fn method_owner(parser: &mut Parser) -> Result<(String, bool), SyntaxError> {
    if parser.token().kind != TokenKind::Identifier {
        return Err(parser.expected("a method definition ('ClassName >> selector [')"));
    }
    let name = parser.token_text().to_string();
    parser.advance()?;
    let mut class_side = false;
    if parser.token().kind == TokenKind::Identifier
        && matches!(parser.token_text(), "class" | "classSide")
    {
        class_side = true;
        parser.advance()?;
    }
    if !(parser.token().kind == TokenKind::Binary && parser.token_text() == ">>") {
        return Err(parser.expected("'>>' after the class name"));
    }
    parser.advance()?;
    Ok((name, class_side))
}

/// The offset just past the `]` matching the `[` at `open`, skipping strings,
/// comments and character literals; `None` when it is never closed.
pub fn matching_bracket(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'\'' | b'"' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
            }
            b'$' => i += 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Parses a trait composition expression (`#traits` or `#classTraits`).
fn trait_composition(text: &str, at: usize) -> RResult<TraitComposition> {
    let fail =
        |message: String| SyntaxError::new(at, format!("in trait composition '{text}': {message}"));
    if text.trim().is_empty() {
        return Ok(TraitComposition::default());
    }
    let expr = crate::parser::parse_expression(text).map_err(|e| fail(e.message))?;
    let mut uses = Vec::new();
    composition_uses(&expr, &mut uses).map_err(fail)?;
    Ok(TraitComposition { uses })
}

fn composition_uses(expr: &Expr, uses: &mut Vec<TraitUse>) -> Result<(), String> {
    match expr {
        Expr::Variable(v) => uses.push(TraitUse {
            trait_name: v.name.clone(),
            ..TraitUse::default()
        }),
        Expr::BraceArray(items, _) if items.is_empty() => {}
        Expr::Message(m) => match (m.selector.as_str(), &*m.receiver, m.arguments.first()) {
            ("classTrait" | "classSide", Expr::Variable(v), None) => uses.push(TraitUse {
                trait_name: v.name.clone(),
                class_side: true,
                ..TraitUse::default()
            }),
            ("+", left, Some(right)) => {
                composition_uses(left, uses)?;
                composition_uses(right, uses)?;
            }
            ("-", left, Some(right)) => {
                let first = uses.len();
                composition_uses(left, uses)?;
                let excluded = symbols(right)?;
                for u in &mut uses[first..] {
                    u.excluded.extend(excluded.iter().cloned());
                }
            }
            ("@", left, Some(right)) => {
                let first = uses.len();
                composition_uses(left, uses)?;
                let aliases = alias_pairs(right)?;
                for u in &mut uses[first..] {
                    u.aliases.extend(aliases.iter().cloned());
                }
            }
            (other, _, _) => return Err(format!("unexpected message '{other}'")),
        },
        _ => return Err("expected a trait name".to_string()),
    }
    Ok(())
}

/// `{#a. #b}` or `#(a b)`.
fn symbols(expr: &Expr) -> Result<Vec<String>, String> {
    use crate::literal::Literal;
    let symbol = |e: &Expr| match e {
        Expr::Literal(Literal::Symbol(s), _) => Ok(s.clone()),
        _ => Err("expected a selector (#name)".to_string()),
    };
    match expr {
        Expr::BraceArray(items, _) => items
            .iter()
            .map(|s| match s {
                p::Statement::Expression(e) => symbol(e),
                _ => Err("expected a selector (#name)".to_string()),
            })
            .collect(),
        Expr::Literal(Literal::Array(items), _) => items
            .iter()
            .map(|l| match l {
                Literal::Symbol(s) => Ok(s.clone()),
                _ => Err("expected a selector (#name)".to_string()),
            })
            .collect(),
        _ => Err("expected {#selector. ...} after '-'".to_string()),
    }
}

/// `{#alias -> #original. ...}`
fn alias_pairs(expr: &Expr) -> Result<Vec<(String, String)>, String> {
    use crate::literal::Literal;
    let Expr::BraceArray(items, _) = expr else {
        return Err("expected {#alias -> #original} after '@'".to_string());
    };
    items
        .iter()
        .map(|s| match s {
            p::Statement::Expression(Expr::Message(m)) if m.selector == "->" => {
                match (&*m.receiver, &m.arguments[0]) {
                    (
                        Expr::Literal(Literal::Symbol(a), _),
                        Expr::Literal(Literal::Symbol(b), _),
                    ) => Ok((a.clone(), b.clone())),
                    _ => Err("expected #alias -> #original".to_string()),
                }
            }
            _ => Err("expected #alias -> #original".to_string()),
        })
        .collect()
}
