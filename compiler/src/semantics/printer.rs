//! Zag AST → Pharo source. The output re-parses to an equal Zag AST: that
//! is how a method's source is reconstituted from its AST.

use crate::literal::Literal;
use crate::number::{format_float, format_scaled};
use crate::zag_ast::*;

/// The source of `method`, Pharo style: selector pattern, pragmas,
/// temporaries, then one statement per line, tab-indented.
pub fn print_method(method: &Method) -> String {
    let mut p = Printer {
        method,
        out: String::new(),
    };
    p.pattern();
    if let Some(prim) = &method.primitive {
        p.out.push_str("\n\t");
        p.primitive(prim);
    }
    for pragma in &method.pragmas {
        p.out.push_str("\n\t");
        p.pragma(pragma);
    }
    if !method.temporaries.is_empty() {
        p.out.push_str("\n\t");
        p.temporaries(&method.temporaries);
    }
    for (i, node) in method.body.iter().enumerate() {
        p.out.push_str(if i == 0 { "\n\t" } else { ".\n\t" });
        p.statement(node);
    }
    p.out
}

/// The source of one expression or statement of `method`.
pub fn print_node(method: &Method, node: &Node) -> String {
    let mut p = Printer {
        method,
        out: String::new(),
    };
    p.statement(node);
    p.out
}

/// A literal as Pharo source (`#(1 $a 'it''s' #foo)`).
pub fn print_literal(literal: &Literal) -> String {
    let mut out = String::new();
    literal_into(&mut out, literal, false);
    out
}

/// Binding strength of an expression: what may appear unparenthesized where.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Primary,
    Unary,
    Binary,
    Keyword,
    Cascade,
    Assignment,
}

fn selector_level(selector: &str) -> Level {
    if selector.ends_with(':') {
        Level::Keyword
    } else if selector
        .chars()
        .next()
        .is_some_and(crate::lexer::is_binary_char)
    {
        Level::Binary
    } else {
        Level::Unary
    }
}

/// The most loosely bound receiver a message of `selector` accepts.
fn receiver_limit(selector: &str) -> Level {
    match selector_level(selector) {
        Level::Unary => Level::Unary,
        _ => Level::Binary,
    }
}

fn argument_limit(selector: &str) -> Level {
    match selector_level(selector) {
        Level::Binary => Level::Unary,
        _ => Level::Binary,
    }
}

struct Printer<'a> {
    method: &'a Method,
    out: String,
}

impl<'a> Printer<'a> {
    /// A local's name; borrowed from the method, not from the printer, so it
    /// can be pushed onto `out` without a copy.
    fn name(&self, id: LocalId) -> &'a str {
        &self.method.local(id).name
    }

    fn pattern(&mut self) {
        let m = self.method;
        match selector_level(&m.selector) {
            Level::Unary => self.out.push_str(&m.selector),
            Level::Binary => {
                self.out.push_str(&m.selector);
                self.out.push(' ');
                self.out.push_str(self.name(m.arguments[0]));
            }
            _ => {
                for (keyword, arg) in keywords(&m.selector).zip(&m.arguments) {
                    if !self.out.is_empty() {
                        self.out.push(' ');
                    }
                    self.out.push_str(keyword);
                    self.out.push(' ');
                    self.out.push_str(self.name(*arg));
                }
            }
        }
    }

    fn primitive(&mut self, prim: &Primitive) {
        match &prim.index {
            PrimitiveIndex::Number(n) => self.out.push_str(&format!("<primitive: {n}")),
            PrimitiveIndex::Named { name, module } => {
                self.out.push_str(&format!(
                    "<primitive: {}",
                    print_literal(&Literal::String(name.clone()))
                ));
                if !module.is_empty() {
                    self.out.push_str(&format!(
                        " module: {}",
                        print_literal(&Literal::String(module.clone()))
                    ));
                }
            }
        }
        if let Some(ec) = prim.error_code {
            self.out.push_str(" error: ");
            self.out.push_str(self.name(ec));
        }
        self.out.push('>');
    }

    fn pragma(&mut self, pragma: &Pragma) {
        self.out.push('<');
        if pragma.arguments.is_empty() {
            self.out.push_str(&pragma.selector);
        } else if selector_level(&pragma.selector) == Level::Binary {
            self.out.push_str(&pragma.selector);
            self.out.push(' ');
            literal_into(&mut self.out, &pragma.arguments[0], false);
        } else {
            for (i, (keyword, arg)) in keywords(&pragma.selector)
                .zip(&pragma.arguments)
                .enumerate()
            {
                if i > 0 {
                    self.out.push(' ');
                }
                self.out.push_str(keyword);
                self.out.push(' ');
                literal_into(&mut self.out, arg, false);
            }
        }
        // `<a: #+>` would read back as the symbol `#+>`.
        if self.out.ends_with(crate::lexer::is_binary_char) {
            self.out.push(' ');
        }
        self.out.push('>');
    }

    fn temporaries(&mut self, temps: &[LocalId]) {
        self.out.push('|');
        for t in temps {
            self.out.push(' ');
            self.out.push_str(self.name(*t));
        }
        self.out.push_str(" |");
    }

    fn statement(&mut self, node: &Node) {
        match node {
            Node::Return { value, .. } => {
                self.out.push_str("^ ");
                self.expr(value, Level::Assignment);
            }
            _ => self.expr(node, Level::Assignment),
        }
    }

    fn statements(&mut self, nodes: &[Node]) {
        for (i, node) in nodes.iter().enumerate() {
            if i > 0 {
                self.out.push_str(". ");
            }
            self.statement(node);
        }
    }

    /// Prints `node`, parenthesized when it binds more loosely than `limit`.
    fn expr(&mut self, node: &Node, limit: Level) {
        let level = match node {
            Node::Send(s) => selector_level(&s.selector),
            Node::Cascade(_) => Level::Cascade,
            Node::Assign(..) => Level::Assignment,
            // A return can only be a statement; inside braces it needs no parens.
            _ => Level::Primary,
        };
        if level > limit {
            self.out.push('(');
            self.expr(node, Level::Assignment);
            self.out.push(')');
            return;
        }
        match node {
            Node::Literal(l, _) => literal_into(&mut self.out, l, false),
            Node::Variable(v, _) => self.var(v),
            Node::Assign(v, value, _) => {
                self.var(v);
                self.out.push_str(" := ");
                self.expr(value, Level::Assignment);
            }
            Node::Send(s) => {
                self.expr(&s.receiver, receiver_limit(&s.selector));
                self.message(&s.selector, &s.arguments);
            }
            Node::Cascade(c) => {
                let first = c.messages.first().map_or("", |m| m.selector.as_str());
                self.expr(&c.receiver, receiver_limit(first));
                for (i, m) in c.messages.iter().enumerate() {
                    if i > 0 {
                        self.out.push(';');
                    }
                    self.message(&m.selector, &m.arguments);
                }
            }
            Node::Brace(elements, _) => {
                self.out.push('{');
                if !elements.is_empty() {
                    self.out.push(' ');
                    self.statements(elements);
                    self.out.push(' ');
                }
                self.out.push('}');
            }
            Node::Block(b) => self.block(b),
            Node::Return { .. } => self.statement(node),
        }
    }

    fn message(&mut self, selector: &str, arguments: &[Node]) {
        let limit = argument_limit(selector);
        if arguments.is_empty() {
            self.out.push(' ');
            self.out.push_str(selector);
        } else if selector_level(selector) == Level::Binary {
            self.out.push(' ');
            self.out.push_str(selector);
            self.out.push(' ');
            self.expr(&arguments[0], limit);
        } else {
            for (keyword, arg) in keywords(selector).zip(arguments) {
                self.out.push(' ');
                self.out.push_str(keyword);
                self.out.push(' ');
                self.expr(arg, limit);
            }
        }
    }

    fn block(&mut self, b: &Block) {
        self.out.push('[');
        for a in &b.arguments {
            self.out.push_str(" :");
            self.out.push_str(self.name(*a));
        }
        if !b.arguments.is_empty() {
            self.out.push_str(" |");
        }
        if !b.temporaries.is_empty() {
            self.out.push(' ');
            self.temporaries(&b.temporaries);
        }
        if !b.body.is_empty() {
            self.out.push(' ');
            self.statements(&b.body);
        }
        self.out.push_str(" ]");
    }

    fn var(&mut self, v: &Var) {
        let text = match v {
            Var::SelfRef => "self",
            Var::Super => "super",
            Var::ThisContext => "thisContext",
            Var::Local(id) => self.name(*id),
            Var::InstVar { name, .. }
            | Var::ClassInstVar { name, .. }
            | Var::ClassVar { name, .. }
            | Var::PoolVar { name, .. }
            | Var::Global(name) => name,
        };
        self.out.push_str(text);
    }
}

/// The keywords of a keyword selector: `at:put:` gives `at:`, `put:`.
fn keywords(selector: &str) -> impl Iterator<Item = &str> {
    selector.split_inclusive(':')
}

fn literal_into(out: &mut String, literal: &Literal, in_array: bool) {
    match literal {
        Literal::Nil => out.push_str("nil"),
        Literal::True => out.push_str("true"),
        Literal::False => out.push_str("false"),
        Literal::Integer(i) => out.push_str(&i.to_string()),
        Literal::LargeInteger(b) => out.push_str(&b.to_string()),
        Literal::Float(f) => out.push_str(&format_float(f.0)),
        Literal::ScaledDecimal {
            mantissa,
            decimals,
            scale,
        } => out.push_str(&format_scaled(mantissa, *decimals, *scale)),
        Literal::Character(c) => {
            out.push('$');
            out.push(*c);
        }
        Literal::String(s) => quoted_into(out, s),
        Literal::Symbol(s) => {
            out.push('#');
            if is_plain_symbol(s) {
                out.push_str(s);
            } else {
                quoted_into(out, s);
            }
        }
        Literal::Array(elements) => {
            out.push_str(if in_array { "(" } else { "#(" });
            for (i, e) in elements.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                literal_into(out, e, true);
            }
            out.push(')');
        }
        Literal::ByteArray(bytes) => {
            out.push_str("#[");
            let items: Vec<String> = bytes.iter().map(u8::to_string).collect();
            out.push_str(&items.join(" "));
            out.push(']');
        }
    }
}

fn quoted_into(out: &mut String, s: &str) {
    out.push('\'');
    out.push_str(&s.replace('\'', "''"));
    out.push('\'');
}

/// Whether `#name` reads back as this symbol without quotes.
fn is_plain_symbol(s: &str) -> bool {
    let letter =
        |c: char| c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && c.is_alphabetic());
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if letter(c) => chars.all(|c| letter(c) || c.is_ascii_digit() || c == ':'),
        Some(c) if crate::lexer::is_binary_char(c) => s.chars().all(crate::lexer::is_binary_char),
        _ => false,
    }
}
