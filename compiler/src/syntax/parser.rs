//! The Pharo parser: methods, do-its and expressions, to the Pharo AST.
//!
//! A recursive-descent parser over [`Lexer`] tokens with one token of
//! lookahead. It parses in place in a larger text (a Tonel file), so every
//! span is an offset in that text, and a method body can end at the `]` that
//! closes a Tonel method definition.

use crate::lexer::{Lexer, SyntaxError, Token, TokenKind};
use crate::literal::Literal;
use crate::number::parse_number;
use crate::pharo_ast::*;
use crate::source::Span;

type PResult<T> = Result<T, SyntaxError>;

/// How deeply expressions (parentheses, blocks, braces, assignments) and
/// literal arrays may nest: far beyond real code, and low enough that
/// malformed input gets an error instead of overflowing the stack.
pub const MAX_NESTING: usize = 256;

/// How deep the tree of an expression may be, counting each message of a
/// chain (`3 + 1 + 1 ...`, `x abs abs ...`: each send is the receiver of
/// the next) as well as each level of nesting. Conversion, printing,
/// code generation and dropping walk the tree recursively; a nesting
/// level costs the parser itself several frames, a message of a chain
/// none, so chains may be longer than nesting is deep. Measured: a chain
/// of 4,000 sends fits the 8 MB stack of a main thread, 16,000 do not.
pub const MAX_DEPTH: usize = 1024;

/// What ends a method body or a sequence of statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyEnd {
    /// The end of the text (a standalone method or do-it).
    Eof,
    /// The `]` closing a Tonel method definition.
    Bracket,
}

pub struct Parser<'a> {
    lexer: Lexer<'a>,
    token: Token,
    /// End of the last consumed token.
    previous_end: usize,
    /// Expressions and literal arrays being parsed, innermost last.
    nesting: usize,
    /// The depth of the tree being built: `nesting`, plus the messages of
    /// the chains being parsed.
    depth: usize,
}

impl<'a> Parser<'a> {
    /// A parser positioned at byte `start` of `text`.
    pub fn new(text: &'a str, start: usize) -> PResult<Parser<'a>> {
        let mut lexer = Lexer::new(text, start);
        let token = lexer.next_token()?;
        Ok(Parser {
            lexer,
            token,
            previous_end: start,
            nesting: 0,
            depth: 0,
        })
    }

    pub fn text(&self) -> &'a str {
        self.lexer.text()
    }

    /// The current (not yet consumed) token.
    pub fn token(&self) -> Token {
        self.token
    }

    pub fn token_text(&self) -> &'a str {
        &self.text()[self.token.start as usize..self.token.end as usize]
    }

    /// Repositions the parser at byte `pos`.
    pub fn reset(&mut self, pos: usize) -> PResult<()> {
        self.lexer.set_position(pos);
        self.previous_end = pos;
        self.token = self.lexer.next_token()?;
        Ok(())
    }

    /// Consumes the current token.
    pub fn advance(&mut self) -> PResult<Token> {
        let t = self.token;
        self.previous_end = t.end as usize;
        self.token = self.lexer.next_token()?;
        Ok(t)
    }

    fn at(&self, kind: TokenKind) -> bool {
        self.token.kind == kind
    }

    fn at_binary(&self, op: &str) -> bool {
        self.at(TokenKind::Binary) && self.token_text() == op
    }

    fn describe_token(&self) -> String {
        if self.at(TokenKind::Eof) {
            "end of input".to_string()
        } else {
            let text: String = self.token_text().chars().take(30).collect();
            format!("'{text}'")
        }
    }

    /// An error at the current token: "expected X, found Y".
    pub fn expected(&self, what: &str) -> SyntaxError {
        SyntaxError::new(
            self.token.start as usize,
            format!("expected {what}, found {}", self.describe_token()),
        )
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> PResult<Token> {
        if self.at(kind) {
            self.advance()
        } else {
            Err(self.expected(what))
        }
    }

    /// The text of a consumed token.
    fn slice(&self, t: Token) -> &'a str {
        &self.text()[t.start as usize..t.end as usize]
    }

    fn ident(&self, t: Token) -> Ident {
        Ident {
            name: self.text()[t.start as usize..t.end as usize].to_string(),
            span: t.span(),
        }
    }

    // ----- methods -----------------------------------------------------------

    /// A whole method: selector pattern, then body up to `end`.
    pub fn parse_method(&mut self, end: BodyEnd) -> PResult<Method> {
        let start = self.token.start as usize;
        // Comments before the selector (already skipped by the lookahead)
        // belong to the method too.
        let first_comment = self
            .lexer
            .comments
            .iter()
            .position(|c| c.start as usize >= self.previous_end)
            .unwrap_or(self.lexer.comments.len());
        let (selector, selector_parts, arguments) = self.parse_method_pattern()?;
        if end == BodyEnd::Bracket {
            self.expect(TokenKind::LeftBracket, "'[' to start the method body")?;
        }
        self.parse_method_rest(
            start,
            first_comment,
            selector,
            selector_parts,
            arguments,
            end,
        )
    }

    /// The body of a method whose pattern was parsed, up to `end` (consumed).
    fn parse_method_rest(
        &mut self,
        start: usize,
        first_comment: usize,
        selector: String,
        selector_parts: Vec<Span>,
        arguments: Vec<Ident>,
        end: BodyEnd,
    ) -> PResult<Method> {
        let body_start = self.token.start as usize;
        let mut pragmas = Vec::new();
        let mut temporaries = None;
        loop {
            if self.at_binary("<") {
                pragmas.push(self.parse_pragma()?);
            } else if temporaries.is_none() && (self.at_binary("|") || self.at_binary("||")) {
                temporaries = Some(self.parse_temporaries()?);
            } else {
                break;
            }
        }
        let statements = self.parse_statements(end)?;
        let body_end = self.previous_end;
        let end_token = self.token;
        match end {
            BodyEnd::Eof => {
                if !self.at(TokenKind::Eof) {
                    return Err(self.expected("'.' or end of input"));
                }
            }
            BodyEnd::Bracket => {
                self.expect(TokenKind::RightBracket, "']' to end the method")?;
            }
        }
        // A Tonel method ends at its `]`; a standalone one owns every
        // comment to the end of the text.
        let (span_end, comments_end) = match end {
            BodyEnd::Bracket => (end_token.end as usize, end_token.end as usize),
            BodyEnd::Eof => (body_end, usize::MAX),
        };
        let comments = self.take_comments(first_comment, comments_end);
        Ok(Method {
            selector,
            selector_parts,
            arguments,
            pragmas,
            body: Sequence {
                temporaries: temporaries.unwrap_or_default(),
                statements,
                span: Span::new(body_start, body_end.max(body_start)),
            },
            comments,
            span: Span::new(start, span_end),
        })
    }

    /// Comments recorded since index `first` that end before `end`.
    fn take_comments(&mut self, first: usize, end: usize) -> Vec<Comment> {
        let text = self.text();
        let comments = self.lexer.comments.get(first..).unwrap_or(&[]);
        let out = comments
            .iter()
            .filter(|s| s.end as usize <= end)
            .map(|s| Comment {
                text: text[s.start as usize + 1..s.end as usize - 1].to_string(),
                span: *s,
            })
            .collect();
        // Comments seen by lookahead past `end` belong to what follows.
        self.lexer.comments.retain(|s| (s.end as usize) > end);
        out
    }

    /// `foo`, `+ other`, or `at: index put: value`.
    pub fn parse_method_pattern(&mut self) -> PResult<(String, Vec<Span>, Vec<Ident>)> {
        match self.token.kind {
            TokenKind::Identifier => {
                let t = self.advance()?;
                Ok((self.slice(t).to_string(), vec![t.span()], vec![]))
            }
            TokenKind::Binary => {
                let t = self.advance()?;
                let arg = self.expect(TokenKind::Identifier, "an argument name")?;
                Ok((
                    self.slice(t).to_string(),
                    vec![t.span()],
                    vec![self.ident(arg)],
                ))
            }
            TokenKind::Keyword => {
                let mut selector = String::new();
                let mut parts = Vec::new();
                let mut args = Vec::new();
                while self.at(TokenKind::Keyword) {
                    let t = self.advance()?;
                    selector.push_str(self.slice(t));
                    parts.push(t.span());
                    let arg = self.expect(TokenKind::Identifier, "an argument name")?;
                    args.push(self.ident(arg));
                }
                Ok((selector, parts, args))
            }
            _ => Err(self.expected("a message pattern")),
        }
    }

    /// `| a b |` (the current token is `|` or `||`).
    fn parse_temporaries(&mut self) -> PResult<Vec<Ident>> {
        if self.at_binary("||") {
            self.advance()?;
            return Ok(Vec::new());
        }
        self.advance()?;
        let mut temps = Vec::new();
        while self.at(TokenKind::Identifier) {
            let t = self.advance()?;
            temps.push(self.ident(t));
        }
        if !self.at_binary("|") {
            return Err(self.expected("a temporary name or '|'"));
        }
        self.advance()?;
        Ok(temps)
    }

    /// `<primitive: 60>`, `<foo>`, `<foo: 1 bar: #baz>`, `<primitive: 60 error: ec>`.
    fn parse_pragma(&mut self) -> PResult<Pragma> {
        let start = self.advance()?.start as usize;
        let mut selector = String::new();
        let mut arguments = Vec::new();
        match self.token.kind {
            TokenKind::Identifier => {
                selector = self.token_text().to_string();
                self.advance()?;
            }
            TokenKind::Keyword => {
                while self.at(TokenKind::Keyword) {
                    selector.push_str(self.token_text());
                    self.advance()?;
                    arguments.push(self.parse_pragma_argument()?);
                }
            }
            TokenKind::Binary if !self.at_binary(">") => {
                selector = self.token_text().to_string();
                self.advance()?;
                arguments.push(self.parse_pragma_argument()?);
            }
            _ => return Err(self.expected("a pragma selector")),
        }
        if !self.at_binary(">") {
            return Err(self.expected("'>' to end the pragma"));
        }
        let end = self.advance()?.end as usize;
        Ok(Pragma {
            selector,
            arguments,
            span: Span::new(start, end),
        })
    }

    fn parse_pragma_argument(&mut self) -> PResult<PragmaArgument> {
        if self.at(TokenKind::Identifier) && !is_literal_name(self.token_text()) {
            let t = self.advance()?;
            return Ok(PragmaArgument::Name(self.ident(t)));
        }
        match self.try_parse_literal()? {
            Some((lit, span)) => Ok(PragmaArgument::Literal(lit, span)),
            None => Err(self.expected("a literal pragma argument")),
        }
    }

    // ----- statements --------------------------------------------------------

    /// A do-it: optional temporaries, then statements to the end of the text.
    pub fn parse_doit(&mut self) -> PResult<Sequence> {
        let start = self.token.start as usize;
        let temporaries = if self.at_binary("|") || self.at_binary("||") {
            self.parse_temporaries()?
        } else {
            Vec::new()
        };
        let statements = self.parse_statements(BodyEnd::Eof)?;
        if !self.at(TokenKind::Eof) {
            return Err(self.expected("'.' or end of input"));
        }
        Ok(Sequence {
            temporaries,
            statements,
            span: Span::new(start, self.previous_end.max(start)),
        })
    }

    /// Statements separated by periods, stopping before the terminator.
    fn parse_statements(&mut self, end: BodyEnd) -> PResult<Vec<Statement>> {
        match end {
            BodyEnd::Eof => self.parse_statement_list(TokenKind::Eof, "end of input", None),
            BodyEnd::Bracket => {
                self.parse_statement_list(TokenKind::RightBracket, "']' to end the method", None)
            }
        }
    }

    /// Statements up to (not including) a `closing` token, described as
    /// `closing_text` in errors, with where it was `opened` when given
    /// ("expected '.' or ']' to close the block opened at 3:5, found ...").
    fn parse_statement_list(
        &mut self,
        closing: TokenKind,
        closing_text: &str,
        opened: Option<Token>,
    ) -> PResult<Vec<Statement>> {
        // Line and column are only computed when there is an error to report.
        let describe = |p: &Self| match opened {
            Some(open) => p.opened(closing_text, open),
            None => closing_text.to_string(),
        };
        let mut statements = Vec::new();
        loop {
            while self.at(TokenKind::Period) {
                self.advance()?;
            }
            if self.at(closing) {
                return Ok(statements);
            }
            if self.at(TokenKind::Eof) {
                return Err(self.expected(&describe(self)));
            }
            statements.push(self.parse_statement()?);
            if self.at(TokenKind::Period) || self.at(closing) {
                continue;
            }
            return Err(if self.at(TokenKind::Eof) {
                self.expected(&describe(self))
            } else {
                self.expected(&format!("'.' or {}", describe(self)))
            });
        }
    }

    fn parse_statement(&mut self) -> PResult<Statement> {
        if self.at(TokenKind::Caret) {
            let start = self.advance()?.start as usize;
            let value = self.parse_expression()?;
            let span = Span::new(start, self.previous_end);
            return Ok(Statement::Return(value, span));
        }
        Ok(Statement::Expression(self.parse_expression()?))
    }

    // ----- expressions -------------------------------------------------------

    /// `a := b := expr`, or a cascade.
    pub fn parse_expression(&mut self) -> PResult<Expr> {
        self.nested(Self::parse_expression_unchecked)
    }

    /// Runs `parse` one nesting level deeper, failing past [`MAX_NESTING`]
    /// (or [`MAX_DEPTH`], inside long chains).
    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.nesting >= MAX_NESTING {
            return Err(self.expected(&format!("at most {MAX_NESTING} levels of nesting")));
        }
        self.deeper()?;
        self.nesting += 1;
        let result = parse(self);
        self.nesting -= 1;
        self.depth -= 1;
        result
    }

    /// Makes the tree one level deeper, failing past [`MAX_DEPTH`].
    fn deeper(&mut self) -> PResult<()> {
        if self.depth >= MAX_DEPTH {
            return Err(self.expected(&format!(
                "an expression at most {MAX_DEPTH} sends and nesting levels deep"
            )));
        }
        self.depth += 1;
        Ok(())
    }

    /// Starts a message chain (`a b c`, `1 + 2 + 3`): each message appended
    /// makes the tree one level deeper, so it counts against [`MAX_DEPTH`]
    /// (the converter, the printer and `Drop` all recurse on the tree).
    /// Answers the depth to restore when the chain ends.
    fn chain_start(&self) -> usize {
        self.depth
    }

    fn chain_link(&mut self) -> PResult<()> {
        self.deeper()
    }

    fn parse_expression_unchecked(&mut self) -> PResult<Expr> {
        let mut primary = None;
        if self.at(TokenKind::Identifier) {
            let t = self.advance()?;
            if self.at(TokenKind::Assign) {
                let target = self.ident(t);
                if is_reserved_name(&target.name) {
                    return Err(SyntaxError::new(
                        t.start as usize,
                        format!("cannot assign to '{}'", target.name),
                    ));
                }
                self.advance()?;
                let value = self.parse_expression()?;
                let span = Span::new(target.span.start as usize, self.previous_end);
                return Ok(Expr::Assignment(target, Box::new(value), span));
            }
            primary = Some(self.name_expression(t));
        }
        self.parse_cascade(primary)
    }

    /// A name in expression position: a variable, or `nil`/`true`/`false`.
    fn name_expression(&self, t: Token) -> Expr {
        match &self.text()[t.start as usize..t.end as usize] {
            "nil" => Expr::Literal(Literal::Nil, t.span()),
            "true" => Expr::Literal(Literal::True, t.span()),
            "false" => Expr::Literal(Literal::False, t.span()),
            _ => Expr::Variable(self.ident(t)),
        }
    }

    /// The levels below take the primary when the caller already consumed it.
    fn parse_cascade(&mut self, primary: Option<Expr>) -> PResult<Expr> {
        let first = self.parse_keyword_expression(primary)?;
        if !self.at(TokenKind::Semicolon) {
            return Ok(first);
        }
        let Expr::Message(first) = first else {
            return Err(SyntaxError::new(
                self.token.start as usize,
                "a cascade ';' must follow a message send",
            ));
        };
        let receiver = first.receiver;
        // The first message's span, like the others', starts at its selector.
        let first_start = first
            .selector_parts
            .first()
            .map_or(first.span.start, |p| p.start);
        let mut messages = vec![CascadeMessage {
            selector: first.selector,
            selector_parts: first.selector_parts,
            arguments: first.arguments,
            span: Span {
                start: first_start,
                end: first.span.end,
            },
        }];
        while self.at(TokenKind::Semicolon) {
            self.advance()?;
            messages.push(self.parse_cascade_message()?);
        }
        let span = receiver
            .span()
            .to(messages.last().map_or(receiver.span(), |m| m.span));
        Ok(Expr::Cascade(Cascade {
            receiver,
            messages,
            span,
        }))
    }

    /// One message after `;`: unary, binary or keyword, to the cascade receiver.
    fn parse_cascade_message(&mut self) -> PResult<CascadeMessage> {
        let start = self.token.start as usize;
        let (selector, parts, arguments) = match self.token.kind {
            TokenKind::Identifier => {
                let t = self.advance()?;
                (self.slice(t).to_string(), vec![t.span()], vec![])
            }
            TokenKind::Binary => {
                let t = self.advance()?;
                let arg = self.parse_unary_expression(None)?;
                (self.slice(t).to_string(), vec![t.span()], vec![arg])
            }
            TokenKind::Keyword => self.parse_keyword_parts()?,
            _ => return Err(self.expected("a message after ';'")),
        };
        Ok(CascadeMessage {
            selector,
            selector_parts: parts,
            arguments,
            span: Span::new(start, self.previous_end),
        })
    }

    fn parse_keyword_parts(&mut self) -> PResult<(String, Vec<Span>, Vec<Expr>)> {
        let mut selector = String::new();
        let mut parts = Vec::new();
        let mut args = Vec::new();
        while self.at(TokenKind::Keyword) {
            let t = self.advance()?;
            selector.push_str(self.slice(t));
            parts.push(t.span());
            args.push(self.parse_binary_expression(None)?);
        }
        // `x at: 1 foo:bar: 2`: `foo:bar:` is one token, with no argument.
        if self.at(TokenKind::MultiKeyword) {
            return Err(self.expected("a keyword followed by an argument"));
        }
        Ok((selector, parts, args))
    }

    fn parse_keyword_expression(&mut self, primary: Option<Expr>) -> PResult<Expr> {
        let receiver = self.parse_binary_expression(primary)?;
        if !self.at(TokenKind::Keyword) {
            if self.at(TokenKind::MultiKeyword) {
                return Err(self.expected("a keyword followed by an argument"));
            }
            return Ok(receiver);
        }
        let (selector, parts, arguments) = self.parse_keyword_parts()?;
        let span = Span::new(receiver.span().start as usize, self.previous_end);
        Ok(Expr::Message(Message {
            receiver: Box::new(receiver),
            selector,
            selector_parts: parts,
            arguments,
            span,
        }))
    }

    fn parse_binary_expression(&mut self, primary: Option<Expr>) -> PResult<Expr> {
        let mut receiver = self.parse_unary_expression(primary)?;
        let depth = self.chain_start();
        while self.at(TokenKind::Binary) {
            self.chain_link()?;
            let t = self.advance()?;
            let arg = self.parse_unary_expression(None)?;
            let span = Span::new(receiver.span().start as usize, self.previous_end);
            receiver = Expr::Message(Message {
                receiver: Box::new(receiver),
                selector: self.slice(t).to_string(),
                selector_parts: vec![t.span()],
                arguments: vec![arg],
                span,
            });
        }
        self.depth = depth;
        Ok(receiver)
    }

    fn parse_unary_expression(&mut self, primary: Option<Expr>) -> PResult<Expr> {
        let mut receiver = match primary {
            Some(p) => p,
            None => self.parse_primary()?,
        };
        let depth = self.chain_start();
        while self.at(TokenKind::Identifier) {
            self.chain_link()?;
            let t = self.advance()?;
            let span = receiver.span().to(t.span());
            receiver = Expr::Message(Message {
                receiver: Box::new(receiver),
                selector: self.slice(t).to_string(),
                selector_parts: vec![t.span()],
                arguments: vec![],
                span,
            });
        }
        self.depth = depth;
        Ok(receiver)
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        match self.token.kind {
            TokenKind::Identifier => {
                let t = self.advance()?;
                Ok(self.name_expression(t))
            }
            TokenKind::LeftBracket => self.parse_block().map(Expr::Block),
            TokenKind::LeftParen => {
                let open = self.advance()?;
                let inner = self.parse_expression()?;
                if !self.at(TokenKind::RightParen) {
                    return Err(self.unclosed("')' to close the parenthesis", open));
                }
                let close = self.advance()?;
                Ok(with_parentheses(
                    inner,
                    Span::new(open.start as usize, close.end as usize),
                ))
            }
            TokenKind::LeftBrace => {
                let open = self.advance()?;
                let elements = self.parse_statement_list(
                    TokenKind::RightBrace,
                    "'}' to close the brace array",
                    Some(open),
                )?;
                let end = self.advance()?.end as usize;
                Ok(Expr::BraceArray(
                    elements,
                    Span::new(open.start as usize, end),
                ))
            }
            _ => match self.try_parse_literal()? {
                Some((lit, span)) => Ok(Expr::Literal(lit, span)),
                None => Err(self.expected("an expression")),
            },
        }
    }

    /// "X opened at line:column", for errors about an unclosed bracket.
    fn opened(&self, what: &str, open: Token) -> String {
        let (line, column) = crate::source::line_column(self.text(), open.start as usize);
        format!("{what} opened at {line}:{column}")
    }

    /// "expected X opened at line:column, found Y" at the current token.
    fn unclosed(&self, what: &str, open: Token) -> SyntaxError {
        self.expected(&self.opened(what, open))
    }

    /// `[ :a :b | | t | statements ]`
    fn parse_block(&mut self) -> PResult<Block> {
        let open = self.advance()?;
        let mut arguments = Vec::new();
        let mut temporaries = Vec::new();
        let mut had_arguments = false;
        while self.at(TokenKind::Colon) {
            had_arguments = true;
            self.advance()?;
            let t = self.expect(TokenKind::Identifier, "a block argument name after ':'")?;
            arguments.push(self.ident(t));
        }
        if had_arguments {
            if self.at_binary("||") {
                // `[:x || t | ...]`: the argument bar and the temporaries' bar.
                self.token.start += 1;
                self.token.end = self.token.start + 1;
                temporaries = self.parse_temporaries()?;
            } else if self.at_binary("|") {
                self.advance()?;
            } else if !self.at(TokenKind::RightBracket) {
                return Err(self.expected("'|' after the block arguments"));
            }
        }
        let body_start = self.token.start as usize;
        if temporaries.is_empty() && (self.at_binary("|") || self.at_binary("||")) {
            temporaries = self.parse_temporaries()?;
        }
        let statements = self.parse_statement_list(
            TokenKind::RightBracket,
            "']' to close the block",
            Some(open),
        )?;
        let body_end = self.previous_end.max(body_start);
        let close = self.advance()?;
        Ok(Block {
            arguments,
            body: Sequence {
                temporaries,
                statements,
                span: Span::new(body_start, body_end),
            },
            span: Span::new(open.start as usize, close.end as usize),
        })
    }

    // ----- literals ----------------------------------------------------------

    /// A literal at the current token, or `None` when it is not one.
    /// `nil`, `true` and `false` are handled by the callers that allow them.
    fn try_parse_literal(&mut self) -> PResult<Option<(Literal, Span)>> {
        let t = self.token;
        let text = self.token_text();
        let lit = match t.kind {
            TokenKind::Number => {
                self.advance()?;
                self.number(text, false, t.start as usize)?
            }
            TokenKind::Binary if text == "-" && self.next_is_digit() => {
                self.advance()?;
                let n = self.token;
                let lit = self.number(self.token_text(), true, n.start as usize)?;
                self.advance()?;
                return Ok(Some((lit, Span::new(t.start as usize, n.end as usize))));
            }
            TokenKind::String => {
                self.advance()?;
                Literal::String(unquote(text))
            }
            TokenKind::Symbol => {
                self.advance()?;
                Literal::Symbol(symbol_value(text))
            }
            TokenKind::Character => {
                self.advance()?;
                Literal::Character(text[1..].chars().next().unwrap_or(' '))
            }
            TokenKind::LiteralArrayOpen => return self.parse_literal_array().map(Some),
            TokenKind::ByteArrayOpen => return self.parse_byte_array().map(Some),
            TokenKind::Identifier => match text {
                "nil" => {
                    self.advance()?;
                    Literal::Nil
                }
                "true" => {
                    self.advance()?;
                    Literal::True
                }
                "false" => {
                    self.advance()?;
                    Literal::False
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        Ok(Some((lit, t.span())))
    }

    /// Whether the current `-` token is immediately followed by a digit.
    fn next_is_digit(&self) -> bool {
        self.text()
            .as_bytes()
            .get(self.token.end as usize)
            .is_some_and(u8::is_ascii_digit)
    }

    fn number(&self, text: &str, negative: bool, at: usize) -> PResult<Literal> {
        parse_number(text, negative).map_err(|m| SyntaxError::new(at, m))
    }

    /// `#( ... )`, the current token being `#(` (or `(` inside an array).
    fn parse_literal_array(&mut self) -> PResult<(Literal, Span)> {
        let open = self.advance()?;
        let mut elements = Vec::new();
        loop {
            let t = self.token;
            let text = self.token_text();
            match t.kind {
                TokenKind::RightParen => break,
                TokenKind::LeftParen | TokenKind::LiteralArrayOpen => {
                    elements.push(self.nested(Self::parse_literal_array)?.0);
                }
                TokenKind::LeftBracket | TokenKind::ByteArrayOpen => {
                    elements.push(self.parse_byte_array()?.0);
                }
                TokenKind::Identifier if !is_literal_name(text) => {
                    self.advance()?;
                    elements.push(Literal::Symbol(text.to_string()));
                }
                TokenKind::Keyword | TokenKind::MultiKeyword => {
                    self.advance()?;
                    elements.push(Literal::Symbol(text.to_string()));
                }
                TokenKind::Binary if !(text == "-" && self.next_is_digit()) => {
                    self.advance()?;
                    elements.push(Literal::Symbol(text.to_string()));
                }
                // Special characters are Symbols in a literal array, as in
                // Pharo (FFI structure definitions: `#( int x; int y )`).
                TokenKind::Period
                | TokenKind::Semicolon
                | TokenKind::Caret
                | TokenKind::Colon
                | TokenKind::LeftBrace
                | TokenKind::RightBrace => {
                    self.advance()?;
                    elements.push(Literal::Symbol(text.to_string()));
                }
                TokenKind::Eof => return Err(self.unclosed("')' to close the literal array", open)),
                _ => match self.try_parse_literal()? {
                    Some((lit, _)) => elements.push(lit),
                    None => return Err(self.expected("a literal or ')'")),
                },
            }
        }
        let close = self.advance()?;
        Ok((
            Literal::Array(elements),
            Span::new(open.start as usize, close.end as usize),
        ))
    }

    /// `#[1 2 255]`
    fn parse_byte_array(&mut self) -> PResult<(Literal, Span)> {
        let open = self.advance()?;
        let mut bytes = Vec::new();
        while self.at(TokenKind::Number) {
            let t = self.advance()?;
            let text = &self.text()[t.start as usize..t.end as usize];
            match self.number(text, false, t.start as usize)? {
                Literal::Integer(v) if (0..=255).contains(&v) => bytes.push(v as u8),
                _ => {
                    return Err(SyntaxError::new(
                        t.start as usize,
                        format!("byte array elements must be integers from 0 to 255, not {text}"),
                    ))
                }
            }
        }
        if !self.at(TokenKind::RightBracket) {
            return Err(if self.at(TokenKind::Eof) {
                self.unclosed("']' to close the byte array", open)
            } else {
                self.expected("an integer from 0 to 255 or ']'")
            });
        }
        let close = self.advance()?;
        Ok((
            Literal::ByteArray(bytes),
            Span::new(open.start as usize, close.end as usize),
        ))
    }
}

/// A parenthesized expression: its span covers the parentheses, as the
/// start and stop of a Pharo node do. A variable keeps the span of its name.
fn with_parentheses(mut expr: Expr, outer: Span) -> Expr {
    match &mut expr {
        Expr::Variable(_) => {}
        Expr::Literal(_, span) | Expr::Assignment(_, _, span) | Expr::BraceArray(_, span) => {
            *span = outer
        }
        Expr::Message(m) => m.span = outer,
        Expr::Cascade(c) => c.span = outer,
        Expr::Block(b) => b.span = outer,
    }
    expr
}

/// `self`, `super`, `thisContext`, `nil`, `true`, `false`.
pub fn is_reserved_name(name: &str) -> bool {
    matches!(
        name,
        "self" | "super" | "thisContext" | "nil" | "true" | "false"
    )
}

fn is_literal_name(name: &str) -> bool {
    matches!(name, "nil" | "true" | "false")
}

/// The contents of `'...'` with `''` turned back into `'`.
fn unquote(text: &str) -> String {
    let inner = &text[1..text.len() - 1];
    if inner.contains('\'') {
        inner.replace("''", "'")
    } else {
        inner.to_string()
    }
}

/// The name of a symbol token: `#foo:` is `foo:`, `#'a b'` is `a b`.
fn symbol_value(text: &str) -> String {
    let name = text.trim_start_matches('#');
    if name.starts_with('\'') {
        unquote(name)
    } else {
        name.to_string()
    }
}

/// Parses a standalone method (selector pattern and body, to end of text).
pub fn parse_method(text: &str) -> PResult<Method> {
    Parser::new(text, 0)?.parse_method(BodyEnd::Eof)
}

/// Parses a do-it: `| temps | statements`, as `zag eval` takes it.
pub fn parse_doit(text: &str) -> PResult<Sequence> {
    Parser::new(text, 0)?.parse_doit()
}

/// Parses one expression spanning the whole text.
pub fn parse_expression(text: &str) -> PResult<Expr> {
    let mut parser = Parser::new(text, 0)?;
    let expr = parser.parse_expression()?;
    if !parser.at(TokenKind::Eof) {
        return Err(parser.expected("end of input"));
    }
    Ok(expr)
}
