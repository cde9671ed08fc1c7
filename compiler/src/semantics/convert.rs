//! Pharo AST → Zag AST: resolves every name, declares locals, marks inlined
//! blocks, and computes what each real block captures.

use crate::environment::ClassScope;
use crate::lexer::SyntaxError;
use crate::literal::Literal;
use crate::pharo_ast as p;
use crate::zag_ast::*;

type CResult<T> = Result<T, SyntaxError>;

/// Converts a parsed method compiled in `scope`'s class.
pub fn convert_method(method: &p::Method, scope: &ClassScope) -> CResult<Method> {
    let mut c = Converter::new(scope);
    c.push_scope(true);
    let arguments = c.declare_all(&method.arguments, LocalKind::Argument)?;
    let (primitive, pragmas) = c.pragmas(&method.pragmas)?;
    let temporaries = c.declare_all(&method.body.temporaries, LocalKind::Temporary)?;
    let body = c.statements(&method.body.statements)?;
    c.pop_scope();
    Ok(Method {
        class_name: scope.class_name.clone(),
        class_side: scope.class_side,
        selector: method.selector.clone(),
        arguments,
        temporaries,
        primitive,
        pragmas,
        body,
        locals: c.locals,
        uses_this_context: c.uses_this_context,
        pos: Pos(method.span.start),
    })
}

/// Converts a do-it (as `zag eval` and the REPL take it) into a method named
/// `DoIt` compiled in `scope`. As in Pharo, a do-it answers the value of its
/// last statement.
pub fn convert_doit(sequence: &p::Sequence, scope: &ClassScope) -> CResult<Method> {
    let mut body = sequence.clone();
    if let Some(p::Statement::Expression(last)) = body.statements.pop() {
        let span = last.span();
        body.statements.push(p::Statement::Return(last, span));
    } else if let Some(p::Statement::Return(e, span)) = sequence.statements.last() {
        body.statements.push(p::Statement::Return(e.clone(), *span));
    }
    let method = p::Method {
        selector: "DoIt".to_string(),
        selector_parts: Vec::new(),
        arguments: Vec::new(),
        pragmas: Vec::new(),
        body,
        comments: Vec::new(),
        span: sequence.span,
    };
    convert_method(&method, scope)
}

struct Frame {
    /// The real scope holding this frame's locals.
    scope: ScopeId,
    /// Locals declared in this frame (their names are in `Converter::locals`).
    declared: Vec<LocalId>,
}

/// A real block being converted: what it uses from outside.
struct OpenBlock {
    scope: ScopeId,
    captures: Vec<Capture>,
    uses_self: bool,
    has_non_local_return: bool,
}

struct Converter<'a> {
    class: &'a ClassScope,
    locals: Vec<Local>,
    frames: Vec<Frame>,
    open_blocks: Vec<OpenBlock>,
    next_scope: ScopeId,
    uses_this_context: bool,
}

impl<'a> Converter<'a> {
    fn new(class: &'a ClassScope) -> Converter<'a> {
        Converter {
            class,
            locals: Vec::new(),
            frames: Vec::new(),
            open_blocks: Vec::new(),
            next_scope: 0,
            uses_this_context: false,
        }
    }

    /// The real scope code is being compiled in.
    fn current_scope(&self) -> ScopeId {
        self.frames.last().map_or(0, |f| f.scope)
    }

    /// Opens a frame: a new real scope, or (inlined) one sharing the
    /// enclosing real scope. Answers the scope id.
    fn push_scope(&mut self, real: bool) -> ScopeId {
        let scope = if real {
            let s = self.next_scope;
            self.next_scope += 1;
            s
        } else {
            self.current_scope()
        };
        self.frames.push(Frame {
            scope,
            declared: Vec::new(),
        });
        scope
    }

    fn pop_scope(&mut self) {
        self.frames.pop();
    }

    fn declare_all(&mut self, names: &[p::Ident], kind: LocalKind) -> CResult<Vec<LocalId>> {
        names.iter().map(|n| self.declare(n, kind)).collect()
    }

    fn declare(&mut self, name: &p::Ident, kind: LocalKind) -> CResult<LocalId> {
        if crate::parser::is_reserved_name(&name.name) {
            return Err(SyntaxError::new(
                name.span.start as usize,
                format!("'{}' is reserved and cannot be declared", name.name),
            ));
        }
        let frame = self.frames.last_mut().expect("a scope is open");
        if frame
            .declared
            .iter()
            .any(|&id| self.locals[id as usize].name == name.name)
        {
            return Err(SyntaxError::new(
                name.span.start as usize,
                format!("'{}' is already declared in this scope", name.name),
            ));
        }
        if self.locals.len() > LocalId::MAX as usize {
            return Err(SyntaxError::new(
                name.span.start as usize,
                "too many temporaries in one method",
            ));
        }
        let id = self.locals.len() as LocalId;
        frame.declared.push(id);
        self.locals.push(Local {
            name: name.name.clone(),
            kind,
            scope: frame.scope,
            captured: false,
            written_by_closure: false,
            assigned: false,
        });
        Ok(id)
    }

    fn pragmas(&mut self, pragmas: &[p::Pragma]) -> CResult<(Option<Primitive>, Vec<Pragma>)> {
        let mut primitive = None;
        let mut others = Vec::new();
        for pragma in pragmas {
            let at = pragma.span.start as usize;
            if pragma.selector.starts_with("primitive:") {
                if primitive.is_some() {
                    return Err(SyntaxError::new(at, "a method can have only one primitive"));
                }
                primitive = Some(self.primitive(pragma)?);
                continue;
            }
            let arguments = pragma
                .arguments
                .iter()
                .map(|a| match a {
                    p::PragmaArgument::Literal(l, _) => Ok(l.clone()),
                    p::PragmaArgument::Name(n) => Err(SyntaxError::new(
                        n.span.start as usize,
                        format!("pragma arguments must be literals, not '{}'", n.name),
                    )),
                })
                .collect::<CResult<_>>()?;
            others.push(Pragma {
                selector: pragma.selector.clone(),
                arguments,
            });
        }
        Ok((primitive, others))
    }

    /// Every form Pharo's compiler accepts: `primitive: N` or `primitive:
    /// 'name'`, then optionally `module: 'module'` (for a name) and
    /// `error: ec` (a name or a Symbol), in either order.
    fn primitive(&mut self, pragma: &p::Pragma) -> CResult<Primitive> {
        let at = pragma.span.start as usize;
        let bad = || {
            SyntaxError::new(
                at,
                format!(
                    "expected <primitive: N> or <primitive: 'name'>, optionally with \
                     module: 'module' and error: name, found <{} ...>",
                    pragma.selector
                ),
            )
        };
        let keywords: Vec<&str> = pragma.selector.split_terminator(':').collect();
        if keywords.len() != pragma.arguments.len() {
            return Err(bad());
        }
        let (mut index, mut module, mut error) = (None, None, None);
        for (keyword, argument) in keywords.iter().zip(&pragma.arguments) {
            match (*keyword, argument) {
                ("primitive", p::PragmaArgument::Literal(Literal::Integer(n), _))
                    if index.is_none() =>
                {
                    index = Some(PrimitiveIndex::Number(
                        u32::try_from(*n).map_err(|_| bad())?,
                    ));
                }
                ("primitive", p::PragmaArgument::Literal(Literal::String(name), _))
                    if index.is_none() =>
                {
                    index = Some(PrimitiveIndex::Named {
                        name: name.clone(),
                        module: String::new(),
                    });
                }
                ("module", p::PragmaArgument::Literal(Literal::String(m), _))
                    if module.is_none() =>
                {
                    module = Some(m.clone());
                }
                ("error", p::PragmaArgument::Name(name)) if error.is_none() => {
                    error = Some(name.clone());
                }
                ("error", p::PragmaArgument::Literal(Literal::Symbol(name), span))
                    if error.is_none() =>
                {
                    error = Some(p::Ident {
                        name: name.clone(),
                        span: *span,
                    });
                }
                _ => return Err(bad()),
            }
        }
        let index = match (index, module) {
            (Some(PrimitiveIndex::Named { name, .. }), Some(module)) => {
                PrimitiveIndex::Named { name, module }
            }
            // A module names where a named primitive is.
            (Some(PrimitiveIndex::Number(_)), Some(_)) | (None, _) => return Err(bad()),
            (Some(index), None) => index,
        };
        let error_code = match error {
            Some(name) => Some(self.declare(&name, LocalKind::PrimitiveError)?),
            None => None,
        };
        Ok(Primitive { index, error_code })
    }

    fn statements(&mut self, statements: &[p::Statement]) -> CResult<Vec<Node>> {
        statements.iter().map(|s| self.statement(s)).collect()
    }

    fn statement(&mut self, statement: &p::Statement) -> CResult<Node> {
        match statement {
            p::Statement::Expression(e) => self.expr(e),
            p::Statement::Return(e, span) => {
                let value = self.expr(e)?;
                let non_local = !self.open_blocks.is_empty();
                for b in &mut self.open_blocks {
                    b.has_non_local_return = true;
                }
                Ok(Node::Return {
                    value: Box::new(value),
                    non_local,
                    pos: Pos(span.start),
                })
            }
        }
    }

    fn expr(&mut self, expr: &p::Expr) -> CResult<Node> {
        Ok(match expr {
            p::Expr::Variable(name) => {
                Node::Variable(self.resolve(name, false)?, Pos(name.span.start))
            }
            p::Expr::Literal(l, span) => Node::Literal(l.clone(), Pos(span.start)),
            p::Expr::Assignment(target, value, span) => {
                let value = self.expr(value)?;
                let var = self.resolve(target, true)?;
                Node::Assign(var, Box::new(value), Pos(span.start))
            }
            p::Expr::Message(m) => Node::Send(self.send(m)?),
            p::Expr::Cascade(c) => {
                let is_super = is_super(&c.receiver);
                let receiver = Box::new(self.expr(&c.receiver)?);
                let messages = c
                    .messages
                    .iter()
                    .map(|m| {
                        Ok(CascadeMessage {
                            selector: m.selector.clone(),
                            arguments: m
                                .arguments
                                .iter()
                                .map(|a| self.expr(a))
                                .collect::<CResult<_>>()?,
                            pos: Pos(m.span.start),
                        })
                    })
                    .collect::<CResult<_>>()?;
                Node::Cascade(Cascade {
                    receiver,
                    messages,
                    is_super,
                    pos: Pos(c.span.start),
                })
            }
            p::Expr::Block(b) => Node::Block(Box::new(self.block(b, false)?)),
            p::Expr::BraceArray(elements, span) => {
                Node::Brace(self.statements(elements)?, Pos(span.start))
            }
        })
    }

    fn send(&mut self, m: &p::Message) -> CResult<Send> {
        let inline =
            inline_shape(&m.selector).filter(|shape| shape.matches(&m.receiver, &m.arguments));
        let receiver = match (&*m.receiver, inline) {
            (p::Expr::Block(b), Some(shape)) if shape.receiver_block => {
                Node::Block(Box::new(self.block(b, true)?))
            }
            (r, _) => self.expr(r)?,
        };
        let mut arguments = Vec::with_capacity(m.arguments.len());
        for (i, a) in m.arguments.iter().enumerate() {
            arguments.push(match (a, inline) {
                (p::Expr::Block(b), Some(shape))
                    if matches!(shape.arguments[i], BlockArg::Arity(_) | BlockArg::ZeroOrOne) =>
                {
                    Node::Block(Box::new(self.block(b, true)?))
                }
                _ => self.expr(a)?,
            });
        }
        Ok(Send {
            is_super: is_super(&m.receiver),
            receiver: Box::new(receiver),
            selector: m.selector.clone(),
            arguments,
            pos: Pos(m.span.start),
        })
    }

    fn block(&mut self, b: &p::Block, inlined: bool) -> CResult<Block> {
        let scope = self.push_scope(!inlined);
        if !inlined {
            self.open_blocks.push(OpenBlock {
                scope,
                captures: Vec::new(),
                uses_self: false,
                has_non_local_return: false,
            });
        }
        let arguments = self.declare_all(&b.arguments, LocalKind::Argument)?;
        let temporaries = self.declare_all(&b.body.temporaries, LocalKind::Temporary)?;
        let body = self.statements(&b.body.statements);
        self.pop_scope();
        let (captures, uses_self, has_non_local_return) = if inlined {
            (
                Vec::new(),
                false,
                body.as_ref().is_ok_and(|b| contains_return(b)),
            )
        } else {
            let open = self.open_blocks.pop().expect("block was opened");
            (open.captures, open.uses_self, open.has_non_local_return)
        };
        Ok(Block {
            scope,
            arguments,
            temporaries,
            body: body?,
            inlined,
            captures,
            uses_self,
            has_non_local_return,
            pos: Pos(b.span.start),
        })
    }

    /// Marks the open real blocks as needing the receiver.
    fn note_self_use(&mut self) {
        for b in &mut self.open_blocks {
            b.uses_self = true;
        }
    }

    fn resolve(&mut self, name: &p::Ident, assigning: bool) -> CResult<Var> {
        let at = name.span.start as usize;
        let n = name.name.as_str();
        let pseudo = match n {
            "self" => Some(Var::SelfRef),
            "super" => Some(Var::Super),
            "thisContext" => {
                self.uses_this_context = true;
                Some(Var::ThisContext)
            }
            _ => None,
        };
        if let Some(var) = pseudo {
            if assigning {
                return Err(SyntaxError::new(at, format!("cannot assign to '{n}'")));
            }
            self.note_self_use();
            return Ok(var);
        }
        let locals = &self.locals;
        let found = self.frames.iter().rev().find_map(|f| {
            f.declared
                .iter()
                .rev()
                .copied()
                .find(|&id| locals[id as usize].name == n)
        });
        if let Some(id) = found {
            return self.use_local(id, assigning, at);
        }
        if let Some(index) = self.class.inst_vars.iter().rposition(|v| v == n) {
            self.note_self_use();
            let name = n.to_string();
            return Ok(if index >= self.class.first_class_inst_var {
                Var::ClassInstVar {
                    index: index as u32,
                    name,
                }
            } else {
                Var::InstVar {
                    index: index as u32,
                    name,
                }
            });
        }
        if let Some((_, class)) = self.class.class_vars.iter().find(|(v, _)| v == n) {
            return Ok(Var::ClassVar {
                class: class.clone(),
                name: n.to_string(),
            });
        }
        if let Some((_, pool)) = self.class.pool_vars.iter().find(|(v, _)| v == n) {
            return Ok(Var::PoolVar {
                pool: pool.clone(),
                name: n.to_string(),
            });
        }
        Ok(Var::Global(n.to_string()))
    }

    fn use_local(&mut self, id: LocalId, assigning: bool, at: usize) -> CResult<Var> {
        let current = self.current_scope();
        let local = &mut self.locals[id as usize];
        if assigning {
            if local.kind == LocalKind::Argument {
                return Err(SyntaxError::new(
                    at,
                    format!("cannot assign to argument '{}'", local.name),
                ));
            }
            local.assigned = true;
        }
        let home = local.scope;
        if home != current {
            local.captured = true;
            local.written_by_closure |= assigning;
            // Every real block between here and the declaring scope must
            // carry the variable inward.
            for b in self.open_blocks.iter_mut().rev() {
                if b.scope == home {
                    break;
                }
                match b.captures.iter_mut().find(|c| c.local == id) {
                    Some(c) => c.written |= assigning,
                    None => b.captures.push(Capture {
                        local: id,
                        written: assigning,
                    }),
                }
            }
        }
        Ok(Var::Local(id))
    }
}

fn is_super(receiver: &p::Expr) -> bool {
    matches!(receiver, p::Expr::Variable(v) if v.name == "super")
}

fn contains_return(nodes: &[Node]) -> bool {
    fn walk(n: &Node) -> bool {
        let mut found = matches!(n, Node::Return { .. });
        n.for_each_child(|c| found = found || walk(c));
        found
    }
    nodes.iter().any(walk)
}

/// A literal number other than zero: the step of an inlined `to:by:do:`,
/// whose sign decides the loop test.
fn is_nonzero_number(e: &p::Expr) -> bool {
    match e {
        p::Expr::Literal(Literal::Integer(n), _) => *n != 0,
        p::Expr::Literal(Literal::LargeInteger(_), _) => true,
        p::Expr::Literal(Literal::Float(f), _) => f.0 != 0.0 && !f.0.is_nan(),
        _ => false,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockArg {
    NotBlock,
    /// Must be a literal, non-zero number (not a block).
    NonZeroNumber,
    Arity(usize),
    /// `ifNotNil: [ ... ]` or `ifNotNil: [ :x | ... ]`
    ZeroOrOne,
}

/// Which parts of a control message must be literal blocks to be inlined.
#[derive(Clone, Copy, Debug)]
struct InlineShape {
    receiver_block: bool,
    arguments: &'static [BlockArg],
}

impl InlineShape {
    fn matches(&self, receiver: &p::Expr, arguments: &[p::Expr]) -> bool {
        let is_block = |e: &p::Expr, arity: Option<usize>| match e {
            p::Expr::Block(b) => arity.map_or(b.arguments.len() <= 1, |n| b.arguments.len() == n),
            _ => false,
        };
        (!self.receiver_block || is_block(receiver, Some(0)))
            && arguments.len() == self.arguments.len()
            && self
                .arguments
                .iter()
                .zip(arguments)
                .all(|(shape, arg)| match shape {
                    BlockArg::NotBlock => true,
                    BlockArg::NonZeroNumber => is_nonzero_number(arg),
                    BlockArg::Arity(n) => is_block(arg, Some(*n)),
                    BlockArg::ZeroOrOne => is_block(arg, None),
                })
    }
}

/// The control selectors Pharo's compiler inlines when their block parts are
/// literal blocks of the right arity.
fn inline_shape(selector: &str) -> Option<InlineShape> {
    use BlockArg::*;
    let (receiver_block, arguments): (bool, &'static [BlockArg]) = match selector {
        "ifTrue:" | "ifFalse:" | "and:" | "or:" | "ifNil:" => (false, &[Arity(0)]),
        "ifTrue:ifFalse:" | "ifFalse:ifTrue:" => (false, &[Arity(0), Arity(0)]),
        "ifNotNil:" => (false, &[ZeroOrOne]),
        "ifNil:ifNotNil:" => (false, &[Arity(0), ZeroOrOne]),
        "ifNotNil:ifNil:" => (false, &[ZeroOrOne, Arity(0)]),
        "whileTrue:" | "whileFalse:" => (true, &[Arity(0)]),
        "whileTrue" | "whileFalse" | "repeat" => (true, &[]),
        "timesRepeat:" => (false, &[Arity(0)]),
        "to:do:" => (false, &[NotBlock, Arity(1)]),
        "to:by:do:" => (false, &[NotBlock, NonZeroNumber, Arity(1)]),
        _ => return None,
    };
    Some(InlineShape {
        receiver_block,
        arguments,
    })
}

/// Whether a send of `selector` with these parts is compiled inline.
pub fn is_inlined_send(send: &Send) -> bool {
    let block = |n: &Node| matches!(n, Node::Block(b) if b.inlined);
    inline_shape(&send.selector).is_some()
        && (block(&send.receiver) || send.arguments.iter().any(block))
}
