//! Zag AST → threaded code: the linear form a method runs as.
//!
//! A method compiles to a [`ThreadedMethod`]: a literal frame and one
//! [`CodeUnit`] per activation kind, unit 0 for the method body and one per
//! real (not inlined) block, indexed by the block's scope id. Each unit is a
//! sequence of [`Op`]s for a stack machine. The ops are abstract: build.rs
//! lowers them to static words (function pointers and operands) in the
//! image, and the runtime's compiler lowers them the same way for `eval` and
//! file-in.
//!
//! Frames: a unit's frame holds its arguments, then the values copied into
//! the closure (for blocks), then its temporaries, then hidden temporaries
//! of inlined loops, then (when needed) its temp vector. Closures follow
//! Pharo's model: a captured variable that is never assigned is copied into
//! the closure; one that is assigned anywhere lives in a heap *temp vector*
//! of its declaring scope, which the closures copy instead, so every
//! activation sees the same variable.
//!
//! Control messages marked inlined by the converter become jumps, as in
//! Pharo's compiler.

use std::collections::HashMap;

use crate::literal::Literal;
use crate::zag_ast::*;

/// One stack-machine operation. "Push" ops push one value; stores leave
/// the stored value on the stack (an assignment is an expression).
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    PushSelf,
    PushNil,
    PushTrue,
    PushFalse,
    PushThisContext,
    /// A literal of the literal frame.
    PushLiteral(u16),
    /// A frame slot (argument, copied value or temporary).
    PushTemp(u16),
    StoreTemp(u16),
    /// Element `index` of the temp vector held in frame slot `vector`.
    PushRemote {
        vector: u16,
        index: u16,
    },
    StoreRemote {
        vector: u16,
        index: u16,
    },
    /// An instance variable of the receiver (absolute slot index).
    PushInstVar(u32),
    StoreInstVar(u32),
    /// The value of a global, class or pool variable: the literal at this
    /// index is a [`LiteralValue::Binding`].
    PushBinding(u16),
    StoreBinding(u16),
    /// Stores a new temp vector of `size` nils into frame slot `slot`
    /// (pushes nothing).
    MakeTempVector {
        slot: u16,
        size: u16,
    },
    Pop,
    Dup,
    /// Sends the selector at literal `selector` to the receiver below
    /// `args` arguments; pops them all, pushes the result.
    Send {
        selector: u16,
        args: u8,
    },
    /// The same, looked up from the superclass of the method's class.
    SuperSend {
        selector: u16,
        args: u8,
    },
    Jump(u32),
    /// Pops a Boolean and jumps when it is true (false); a non-Boolean
    /// is sent `mustBeBoolean`.
    JumpIfTrue(u32),
    JumpIfFalse(u32),
    /// Pops a value and jumps when it is (is not) nil.
    JumpIfNil(u32),
    JumpIfNotNil(u32),
    /// Pops `n` values into a new Array (brace arrays).
    MakeArray(u16),
    /// Pops the `copied` values and pushes a closure over code unit `unit`.
    PushClosure {
        unit: u16,
        copied: u16,
    },
    /// Returns the top of the stack from this activation: from a method to
    /// its sender, from a block to whoever sent it `value`.
    ReturnTop,
    /// `^` inside a real block: returns the top of the stack from the
    /// block's home method (unwinding `ensure:` blocks on the way).
    NonLocalReturn,
}

impl Op {
    /// (values popped, values pushed).
    fn stack_effect(&self) -> (usize, usize) {
        match self {
            Op::PushSelf
            | Op::PushNil
            | Op::PushTrue
            | Op::PushFalse
            | Op::PushThisContext
            | Op::PushLiteral(_)
            | Op::PushTemp(_)
            | Op::PushRemote { .. }
            | Op::PushInstVar(_)
            | Op::PushBinding(_) => (0, 1),
            Op::StoreTemp(_)
            | Op::StoreRemote { .. }
            | Op::StoreInstVar(_)
            | Op::StoreBinding(_) => (1, 1),
            Op::MakeTempVector { .. } | Op::Jump(_) => (0, 0),
            Op::Pop
            | Op::JumpIfTrue(_)
            | Op::JumpIfFalse(_)
            | Op::JumpIfNil(_)
            | Op::JumpIfNotNil(_) => (1, 0),
            Op::Dup => (1, 2),
            Op::Send { args, .. } | Op::SuperSend { args, .. } => (*args as usize + 1, 1),
            Op::MakeArray(n) => (*n as usize, 1),
            Op::PushClosure { copied, .. } => (*copied as usize, 1),
            Op::ReturnTop | Op::NonLocalReturn => (1, 0),
        }
    }
}

/// An entry of a method's literal frame.
#[derive(Clone, Debug, PartialEq)]
pub enum LiteralValue {
    Value(Literal),
    /// A selector sent by the method.
    Selector(String),
    /// A variable looked up by name when the method is installed or first run.
    Binding(Binding),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Binding {
    Global(String),
    ClassVar { class: String, name: String },
    PoolVar { pool: String, name: String },
}

/// The code of one activation: the method body or one real block.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeUnit {
    pub num_args: u16,
    /// Values copied into the closure when it is created (blocks only).
    pub num_copied: u16,
    /// Frame slots after the arguments and copied values.
    pub num_temps: u16,
    /// Deepest the operand stack gets above the frame slots.
    pub max_stack: u16,
    /// What reflection tells of a block (`isClean`, `hasNonLocalReturn`).
    pub facts: BlockFacts,
    pub code: Vec<Op>,
}

/// What a block's code says about it, for reflection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockFacts {
    /// Pharo's clean block: it refers to nothing of its home (no `self`,
    /// `super`, instance variable, outer local or `^`), so it needs no
    /// home context. `thisContext` is its own.
    pub clean: bool,
    /// It returns from its home method with `^`, itself or in a block
    /// within it.
    pub non_local_return: bool,
}

impl BlockFacts {
    fn of(block: &Block) -> BlockFacts {
        fn uses_receiver(node: &Node) -> bool {
            let own = match node {
                Node::Variable(v, _) | Node::Assign(v, _, _) => matches!(
                    v,
                    Var::SelfRef | Var::Super | Var::InstVar { .. } | Var::ClassInstVar { .. }
                ),
                Node::Send(s) => s.is_super,
                Node::Cascade(c) => c.is_super,
                _ => false,
            };
            let mut nested = false;
            node.for_each_child(|child| nested = nested || uses_receiver(child));
            own || nested
        }
        BlockFacts {
            clean: block.captures.is_empty()
                && !block.has_non_local_return
                && !block.body.iter().any(uses_receiver),
            non_local_return: block.has_non_local_return,
        }
    }
}

impl CodeUnit {
    pub fn frame_size(&self) -> usize {
        (self.num_args + self.num_copied + self.num_temps) as usize
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ThreadedMethod {
    pub class_name: String,
    pub class_side: bool,
    pub selector: String,
    pub primitive: Option<PrimitiveIndex>,
    /// Frame slot receiving the failure code (`<primitive: N error: ec>`).
    pub primitive_error_slot: Option<u16>,
    pub literals: Vec<LiteralValue>,
    /// Unit 0 is the method; unit `s` is the real block of scope `s`.
    pub units: Vec<CodeUnit>,
}

/// Compiles a method. Fails only past the format's limits (65535 literals
/// or frame slots, 255 message arguments).
pub fn compile_method(method: &Method) -> Result<ThreadedMethod, String> {
    let blocks = real_blocks(method);
    if blocks.iter().skip(1).any(Option::is_none) {
        return Err("internal error: block scopes are not numbered densely".into());
    }
    let layouts: Vec<Layout> = (0..blocks.len())
        .map(|s| Layout::new(method, &blocks, s as ScopeId))
        .collect::<Result<_, _>>()?;
    let mut literals = Vec::new();
    let mut units = Vec::with_capacity(blocks.len());
    for (scope, block) in blocks.iter().enumerate() {
        let mut e = Emitter {
            method,
            layouts: &layouts,
            literals: &mut literals,
            scope: scope as ScopeId,
            code: Vec::new(),
            depth: 0,
            max_depth: 0,
            hidden_in_use: 0,
            hidden_max: 0,
        };
        e.prologue();
        match block {
            None => e.method_body(&method.body)?,
            Some(b) => e.block_body(&b.body)?,
        }
        let layout = &layouts[scope];
        let num_temps = checked_u16(
            layout.num_temps as usize + e.hidden_max as usize,
            "frame slots",
        )?;
        units.push(CodeUnit {
            num_args: layout.num_args,
            num_copied: layout.copied.len() as u16,
            num_temps,
            max_stack: checked_u16(e.max_depth, "stack slots")?,
            facts: block.map(BlockFacts::of).unwrap_or_default(),
            code: e.code,
        });
    }
    let primitive_error_slot = match method.primitive.as_ref().and_then(|p| p.error_code) {
        None => None,
        Some(ec) => match layouts[0].access(ec) {
            Some(Access::Slot(slot)) => Some(slot),
            _ => {
                return Err(
                    "the primitive error variable cannot be captured and assigned by a block"
                        .into(),
                )
            }
        },
    };
    Ok(ThreadedMethod {
        class_name: method.class_name.clone(),
        class_side: method.class_side,
        selector: method.selector.clone(),
        primitive: method.primitive.as_ref().map(|p| p.index.clone()),
        primitive_error_slot,
        literals,
        units,
    })
}

fn checked_u16(n: usize, what: &str) -> Result<u16, String> {
    u16::try_from(n).map_err(|_| format!("too many {what} in one method ({n})"))
}

/// Real blocks by scope id; index 0 (the method) is `None`.
fn real_blocks(method: &Method) -> Vec<Option<&Block>> {
    fn walk<'m>(n: &'m Node, out: &mut Vec<Option<&'m Block>>) {
        if let Node::Block(b) = n {
            if !b.inlined {
                let s = b.scope as usize;
                if out.len() <= s {
                    out.resize(s + 1, None);
                }
                out[s] = Some(b);
            }
        }
        n.for_each_child(|c| walk(c, out));
    }
    let mut out = vec![None];
    method.body.iter().for_each(|n| walk(n, &mut out));
    out
}

/// Whether a local lives in its scope's temp vector rather than a slot.
fn is_remote(local: &Local) -> bool {
    local.captured && local.assigned
}

/// What a closure copies when it is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Copied {
    /// The value of a captured local that is never assigned.
    Local(LocalId),
    /// The temp vector of the scope.
    TempVector(ScopeId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Slot(u16),
    Remote { vector: u16, index: u16 },
}

/// Where each variable visible in one unit lives.
struct Layout {
    num_args: u16,
    copied: Vec<Copied>,
    /// Temporaries plus the temp vector slot, without hidden temporaries.
    num_temps: u16,
    /// Slot of this scope's own temp vector, and its size.
    temp_vector: Option<(u16, u16)>,
    /// First slot free for hidden temporaries.
    hidden_base: u16,
    access: HashMap<LocalId, Access>,
}

impl Layout {
    fn new(method: &Method, blocks: &[Option<&Block>], scope: ScopeId) -> Result<Layout, String> {
        let block = blocks[scope as usize];
        let args: &[LocalId] = block.map_or(&method.arguments, |b| &b.arguments);
        let mut access = HashMap::new();
        let mut slot = 0usize;
        for &a in args {
            access.insert(a, Access::Slot(checked_u16(slot, "frame slots")?));
            slot += 1;
        }
        let mut copied = Vec::new();
        for c in block.map_or(&[][..], |b| &b.captures) {
            let local = method.local(c.local);
            let item = if is_remote(local) {
                Copied::TempVector(local.scope)
            } else {
                Copied::Local(c.local)
            };
            if !copied.contains(&item) {
                copied.push(item);
            }
        }
        for item in &copied {
            let here = checked_u16(slot, "frame slots")?;
            match *item {
                Copied::Local(id) => {
                    access.insert(id, Access::Slot(here));
                }
                Copied::TempVector(s) => {
                    for (index, id) in remote_locals(method, s).enumerate() {
                        access.insert(
                            id,
                            Access::Remote {
                                vector: here,
                                index: index as u16,
                            },
                        );
                    }
                }
            }
            slot += 1;
        }
        let own = method.locals.iter().enumerate().filter(|(id, l)| {
            l.scope == scope && !args.contains(&(*id as LocalId)) && !is_remote(l)
        });
        let temps_start = slot;
        for (id, _) in own {
            access.insert(
                id as LocalId,
                Access::Slot(checked_u16(slot, "frame slots")?),
            );
            slot += 1;
        }
        let remote: Vec<LocalId> = remote_locals(method, scope).collect();
        let temp_vector = if remote.is_empty() {
            None
        } else {
            let vector = checked_u16(slot, "frame slots")?;
            slot += 1;
            for (index, id) in remote.iter().enumerate() {
                access.insert(
                    *id,
                    Access::Remote {
                        vector,
                        index: index as u16,
                    },
                );
            }
            Some((vector, checked_u16(remote.len(), "temp vector slots")?))
        };
        Ok(Layout {
            num_args: args.len() as u16,
            num_temps: checked_u16(slot - temps_start, "frame slots")?,
            hidden_base: checked_u16(slot, "frame slots")?,
            copied,
            temp_vector,
            access,
        })
    }

    fn access(&self, id: LocalId) -> Option<Access> {
        self.access.get(&id).copied()
    }
}

/// The locals of `scope` that live in its temp vector, in declaration order.
fn remote_locals(method: &Method, scope: ScopeId) -> impl Iterator<Item = LocalId> + '_ {
    method
        .locals
        .iter()
        .enumerate()
        .filter(move |(_, l)| l.scope == scope && is_remote(l))
        .map(|(id, _)| id as LocalId)
}

struct Emitter<'m, 'l> {
    method: &'m Method,
    layouts: &'l [Layout],
    literals: &'l mut Vec<LiteralValue>,
    scope: ScopeId,
    code: Vec<Op>,
    depth: usize,
    max_depth: usize,
    hidden_in_use: u16,
    hidden_max: u16,
}

type EResult = Result<(), String>;

impl Emitter<'_, '_> {
    fn layout(&self) -> &Layout {
        &self.layouts[self.scope as usize]
    }

    fn emit(&mut self, op: Op) {
        let (pops, pushes) = op.stack_effect();
        self.depth = self.depth.saturating_sub(pops) + pushes;
        self.max_depth = self.max_depth.max(self.depth);
        self.code.push(op);
    }

    /// Emits a jump to be patched; answers its position.
    fn emit_jump(&mut self, make: fn(u32) -> Op) -> usize {
        self.emit(make(u32::MAX));
        self.code.len() - 1
    }

    /// Points the jump at `at` to the next op.
    fn patch(&mut self, at: usize) {
        let target = self.code.len() as u32;
        match &mut self.code[at] {
            Op::Jump(t)
            | Op::JumpIfTrue(t)
            | Op::JumpIfFalse(t)
            | Op::JumpIfNil(t)
            | Op::JumpIfNotNil(t) => *t = target,
            other => unreachable!("patching {other:?}"),
        }
    }

    fn literal(&mut self, value: LiteralValue) -> Result<u16, String> {
        if let Some(i) = self.literals.iter().position(|l| *l == value) {
            return Ok(i as u16);
        }
        self.literals.push(value);
        checked_u16(self.literals.len() - 1, "literals")
    }

    fn prologue(&mut self) {
        if let Some((slot, size)) = self.layout().temp_vector {
            self.emit(Op::MakeTempVector { slot, size });
        }
    }

    /// Statements, then `^ self` unless the last statement returned.
    fn method_body(&mut self, body: &[Node]) -> EResult {
        for node in body {
            self.node(node)?;
            if matches!(node, Node::Return { .. }) {
                return Ok(());
            }
            self.emit(Op::Pop);
        }
        self.emit(Op::PushSelf);
        self.emit(Op::ReturnTop);
        Ok(())
    }

    /// Statements; the last one's value is the block's.
    fn block_body(&mut self, body: &[Node]) -> EResult {
        self.sequence_value(body)?;
        if !matches!(body.last(), Some(Node::Return { .. })) {
            self.emit(Op::ReturnTop);
        }
        Ok(())
    }

    /// Leaves the value of the last statement (nil when empty).
    fn sequence_value(&mut self, body: &[Node]) -> EResult {
        if body.is_empty() {
            self.emit(Op::PushNil);
        }
        for (i, node) in body.iter().enumerate() {
            self.node(node)?;
            if matches!(node, Node::Return { .. }) {
                // Code after a return is never reached; keep the stack
                // shape the join point expects.
                self.depth += 1;
                return Ok(());
            }
            if i + 1 < body.len() {
                self.emit(Op::Pop);
            }
        }
        Ok(())
    }

    fn node(&mut self, node: &Node) -> EResult {
        match node {
            Node::Literal(l, _) => self.push_literal(l)?,
            Node::Variable(v, _) => self.push_var(v)?,
            Node::Assign(v, value, _) => {
                self.node(value)?;
                self.store_var(v)?;
            }
            Node::Send(s) => self.send(s)?,
            Node::Cascade(c) => self.cascade(c)?,
            Node::Brace(items, _) => {
                for item in items {
                    self.node(item)?;
                }
                self.emit(Op::MakeArray(checked_u16(
                    items.len(),
                    "brace array elements",
                )?));
            }
            Node::Block(b) => self.closure(b)?,
            Node::Return {
                value, non_local, ..
            } => {
                self.node(value)?;
                self.emit(if *non_local {
                    Op::NonLocalReturn
                } else {
                    Op::ReturnTop
                });
            }
        }
        Ok(())
    }

    fn push_literal(&mut self, l: &Literal) -> EResult {
        let op = match l {
            Literal::Nil => Op::PushNil,
            Literal::True => Op::PushTrue,
            Literal::False => Op::PushFalse,
            _ => Op::PushLiteral(self.literal(LiteralValue::Value(l.clone()))?),
        };
        self.emit(op);
        Ok(())
    }

    fn binding(&mut self, v: &Var) -> Result<Option<u16>, String> {
        let b = match v {
            Var::Global(name) => Binding::Global(name.clone()),
            Var::ClassVar { class, name } => Binding::ClassVar {
                class: class.clone(),
                name: name.clone(),
            },
            Var::PoolVar { pool, name } => Binding::PoolVar {
                pool: pool.clone(),
                name: name.clone(),
            },
            _ => return Ok(None),
        };
        self.literal(LiteralValue::Binding(b)).map(Some)
    }

    fn local_access(&self, id: LocalId) -> Result<Access, String> {
        self.layout().access(id).ok_or_else(|| {
            format!(
                "internal error: '{}' is not visible in scope {}",
                self.method.local(id).name,
                self.scope
            )
        })
    }

    fn push_var(&mut self, v: &Var) -> EResult {
        let op = match v {
            Var::SelfRef | Var::Super => Op::PushSelf,
            Var::ThisContext => Op::PushThisContext,
            Var::Local(id) => match self.local_access(*id)? {
                Access::Slot(s) => Op::PushTemp(s),
                Access::Remote { vector, index } => Op::PushRemote { vector, index },
            },
            Var::InstVar { index, .. } | Var::ClassInstVar { index, .. } => Op::PushInstVar(*index),
            _ => Op::PushBinding(self.binding(v)?.expect("a binding")),
        };
        self.emit(op);
        Ok(())
    }

    fn store_var(&mut self, v: &Var) -> EResult {
        let op = match v {
            Var::Local(id) => match self.local_access(*id)? {
                Access::Slot(s) => Op::StoreTemp(s),
                Access::Remote { vector, index } => Op::StoreRemote { vector, index },
            },
            Var::InstVar { index, .. } | Var::ClassInstVar { index, .. } => {
                Op::StoreInstVar(*index)
            }
            Var::Global(_) | Var::ClassVar { .. } | Var::PoolVar { .. } => {
                Op::StoreBinding(self.binding(v)?.expect("a binding"))
            }
            Var::SelfRef | Var::Super | Var::ThisContext => {
                return Err("cannot assign to a pseudo-variable".to_string())
            }
        };
        self.emit(op);
        Ok(())
    }

    fn send_op(&mut self, selector: &str, args: usize, is_super: bool) -> EResult {
        let selector = self.literal(LiteralValue::Selector(selector.to_string()))?;
        let args = u8::try_from(args).map_err(|_| "more than 255 message arguments".to_string())?;
        self.emit(if is_super {
            Op::SuperSend { selector, args }
        } else {
            Op::Send { selector, args }
        });
        Ok(())
    }

    fn send(&mut self, s: &Send) -> EResult {
        if crate::convert::is_inlined_send(s) {
            return self.inlined(s);
        }
        self.node(&s.receiver)?;
        for a in &s.arguments {
            self.node(a)?;
        }
        self.send_op(&s.selector, s.arguments.len(), s.is_super)
    }

    fn cascade(&mut self, c: &Cascade) -> EResult {
        self.node(&c.receiver)?;
        for (i, m) in c.messages.iter().enumerate() {
            let last = i + 1 == c.messages.len();
            if !last {
                self.emit(Op::Dup);
            }
            for a in &m.arguments {
                self.node(a)?;
            }
            self.send_op(&m.selector, m.arguments.len(), c.is_super)?;
            if !last {
                self.emit(Op::Pop);
            }
        }
        Ok(())
    }

    fn closure(&mut self, b: &Block) -> EResult {
        let copied = self.layouts[b.scope as usize].copied.clone();
        for item in &copied {
            match *item {
                Copied::Local(id) => self.push_var(&Var::Local(id))?,
                Copied::TempVector(s) => {
                    let op = if s == self.scope {
                        Op::PushTemp(self.layout().temp_vector.expect("own temp vector").0)
                    } else {
                        let vector = self
                            .layout()
                            .copied
                            .iter()
                            .position(|c| *c == Copied::TempVector(s));
                        let vector = vector.ok_or("internal error: temp vector not copied")?;
                        Op::PushTemp(self.layout().num_args + vector as u16)
                    };
                    self.emit(op);
                }
            }
        }
        self.emit(Op::PushClosure {
            unit: b.scope,
            copied: copied.len() as u16,
        });
        Ok(())
    }

    // ----- inlined control messages -------------------------------------------

    fn inlined_body(&mut self, n: &Node) -> EResult {
        match n {
            Node::Block(b) if b.inlined => self.sequence_value(&b.body),
            other => {
                // A value in block position (`x and: y` is not inlined, so
                // this is unreachable for well-formed input): use it as is.
                self.node(other)
            }
        }
    }

    fn inlined_block<'b>(&self, n: &'b Node) -> &'b Block {
        match n {
            Node::Block(b) => b,
            other => unreachable!("inlined send with {other:?}"),
        }
    }

    /// Stores the top of the stack into an inlined block's argument.
    fn bind_argument(&mut self, b: &Block) -> EResult {
        if let Some(&arg) = b.arguments.first() {
            self.store_var(&Var::Local(arg))?;
        }
        Ok(())
    }

    fn hidden_temp(&mut self) -> Result<u16, String> {
        let slot = checked_u16(
            self.layout().hidden_base as usize + self.hidden_in_use as usize,
            "frame slots",
        )?;
        self.hidden_in_use += 1;
        self.hidden_max = self.hidden_max.max(self.hidden_in_use);
        Ok(slot)
    }

    fn inlined(&mut self, s: &Send) -> EResult {
        let args = &s.arguments;
        match s.selector.as_str() {
            "ifTrue:" | "ifFalse:" | "ifTrue:ifFalse:" | "ifFalse:ifTrue:" => {
                self.node(&s.receiver)?;
                let (first, second) = match s.selector.as_str() {
                    "ifTrue:" => (Some(&args[0]), None),
                    "ifFalse:" => (None, Some(&args[0])),
                    "ifTrue:ifFalse:" => (Some(&args[0]), Some(&args[1])),
                    _ => (Some(&args[1]), Some(&args[0])),
                };
                let to_else = self.emit_jump(Op::JumpIfFalse);
                match first {
                    Some(n) => self.inlined_body(n)?,
                    None => self.emit(Op::PushNil),
                }
                let to_end = self.emit_jump(Op::Jump);
                self.depth -= 1;
                self.patch(to_else);
                match second {
                    Some(n) => self.inlined_body(n)?,
                    None => self.emit(Op::PushNil),
                }
                self.patch(to_end);
            }
            "and:" | "or:" => {
                self.node(&s.receiver)?;
                let short = if s.selector == "and:" {
                    Op::JumpIfFalse
                } else {
                    Op::JumpIfTrue
                };
                let to_short = self.emit_jump(short);
                self.inlined_body(&args[0])?;
                let to_end = self.emit_jump(Op::Jump);
                self.depth -= 1;
                self.patch(to_short);
                self.emit(if s.selector == "and:" {
                    Op::PushFalse
                } else {
                    Op::PushTrue
                });
                self.patch(to_end);
            }
            "ifNil:" | "ifNotNil:" | "ifNil:ifNotNil:" | "ifNotNil:ifNil:" => {
                let (if_nil, if_not_nil) = match s.selector.as_str() {
                    "ifNil:" => (Some(&args[0]), None),
                    "ifNotNil:" => (None, Some(&args[0])),
                    "ifNil:ifNotNil:" => (Some(&args[0]), Some(&args[1])),
                    _ => (Some(&args[1]), Some(&args[0])),
                };
                self.node(&s.receiver)?;
                self.emit(Op::Dup);
                // Stack: value value. Each branch pops the copy it replaces.
                let to_nil = self.emit_jump(Op::JumpIfNil);
                if let Some(n) = if_not_nil {
                    self.bind_argument(self.inlined_block(n))?;
                    self.emit(Op::Pop);
                    self.inlined_body(n)?;
                } // else: the non-nil value is the result
                let to_end = self.emit_jump(Op::Jump);
                self.patch(to_nil);
                if let Some(n) = if_nil {
                    self.emit(Op::Pop);
                    self.inlined_body(n)?;
                } // else: nil is the result
                self.patch(to_end);
            }
            "whileTrue:" | "whileFalse:" | "whileTrue" | "whileFalse" => {
                let top = self.code.len() as u32;
                self.inlined_body(&s.receiver)?;
                let exit = if s.selector.starts_with("whileTrue") {
                    Op::JumpIfFalse
                } else {
                    Op::JumpIfTrue
                };
                let to_exit = self.emit_jump(exit);
                if let Some(body) = args.first() {
                    self.inlined_body(body)?;
                    self.emit(Op::Pop);
                }
                self.emit(Op::Jump(top));
                self.patch(to_exit);
                self.emit(Op::PushNil);
            }
            "repeat" => {
                let top = self.code.len() as u32;
                self.inlined_body(&s.receiver)?;
                self.emit(Op::Pop);
                self.emit(Op::Jump(top));
                // Only a return leaves the loop; the value keeps the stack shape.
                self.emit(Op::PushNil);
            }
            "timesRepeat:" => {
                // The value is the receiver, as `Integer>>timesRepeat:` answers.
                let limit = self.hidden_temp()?;
                let counter = self.hidden_temp()?;
                self.node(&s.receiver)?;
                self.emit(Op::StoreTemp(limit));
                self.push_literal(&Literal::Integer(1))?;
                self.emit(Op::StoreTemp(counter));
                self.emit(Op::Pop);
                self.counting_loop(counter, limit, "<=", &Literal::Integer(1), |e| {
                    e.inlined_body(&args[0])
                })?;
                self.hidden_in_use -= 2;
            }
            "to:do:" | "to:by:do:" => {
                // The value is the receiver, as `Number>>to:do:` answers.
                let block = self.inlined_block(args.last().expect("a block"));
                let counter = match self.local_access(block.arguments[0])? {
                    Access::Slot(slot) => slot,
                    Access::Remote { .. } => {
                        return Err("internal error: loop variable in a temp vector".into())
                    }
                };
                let limit = self.hidden_temp()?;
                self.node(&s.receiver)?;
                self.emit(Op::StoreTemp(counter));
                self.node(&args[0])?;
                self.emit(Op::StoreTemp(limit));
                self.emit(Op::Pop);
                let step = match (s.selector.as_str(), &args[1]) {
                    ("to:by:do:", Node::Literal(l, _)) => l.clone(),
                    _ => Literal::Integer(1),
                };
                let negative = match &step {
                    Literal::Integer(n) => *n < 0,
                    Literal::LargeInteger(b) => b.is_negative(),
                    Literal::Float(f) => f.0 < 0.0,
                    _ => false,
                };
                let test = if negative { ">=" } else { "<=" };
                let body = args.last().expect("a block");
                self.counting_loop(counter, limit, test, &step, |e| e.inlined_body(body))?;
                self.hidden_in_use -= 1;
            }
            other => unreachable!("{other} is not inlined"),
        }
        Ok(())
    }

    /// `[counter test limit] whileTrue: [body. counter := counter + step]`.
    fn counting_loop(
        &mut self,
        counter: u16,
        limit: u16,
        test: &str,
        step: &Literal,
        body: impl FnOnce(&mut Self) -> EResult,
    ) -> EResult {
        let top = self.code.len() as u32;
        self.emit(Op::PushTemp(counter));
        self.emit(Op::PushTemp(limit));
        self.send_op(test, 1, false)?;
        let to_exit = self.emit_jump(Op::JumpIfFalse);
        body(self)?;
        self.emit(Op::Pop);
        self.emit(Op::PushTemp(counter));
        self.push_literal(step)?;
        self.send_op("+", 1, false)?;
        self.emit(Op::StoreTemp(counter));
        self.emit(Op::Pop);
        self.emit(Op::Jump(top));
        self.patch(to_exit);
        Ok(())
    }
}
