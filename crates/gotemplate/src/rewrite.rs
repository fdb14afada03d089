//! The parse-tree rewrite that runs once per compiled template (see the module docs of
//! [`super`] for what it changes and why).

use std::sync::Arc;

use gotmpl::parse::{
    ActionNode, BranchNode, CommandNode, Expr, ListNode, Node, Number, PipeNode, Pos, SmolStr,
    TemplateNode,
};

/// The variable the position markers assign (not a name a template can write).
const MARKER_VAR: &str = "$\u{0}";

use super::sprig::{
    printf_directives, FN_CHARGE, FN_FIELD, FN_FMT, FN_FMTARG, FN_KEEP, FN_KEPT, FN_METHOD,
    FN_NIL_TICK, FN_OUT, FN_POS, FN_ROOM, FN_TICK, FN_UNDEF_VAR, GO_BUILTINS, PRINTING_BUILTINS,
    SCALAR_RESULTS,
};
use super::typed::METHODS;
use super::GoError;

pub(super) struct Rewriter<'a> {
    src: &'a str,
    funcs: &'a gotmpl::FuncMap,
    root_fields: Option<&'static [&'static str]>,
    in_define: bool,
    /// Whether each action is preceded by a position marker (the traced build).
    markers: bool,
    /// The variable scopes of the body being rewritten (Go's: a control structure's pipeline
    /// and branches form one): `true` for a variable declared as the root (`$x := .` with the
    /// root as dot, or `$x := $`), so `$x.Foo` is checked like `.Foo`.
    root_vars: std::cell::RefCell<Vec<std::collections::BTreeMap<String, bool>>>,
    /// The `define`d templates called with the root as dot (they get a root-checked copy).
    root_calls: std::cell::RefCell<std::collections::BTreeSet<String>>,
    /// Calls of a map-changing function on a variable (`set $d ...`) met in the pipelines
    /// rewritten so far and not yet written back: the variable and the call's id.
    changed: std::cell::RefCell<Vec<(SmolStr, i64)>>,
    /// The next id of such a call.
    next_change: std::cell::Cell<i64>,
}

/// The sprig functions that change the dict given as their first argument in place (Go's maps
/// are references); the rewrite writes their result back to the variable passed.
const MAP_CHANGERS: &[&str] = &[
    "set",
    "unset",
    "merge",
    "mergeOverwrite",
    "mustMerge",
    "mustMergeOverwrite",
];

/// What a `define`d template's root-checked copy is called (see [`Rewriter::root_calls`]).
pub(super) fn root_variant(name: &str) -> String {
    format!("{name}\u{2063}root")
}

impl<'a> Rewriter<'a> {
    pub(super) fn new(
        src: &'a str,
        funcs: &'a gotmpl::FuncMap,
        root_fields: Option<&'static [&'static str]>,
        markers: bool,
    ) -> Self {
        Rewriter {
            src,
            funcs,
            root_fields,
            in_define: false,
            markers,
            root_vars: Default::default(),
            root_calls: Default::default(),
            changed: Default::default(),
            next_change: std::cell::Cell::new(0),
        }
    }

    /// The names of the `define`d templates some rewritten body calls with the root as dot.
    pub(super) fn root_calls(&self) -> Vec<String> {
        self.root_calls.borrow().iter().cloned().collect()
    }

    /// The top-level body: dot and `$` are the root.
    pub(super) fn main(&mut self, tree: ListNode) -> Result<ListNode, GoError> {
        self.in_define = false;
        *self.root_vars.borrow_mut() = vec![Default::default()];
        self.list(tree, true)
    }

    /// A `define`d body: dot and `$` are whatever the caller passes.
    pub(super) fn define(&mut self, tree: ListNode) -> Result<ListNode, GoError> {
        self.in_define = true;
        *self.root_vars.borrow_mut() = vec![Default::default()];
        self.list(tree, false)
    }

    fn list(&self, mut list: ListNode, root: bool) -> Result<ListNode, GoError> {
        let nodes = std::mem::take(&mut list.nodes);
        for n in nodes {
            // Each action is preceded by a silent marker of where it is, so a run-time error
            // can name the line and column of the action that failed.
            let at = match &n {
                Node::Action(a) => Some(a.pos),
                Node::If(b) | Node::With(b) | Node::Range(b) => Some(b.pos),
                Node::Template(t) => Some(t.pos),
                _ => None,
            };
            if let Some(pos) = at.filter(|_| self.markers) {
                list.nodes.push(self.marker(pos));
            }
            let action = matches!(n, Node::Action(_));
            let before = self.changed.borrow().len();
            list.nodes.push(self.node(n, root)?);
            // After an action that called `set $d ...` (or unset/merge...), `$d` holds the
            // changed dict, as Go's map, changed in place, shows it through the variable.
            let changed: Vec<_> = self.changed.borrow_mut().drain(before..).collect();
            if action {
                for (var, id) in changed {
                    list.nodes
                        .push(write_back(pos_of(list.nodes.last()), var, id));
                }
            }
        }
        Ok(list)
    }

    /// `{{ $\0 := pos LINE COLUMN }}`: records the position, prints nothing.
    fn marker(&self, pos: Pos) -> Node {
        let (line, column) = self.line_col(pos);
        let num = |n: usize| Expr::Number(pos, Number::Int(n as i64));
        Node::Action(ActionNode {
            pos,
            pipe: PipeNode {
                pos,
                decl: vec![SmolStr::new_static(MARKER_VAR)],
                commands: vec![command(
                    pos,
                    vec![ident(pos, FN_POS), num(line), num(column)],
                )],
                is_assign: false,
            },
        })
    }

    fn line_col(&self, pos: Pos) -> (usize, usize) {
        let before = self.src.get(..pos.offset).unwrap_or("");
        let column = before
            .rfind('\n')
            .map_or(before.len(), |i| before.len() - i - 1)
            + 1;
        (pos.line, column)
    }

    fn node(&self, node: Node, root: bool) -> Result<Node, GoError> {
        Ok(match node {
            Node::Action(mut a) => {
                // Formatted as Go prints it, unless the last step is a function whose result
                // gotmpl already prints that way.
                let scalar = matches!(
                    a.pipe.commands.last().and_then(|c| c.args.first()),
                    Some(Expr::Identifier(_, f)) if SCALAR_RESULTS.contains(&f.as_str())
                );
                let printed = a.pipe.decl.is_empty() && !scalar;
                a.pipe = self.pipe(a.pipe, root)?;
                if printed {
                    push_call(&mut a.pipe, FN_OUT);
                }
                Node::Action(a)
            }
            Node::If(b) => Node::If(self.branch(b, root, |_| root)?),
            Node::With(b) => Node::With(self.branch(b, root, |p| self.is_root(p, root))?),
            Node::Range(b) => Node::Range(self.branch(b, root, |_| false)?),
            Node::Template(t) => Node::Template(self.template(t, root)?),
            Node::List(l) => Node::List(self.list(l, root)?),
            other => other,
        })
    }

    fn branch(
        &self,
        mut b: BranchNode,
        root: bool,
        body_root: impl Fn(&PipeNode) -> bool,
    ) -> Result<BranchNode, GoError> {
        let inner = body_root(&b.pipe);
        self.root_vars.borrow_mut().push(Default::default());
        let done = (|| {
            b.pipe = self.pipe(b.pipe, root)?;
            b.body = self.list(b.body, inner)?;
            b.else_body = b.else_body.map(|e| self.list(e, root)).transpose()?;
            Ok(b)
        })();
        self.root_vars.borrow_mut().pop();
        done
    }

    fn template(&self, mut t: TemplateNode, root: bool) -> Result<TemplateNode, GoError> {
        // Called with the root as dot: the callee's root-checked copy.
        if self.root_fields.is_some() && t.pipe.as_ref().is_some_and(|p| self.is_root(p, root)) {
            self.root_calls.borrow_mut().insert(t.name.to_string());
            t.name = SmolStr::new(root_variant(&t.name));
        }
        t.pipe = Some(match t.pipe {
            Some(p) => {
                let mut p = self.pipe(p, root)?;
                push_call(&mut p, FN_TICK);
                p
            }
            // Go runs `{{template "x"}}` with nil data.
            None => PipeNode {
                pos: t.pos,
                decl: Vec::new(),
                commands: vec![command(t.pos, vec![ident(t.pos, FN_NIL_TICK)])],
                is_assign: false,
            },
        });
        Ok(t)
    }

    fn pipe(&self, mut pipe: PipeNode, root: bool) -> Result<PipeNode, GoError> {
        if !pipe.decl.is_empty() {
            let holds_root = !self.in_define && pipe.decl.len() == 1 && self.is_root(&pipe, root);
            let mut scopes = self.root_vars.borrow_mut();
            for name in &pipe.decl {
                let name = name.to_string();
                // `:=` declares in the innermost scope; `=` changes the variable in scope.
                let scope = if pipe.is_assign {
                    scopes.iter_mut().rev().find(|s| s.contains_key(&name))
                } else {
                    None
                };
                match scope {
                    Some(s) => {
                        s.insert(name, holds_root);
                    }
                    // `=` on a variable no scope declares: Go fails when it executes.
                    None if pipe.is_assign => {
                        let pos = pipe.pos;
                        pipe.commands = vec![command(
                            pos,
                            vec![
                                ident(pos, FN_UNDEF_VAR),
                                Expr::String(pos, Arc::from(name.as_str())),
                            ],
                        )];
                        return Ok(pipe);
                    }
                    None => {
                        if let Some(s) = scopes.last_mut() {
                            s.insert(name, holds_root);
                        }
                    }
                }
            }
        }
        let mut prints = false;
        let commands = std::mem::take(&mut pipe.commands);
        let piped_from = |i: usize| i > 0;
        for (i, mut cmd) in commands.into_iter().enumerate() {
            let head = match cmd.args.first() {
                Some(Expr::Identifier(_, name)) => Some(name.clone()),
                _ => None,
            };
            // `X.Method arg...` (a semver method with arguments): `method X "Method" arg...`.
            let method_call = (cmd.args.len() > 1 || piped_from(i))
                && matches!(cmd.args.first(), Some(e) if chain_parts(e)
                    .is_some_and(|(_, f)| f.last().is_some_and(|n| METHODS.contains(&n.as_str()))));
            cmd.args = std::mem::take(&mut cmd.args)
                .into_iter()
                .enumerate()
                .map(|(j, e)| {
                    if j == 0
                        && method_call
                        && let Some((base, mut fields)) = chain_parts(&e)
                    {
                        let pos = e.pos();
                        let name = fields.pop().unwrap_or_default();
                        let recv = self.expr(rebuild(pos, base, fields), root)?;
                        return Ok(method_expr(pos, recv, &name));
                    }
                    self.expr(e, root)
                })
                .collect::<Result<_, _>>()?;
            if method_call {
                // The head became `(method X "Method")`: call it with the arguments instead.
                if let Some(Expr::Pipe(_, p)) = cmd.args.first_mut()
                    && let Some(c) = p.commands.pop()
                {
                    let rest = cmd.args.split_off(1);
                    cmd.args = c.args;
                    cmd.args.extend(rest);
                }
            }
            // Go's `index X` without keys is X (gotmpl wants a key).
            if head.as_deref() == Some("index") {
                match cmd.args.len() {
                    1 if piped_from(i) => continue,
                    2 if !piped_from(i) => {
                        cmd.args.remove(0);
                    }
                    _ => {}
                }
            }
            if let Some(name) = head.as_ref()
                && MAP_CHANGERS.contains(&name.as_str())
                && let Some(Expr::Variable(_, var, fields)) = cmd.args.get(1)
                && var != "$"
                && fields.is_empty()
            {
                let id = self.next_change.get();
                self.next_change.set(id + 1);
                self.changed.borrow_mut().push((var.clone(), id));
                let pos = cmd.pos;
                pipe.commands.push(cmd);
                pipe.commands.push(command(
                    pos,
                    vec![ident(pos, FN_KEEP), Expr::Number(pos, Number::Int(id))],
                ));
                continue;
            }
            if let Some(name) = head {
                if PRINTING_BUILTINS.contains(&name.as_str()) {
                    prints = true;
                }
                if name == "printf" && cmd.args.len() > 1 {
                    // A literal format: each directive with an argument becomes `%s` of that
                    // argument formatted as Go's fmt does (`fmtarg "%5v" ARG`).
                    let directives = match &cmd.args[1] {
                        Expr::String(_, f) => printf_directives(f).map(|d| (f.clone(), d)),
                        _ => None,
                    };
                    if directives.is_none() {
                        // A format from data: gotmpl formats the arguments, so the text of a
                        // list or dict is counted against the fuel first (`arg | room`).
                        for arg in cmd.args.iter_mut().skip(2) {
                            let pos = arg.pos();
                            let a = std::mem::replace(arg, Expr::Nil(pos));
                            *arg = Expr::Pipe(
                                pos,
                                PipeNode {
                                    pos,
                                    decl: Vec::new(),
                                    commands: vec![command(pos, vec![ident(pos, FN_ROOM), a])],
                                    is_assign: false,
                                },
                            );
                        }
                    }
                    if let Some((f, ds)) = directives {
                        let explicit = cmd.args.len() - 2;
                        let available = explicit + usize::from(piped_from(i));
                        let mut new_format = String::new();
                        let mut at = 0;
                        for (j, &(start, end)) in ds.iter().enumerate().take(available) {
                            let d: Arc<str> = Arc::from(&f[start..end]);
                            new_format.push_str(&f[at..start]);
                            new_format.push_str("%s");
                            at = end;
                            if j < explicit {
                                let arg = &mut cmd.args[2 + j];
                                let pos = arg.pos();
                                let a = std::mem::replace(arg, Expr::Nil(pos));
                                *arg = Expr::Pipe(
                                    pos,
                                    PipeNode {
                                        pos,
                                        decl: Vec::new(),
                                        commands: vec![command(
                                            pos,
                                            vec![ident(pos, FN_FMTARG), Expr::String(pos, d), a],
                                        )],
                                        is_assign: false,
                                    },
                                );
                            } else {
                                // The piped value is the last argument.
                                let pos = cmd.pos;
                                pipe.commands.push(command(
                                    pos,
                                    vec![ident(pos, FN_FMTARG), Expr::String(pos, d)],
                                ));
                            }
                        }
                        let tail = new_format.len();
                        new_format.push_str(&f[at..]);
                        // A `%` (with flags or a width) ending the format: Go's `%!(NOVERB)`.
                        if let Some(p) = lone_trailing_percent(&new_format[tail..]) {
                            new_format.truncate(tail + p);
                            new_format.push_str("%%!(NOVERB)");
                        }
                        let pos = cmd.args[1].pos();
                        cmd.args[1] = Expr::String(pos, Arc::from(new_format.as_str()));
                    }
                    let f = cmd.args.remove(1);
                    let pos = f.pos();
                    let guarded = PipeNode {
                        pos,
                        decl: Vec::new(),
                        commands: vec![
                            command(pos, vec![f]),
                            command(pos, vec![ident(pos, FN_FMT)]),
                        ],
                        is_assign: false,
                    };
                    cmd.args.insert(1, Expr::Pipe(pos, guarded));
                }
            }
            pipe.commands.push(cmd);
        }
        if prints {
            push_call(&mut pipe, FN_CHARGE);
        }
        Ok(pipe)
    }

    fn expr(&self, e: Expr, root: bool) -> Result<Expr, GoError> {
        if let Expr::Variable(pos, name, _) = &e {
            // Go's parser refuses a variable no enclosing scope declares.
            if name != "$"
                && !self
                    .root_vars
                    .borrow()
                    .iter()
                    .any(|s| s.contains_key(name.as_str()))
            {
                return Err(self.error(*pos, format!("undefined variable {:?}", name.as_str())));
            }
        }
        Ok(match e {
            Expr::Identifier(pos, name) => {
                if !self.funcs.contains_key(name.as_str()) && !GO_BUILTINS.contains(&name.as_str())
                {
                    return Err(
                        self.error(pos, format!("function {:?} not defined", name.as_str()))
                    );
                }
                Expr::Identifier(pos, name)
            }
            Expr::Field(pos, fields) if root && self.unknown_root_field(&fields) => {
                unknown_field(pos, &fields[0])
            }
            Expr::Variable(pos, name, fields)
                if name == "$" && !self.in_define && self.unknown_root_field(&fields) =>
            {
                unknown_field(pos, &fields[0])
            }
            Expr::Variable(pos, name, fields)
                if !self.in_define && self.root_var(&name) && self.unknown_root_field(&fields) =>
            {
                unknown_field(pos, &fields[0])
            }
            Expr::Pipe(pos, p) => Expr::Pipe(pos, self.pipe(p, root)?),
            Expr::Chain(pos, inner, fields) => {
                split_methods(Expr::Chain(pos, Box::new(self.expr(*inner, root)?), fields))
            }
            other => split_methods(other),
        })
    }

    /// Whether the pipeline is just the root: `.` where dot is the root, `$` outside a
    /// `define`, or a variable holding the root.
    fn is_root(&self, p: &PipeNode, root: bool) -> bool {
        let [c] = p.commands.as_slice() else {
            return false;
        };
        match c.args.as_slice() {
            [Expr::Dot(_)] => root,
            [Expr::Variable(_, n, f)] if f.is_empty() => {
                if n == "$" {
                    !self.in_define
                } else {
                    !self.in_define && self.root_var(n)
                }
            }
            _ => false,
        }
    }

    /// Whether the innermost variable of this name holds the root.
    fn root_var(&self, name: &str) -> bool {
        self.root_vars
            .borrow()
            .iter()
            .rev()
            .find_map(|scope| scope.get(name).copied())
            .unwrap_or(false)
    }

    fn unknown_root_field(&self, fields: &[SmolStr]) -> bool {
        match (self.root_fields, fields.first()) {
            (Some(known), Some(f)) => !known.contains(&f.as_str()),
            _ => false,
        }
    }

    fn error(&self, pos: Pos, message: String) -> GoError {
        let (_, column) = self.line_col(pos);
        GoError {
            message,
            line: Some(pos.line),
            column: Some(column),
        }
    }
}

/// Where a directive without a verb starts at the end of `s` (`50%`, `%-5`), if one does.
fn lone_trailing_percent(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < b.len() && (b"+-# 0.".contains(&b[j]) || b[j].is_ascii_digit()) {
            j += 1;
        }
        if j == b.len() {
            return Some(i);
        }
        i = j + 1;
    }
    None
}

/// A field chain's base (dot, a bare variable or an inner expression) and its fields.
fn chain_parts(e: &Expr) -> Option<(Expr, Vec<SmolStr>)> {
    match e {
        Expr::Field(pos, f) => Some((Expr::Dot(*pos), f.clone())),
        Expr::Variable(pos, n, f) if !f.is_empty() => {
            Some((Expr::Variable(*pos, n.clone(), Vec::new()), f.clone()))
        }
        Expr::Chain(_, inner, f) => Some(((**inner).clone(), f.clone())),
        _ => None,
    }
}

/// `base.f1.f2...` as one expression.
fn rebuild(pos: Pos, base: Expr, fields: Vec<SmolStr>) -> Expr {
    if fields.is_empty() {
        return base;
    }
    match base {
        Expr::Dot(_) => Expr::Field(pos, fields),
        Expr::Variable(p, n, f) if f.is_empty() => Expr::Variable(p, n, fields),
        other => Expr::Chain(pos, Box::new(other), fields),
    }
}

/// A chain through a semver method name (`$v.IncMinor.Minor`) calls the method helper for
/// that step, since gotmpl reads fields of maps only: `((method $v "IncMinor")).Minor`.
fn split_methods(e: Expr) -> Expr {
    let Some((base, fields)) = chain_parts(&e) else {
        return e;
    };
    let Some(i) = fields.iter().position(|f| METHODS.contains(&f.as_str())) else {
        return e;
    };
    let pos = e.pos();
    let recv = rebuild(pos, base, fields[..i].to_vec());
    let call = method_expr(pos, recv, &fields[i]);
    split_methods(rebuild(pos, call, fields[i + 1..].to_vec()))
}

/// `(method RECV "NAME")`: the engine's call of a Go method on a value.
fn method_expr(pos: Pos, recv: Expr, name: &str) -> Expr {
    Expr::Pipe(
        pos,
        PipeNode {
            pos,
            decl: Vec::new(),
            commands: vec![command(
                pos,
                vec![
                    ident(pos, FN_METHOD),
                    recv,
                    Expr::String(pos, Arc::from(name)),
                ],
            )],
            is_assign: false,
        },
    )
}

fn ident(pos: Pos, name: &str) -> Expr {
    Expr::Identifier(pos, SmolStr::new(name))
}

fn command(pos: Pos, args: Vec<Expr>) -> CommandNode {
    CommandNode { pos, args }
}

/// The position of a node (for nodes the rewrite adds after it).
fn pos_of(n: Option<&Node>) -> Pos {
    match n {
        Some(Node::Action(a)) => a.pos,
        _ => Pos::new(0, 1),
    }
}

/// `{{ $d = kept ID $d }}`: the dict call ID left (or `$d` unchanged when it did not run).
fn write_back(pos: Pos, var: SmolStr, id: i64) -> Node {
    Node::Action(ActionNode {
        pos,
        pipe: PipeNode {
            pos,
            decl: vec![var.clone()],
            commands: vec![command(
                pos,
                vec![
                    ident(pos, FN_KEPT),
                    Expr::Number(pos, Number::Int(id)),
                    Expr::Variable(pos, var, Vec::new()),
                ],
            )],
            is_assign: true,
        },
    })
}

fn push_call(pipe: &mut PipeNode, name: &str) {
    let pos = pipe.pos;
    pipe.commands.push(command(pos, vec![ident(pos, name)]));
}

/// `(unknownField "Foo")`: an error with Go's wording when it runs.
fn unknown_field(pos: Pos, field: &SmolStr) -> Expr {
    Expr::Pipe(
        pos,
        PipeNode {
            pos,
            decl: Vec::new(),
            commands: vec![command(
                pos,
                vec![
                    ident(pos, FN_FIELD),
                    Expr::String(pos, Arc::from(field.as_str())),
                ],
            )],
            is_assign: false,
        },
    )
}

/// Go's block structure, which gotmpl's parser does not enforce: every `if`, `range`, `with`,
/// `define` and `block` has its `{{end}}`, `{{else}}` and `{{end}}` appear only inside one,
/// `{{break}}`/`{{continue}}` only inside a `range`. (gotmpl ends the template at an unmatched
/// `{{end}}` and accepts a missing one at the end of the text.)
pub(super) fn check_structure(src: &str) -> Result<(), GoError> {
    let b = src.as_bytes();
    let mut stack: Vec<&str> = Vec::new();
    let mut i = 0;
    let at = |off: usize, message: String| {
        let before = &src[..off];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rfind('\n')
            .map_or(before.len(), |p| before.len() - p - 1)
            + 1;
        GoError {
            message,
            line: Some(line),
            column: Some(column),
        }
    };
    while let Some(rel) = src[i..].find("{{") {
        let start = i + rel;
        let mut j = start + 2;
        if b.get(j) == Some(&b'-') && b.get(j + 1).is_some_and(|c| c.is_ascii_whitespace()) {
            j += 1;
        }
        while b.get(j).is_some_and(|c| c.is_ascii_whitespace()) {
            j += 1;
        }
        if src[j..].starts_with("/*") {
            match src[j..].find("*/") {
                Some(e) => {
                    i = j + e + 2;
                    continue;
                }
                None => return Ok(()), // gotmpl reports the unclosed comment
            }
        }
        let word_end = src[j..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(src.len(), |e| j + e);
        let word = &src[j..word_end];
        // Find the end of the action, skipping quoted text.
        let mut k = word_end;
        let mut end = None;
        while k < b.len() {
            match b[k] {
                b'"' | b'\'' => {
                    let q = b[k];
                    k += 1;
                    while k < b.len() && b[k] != q {
                        if b[k] == b'\\' {
                            k += 1;
                        }
                        k += 1;
                    }
                    k += 1;
                }
                b'`' => {
                    k += 1;
                    while k < b.len() && b[k] != b'`' {
                        k += 1;
                    }
                    k += 1;
                }
                b'}' if b.get(k + 1) == Some(&b'}') => {
                    end = Some(k + 2);
                    break;
                }
                _ => k += 1,
            }
        }
        let Some(end) = end else {
            return Ok(()); // gotmpl reports the unclosed action
        };
        // (`else if` / `else with` share the outer `end`.)
        match word {
            "if" | "range" | "with" | "define" | "block" => stack.push(word),
            "end" if stack.pop().is_none() => {
                return Err(at(start, "unexpected {{end}}".into()));
            }
            "else" if !matches!(stack.last(), Some(&("if" | "range" | "with"))) => {
                return Err(at(start, "unexpected {{else}}".into()));
            }
            "break" | "continue" if !stack.contains(&"range") => {
                return Err(at(start, format!("{{{{{word}}}}} outside {{{{range}}}}")));
            }
            _ => {}
        }
        i = end;
    }
    if !stack.is_empty() {
        return Err(at(src.len(), "unexpected EOF".into()));
    }
    Ok(())
}
