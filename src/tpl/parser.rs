//! Parser for the supported Go-template subset: text and `{{ pipeline }}` actions, where a pipeline
//! is `command | command …` and a command is a function call, a field chain or a literal.
//! Control structures, variables other than `$` and unknown functions are rejected here, before
//! anything is evaluated (Go also parses the whole template first).

use std::borrow::Cow;
use std::ops::Range;

use super::lexer::{Item, Tok};

/// The functions st2k8s evaluates (Sprig semantics, see `funcs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Func {
    Quote,
    Squote,
    Default,
    Lower,
    Upper,
    Title,
    Trim,
    TrimSuffix,
    TrimPrefix,
    Replace,
    Printf,
    ToString,
}

impl Func {
    /// Every supported function, by its template name.
    pub(super) const ALL: [(&'static str, Func); 12] = [
        ("default", Func::Default),
        ("lower", Func::Lower),
        ("printf", Func::Printf),
        ("quote", Func::Quote),
        ("replace", Func::Replace),
        ("squote", Func::Squote),
        ("title", Func::Title),
        ("toString", Func::ToString),
        ("trim", Func::Trim),
        ("trimPrefix", Func::TrimPrefix),
        ("trimSuffix", Func::TrimSuffix),
        ("upper", Func::Upper),
    ];

    /// The template name of the function.
    pub(super) fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }

    fn by_name(name: &str) -> Option<Func> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }
}

/// Go template keywords: they open control structures, none of which st2k8s evaluates.
const KEYWORDS: [&str; 10] = [
    "block", "break", "continue", "define", "else", "end", "if", "range", "template", "with",
];

/// One piece of a parsed template.
#[derive(Debug)]
pub(super) enum Node<'t> {
    Text(&'t str),
    /// An action and its byte range in the template (for error messages).
    Action {
        pipe: Pipeline<'t>,
        span: Range<usize>,
    },
}

/// `cmd | cmd | …`: each command's result is passed as the last argument of the next.
#[derive(Debug)]
pub(super) struct Pipeline<'t> {
    pub cmds: Vec<Command<'t>>,
}

/// A command: a function and its arguments, or a single operand.
#[derive(Debug)]
pub(super) struct Command<'t> {
    pub args: Vec<Operand<'t>>,
}

/// An operand of a command.
#[derive(Debug)]
pub(super) enum Operand<'t> {
    Func(Func),
    /// Fields read from the root (`.`, `$`, `.Values.a`, `$.Release.Name`) or from a
    /// parenthesised pipeline's result (`(…).tag`).
    Path {
        base: Base<'t>,
        fields: Vec<&'t str>,
    },
    Str(Cow<'t, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
}

/// What a field chain starts from.
#[derive(Debug)]
pub(super) enum Base<'t> {
    Root,
    Pipe(Box<Pipeline<'t>>),
}

/// A parse error at a byte offset.
#[derive(Debug, PartialEq)]
pub(super) struct ParseError {
    pub pos: usize,
    pub message: String,
}

/// Parse the token stream of `text` into nodes.
pub(super) fn parse<'t>(text: &'t str, items: &[Item<'t>]) -> Result<Vec<Node<'t>>, ParseError> {
    let mut parser = Parser {
        text,
        items,
        at: 0,
        action: 0..0,
    };
    let mut nodes = Vec::new();
    while let Some(item) = items.get(parser.at) {
        match &item.tok {
            Tok::Text(t) => {
                nodes.push(Node::Text(t));
                parser.at += 1;
            }
            _ => nodes.push(parser.action()?),
        }
    }
    Ok(nodes)
}

struct Parser<'i, 't> {
    text: &'t str,
    items: &'i [Item<'t>],
    at: usize,
    /// Byte range of the action being parsed.
    action: Range<usize>,
}

impl<'t> Parser<'_, 't> {
    fn peek(&self) -> Option<&Item<'t>> {
        self.items.get(self.at)
    }

    fn next(&mut self) -> Option<Item<'t>> {
        let item = self.items.get(self.at).cloned();
        self.at += 1;
        item
    }

    fn err<T>(&self, pos: usize, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            pos,
            message: message.into(),
        })
    }

    /// Go's "unexpected X in Y", naming the kind of token: what is written may be a secret.
    fn unexpected<T>(&self, item: &Item, context: &str) -> Result<T, ParseError> {
        let what = match &item.tok {
            Tok::Str(_) => "string".to_string(),
            Tok::Int(_) | Tok::Float(_) => "number".to_string(),
            Tok::Ident(_) | Tok::Bool(_) | Tok::Nil => "word".to_string(),
            Tok::Field(_) => "field".to_string(),
            Tok::Variable(_) => "variable".to_string(),
            // One character of the template's own syntax.
            _ => {
                let written = self.text.get(item.start..item.end).unwrap_or_default();
                format!("`{written}`")
            }
        };
        self.err(item.start, format!("unexpected {what} in {context}"))
    }

    fn action(&mut self) -> Result<Node<'t>, ParseError> {
        let open = self.next().map_or(0, |i| i.start);
        // The lexer always closes an action with a right delimiter.
        let close = self.items[self.at..]
            .iter()
            .find(|i| i.tok == Tok::RightDelim)
            .map_or(open, |i| i.end);
        self.action = open..close;
        let pipe = self.pipeline(false)?;
        self.next(); // the right delimiter
        Ok(Node::Action {
            pipe,
            span: open..close,
        })
    }

    /// Commands up to `}}` (or `)` when `in_paren`), which is left for the caller.
    fn pipeline(&mut self, in_paren: bool) -> Result<Pipeline<'t>, ParseError> {
        let start = self.peek().map_or(self.action.end, |i| i.start);
        let mut cmds: Vec<Command<'t>> = Vec::new();
        loop {
            let Some(item) = self.peek() else {
                return self.err(self.action.end, "unclosed action");
            };
            match &item.tok {
                Tok::RightDelim if in_paren => return self.err(start, "unclosed left paren"),
                Tok::RightDelim => break,
                Tok::RightParen if in_paren => break,
                Tok::RightParen => return self.err(item.start, "unexpected right paren"),
                tok if starts_operand(tok) => cmds.push(self.command()?),
                _ => return self.unexpected(item, "command"),
            }
        }
        if cmds.is_empty() {
            let what = if in_paren {
                "parenthesized pipeline"
            } else {
                "command"
            };
            return self.err(start, format!("missing value for {what}"));
        }
        // A constant or the dot cannot receive the previous command's result (Go checks this
        // when parsing; fields and parenthesised pipelines fail when evaluated).
        let constant = |c: &Command| match c.args.first() {
            Some(
                Operand::Str(_)
                | Operand::Int(_)
                | Operand::Float(_)
                | Operand::Bool(_)
                | Operand::Nil,
            ) => true,
            Some(Operand::Path {
                base: Base::Root,
                fields,
            }) => fields.is_empty(),
            _ => false,
        };
        if let Some(n) = cmds.iter().skip(1).position(constant) {
            return self.err(
                start,
                format!("non executable command in pipeline stage {}", n + 2),
            );
        }
        Ok(Pipeline { cmds })
    }

    /// Operands separated by spaces, ending before `}}`/`)` or after `|`.
    fn command(&mut self) -> Result<Command<'t>, ParseError> {
        let mut args = Vec::new();
        loop {
            args.push(self.operand()?);
            let Some(item) = self.peek() else {
                return self.err(self.action.end, "unclosed action");
            };
            match &item.tok {
                Tok::RightDelim | Tok::RightParen => break,
                Tok::Pipe => {
                    self.at += 1;
                    break;
                }
                tok if item.spaced && starts_operand(tok) => {}
                _ => return self.unexpected(item, "operand"),
            }
        }
        Ok(Command { args })
    }

    /// One term, followed by any fields chained directly onto it.
    fn operand(&mut self) -> Result<Operand<'t>, ParseError> {
        let Some(item) = self.next() else {
            return self.err(self.action.end, "unclosed action");
        };
        let mut chainable = true;
        let mut operand = match item.tok {
            Tok::Ident(name) if KEYWORDS.contains(&name) => {
                return self.err(
                    item.start,
                    format!(
                        "unsupported control structure `{name}` (only expressions are evaluated)"
                    ),
                );
            }
            Tok::Ident(name) => match Func::by_name(name) {
                Some(f) => Operand::Func(f),
                None => {
                    // The word is not quoted: it may be part of a secret that contains `{{`.
                    let supported: Vec<&str> = Func::ALL.iter().map(|(n, _)| *n).collect();
                    return self.err(
                        item.start,
                        format!(
                            "unsupported template function (supported: {})",
                            supported.join(", ")
                        ),
                    );
                }
            },
            Tok::Dot => {
                chainable = false;
                Operand::Path {
                    base: Base::Root,
                    fields: Vec::new(),
                }
            }
            Tok::Field(f) => Operand::Path {
                base: Base::Root,
                fields: vec![f],
            },
            Tok::Variable("$") => Operand::Path {
                base: Base::Root,
                fields: Vec::new(),
            },
            Tok::Variable(_) => {
                return self.err(item.start, "unsupported variable (only `$` is available)");
            }
            Tok::LeftParen => {
                let pipe = self.pipeline(true)?;
                self.at += 1; // the right paren
                Operand::Path {
                    base: Base::Pipe(Box::new(pipe)),
                    fields: Vec::new(),
                }
            }
            Tok::Str(s) => Operand::Str(s),
            Tok::Int(i) => Operand::Int(i),
            Tok::Float(f) => Operand::Float(f),
            Tok::Bool(b) => Operand::Bool(b),
            Tok::Nil => Operand::Nil,
            Tok::Assign => return self.err(item.start, "unsupported variable assignment"),
            _ => return self.unexpected(&item, "operand"),
        };
        while let Some(Item {
            tok: Tok::Field(f),
            spaced: false,
            start,
            ..
        }) = self.peek()
        {
            match &mut operand {
                Operand::Path { fields, .. } if chainable => fields.push(f),
                _ => {
                    return self.err(
                        *start,
                        format!("unexpected field `.{f}` after a term that has no fields"),
                    );
                }
            }
            self.at += 1;
        }
        Ok(operand)
    }
}

fn starts_operand(tok: &Tok) -> bool {
    matches!(
        tok,
        Tok::Ident(_)
            | Tok::Dot
            | Tok::Field(_)
            | Tok::Variable(_)
            | Tok::LeftParen
            | Tok::Str(_)
            | Tok::Int(_)
            | Tok::Float(_)
            | Tok::Bool(_)
            | Tok::Nil
            | Tok::Assign
    )
}

#[cfg(test)]
mod tests {
    use super::super::lexer::lex;
    use super::*;

    fn parse_err(text: &str) -> String {
        let items = lex(text).expect("lexes");
        parse(text, &items).expect_err(text).message
    }

    #[test]
    fn parses_pipelines_and_chains() {
        let text = "a{{ (.Values.image).tag | printf \"%s-x\" | quote }}";
        let items = lex(text).expect("lexes");
        let nodes = parse(text, &items).expect("parses");
        let [Node::Text("a"), Node::Action { pipe, span }] = nodes.as_slice() else {
            panic!("unexpected nodes {nodes:?}");
        };
        assert_eq!(span.clone(), 1..text.len());
        assert_eq!(pipe.cmds.len(), 3);
        let Operand::Path {
            base: Base::Pipe(inner),
            fields,
        } = &pipe.cmds[0].args[0]
        else {
            panic!("expected a chain, got {:?}", pipe.cmds[0]);
        };
        assert_eq!(fields, &["tag"]);
        assert!(
            matches!(&inner.cmds[0].args[0], Operand::Path { base: Base::Root, fields } if fields == &["Values", "image"])
        );
        assert!(matches!(
            pipe.cmds[1].args.as_slice(),
            [Operand::Func(Func::Printf), Operand::Str(_)]
        ));
        assert!(matches!(
            pipe.cmds[2].args.as_slice(),
            [Operand::Func(Func::Quote)]
        ));
    }

    #[test]
    fn rejects_unsupported_and_malformed_actions() {
        for (text, message) in [
            (
                "{{ include \"x\" . }}",
                "unsupported template function (supported:",
            ),
            (
                "{{ if .A }}x{{ end }}",
                "unsupported control structure `if`",
            ),
            ("{{ end }}", "unsupported control structure `end`"),
            ("{{ $x := 1 }}", "unsupported variable"),
            ("{{ $x }}", "unsupported variable"),
            ("{{ }}", "missing value for command"),
            ("{{ ( ) }}", "missing value for parenthesized pipeline"),
            ("{{ | upper }}", "unexpected `|` in command"),
            ("{{ ( \"a\" }}", "unclosed left paren"),
            ("{{ \"a\" ) }}", "unexpected right paren"),
            ("{{ 1 | 2 }}", "non executable command in pipeline stage 2"),
            ("{{ \"a\"\"b\" }}", "unexpected string in operand"),
            ("{{ \"b\" } }}", "unexpected `}` in operand"),
            ("{{ .. }}", "unexpected `.` in operand"),
            ("{{ \"a\".b }}", "unexpected field"),
        ] {
            let message_got = parse_err(text);
            assert!(message_got.contains(message), "{text}: {message_got}");
        }
    }
}
