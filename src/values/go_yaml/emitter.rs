//! A port of the parts of go-yaml v2's emitter (`emitterc.go`) that `yaml.Marshal` of a
//! JSON-shaped tree reaches: block mappings and sequences, `{}`/`[]` for empty collections, and
//! plain, single-quoted, double-quoted and literal scalars, with the emitter's column tracking so
//! that line folding at 80 columns and indentation match byte for byte.
//!
//! Limits: no tags, anchors or folded scalars, and flow style only for empty collections
//! (`Marshal` of such a tree never asks for more), so every scalar is in block context; the
//! stream-end `...` marker is never written (`Marshal` clears it).

/// The scalar style the encoder asks for; the emitter may still fall back to a quoted style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// Serialization events, as go-yaml's encoder produces them for one document.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    SequenceStart,
    SequenceEnd,
    MappingStart,
    MappingEnd,
    Scalar(String, Style),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    DocumentEnd,
    EmptyCollectionEnd,
    BlockSequenceFirstItem,
    BlockSequenceItem,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingSimpleValue,
    BlockMappingValue,
}

const BEST_INDENT: i32 = 2;
const BEST_WIDTH: i32 = 80;

/// What `yaml_emitter_analyze_scalar` learns about a scalar's text.
#[derive(Debug, Default, Clone, Copy)]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// Emit one document (the events of its root node) as go-yaml v2 `Marshal` would.
pub fn emit(events: &[Event]) -> String {
    let mut e = Emitter {
        events,
        out: String::new(),
        states: vec![State::DocumentEnd],
        indent: -1,
        indents: Vec::new(),
        column: 0,
        whitespace: true,
        indention: true,
        mapping_context: false,
        simple_key_context: false,
        analysis: Analysis::default(),
    };
    // Document start is implicit (no `---`); the root node comes first.
    let mut state = None;
    for (head, event) in events.iter().enumerate() {
        if let Event::Scalar(value, _) = event {
            e.analysis = analyze(value);
        }
        state = Some(match state {
            None => e.node(head, false),
            Some(s) => e.dispatch(s, head),
        });
    }
    // Document end: finish the last line.
    e.write_indent();
    e.out
}

struct Emitter<'a> {
    events: &'a [Event],
    out: String,
    states: Vec<State>,
    indent: i32,
    indents: Vec<i32>,
    column: i32,
    whitespace: bool,
    indention: bool,
    mapping_context: bool,
    simple_key_context: bool,
    analysis: Analysis,
}

impl Emitter<'_> {
    fn dispatch(&mut self, state: State, head: usize) -> State {
        match state {
            State::EmptyCollectionEnd => self.pop_state(),
            State::BlockSequenceFirstItem => self.block_sequence_item(head, true),
            State::BlockSequenceItem => self.block_sequence_item(head, false),
            State::BlockMappingFirstKey => self.block_mapping_key(head, true),
            State::BlockMappingKey => self.block_mapping_key(head, false),
            State::BlockMappingSimpleValue => self.block_mapping_value(head, true),
            State::BlockMappingValue => self.block_mapping_value(head, false),
            State::DocumentEnd => State::DocumentEnd,
        }
    }

    fn pop_state(&mut self) -> State {
        self.states.pop().unwrap_or(State::DocumentEnd)
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn block_sequence_item(&mut self, head: usize, first: bool) -> State {
        if first {
            self.increase_indent(false, self.mapping_context && !self.indention);
        }
        if matches!(self.events.get(head), Some(Event::SequenceEnd)) {
            self.pop_indent();
            return self.pop_state();
        }
        self.write_indent();
        self.write_indicator("-", true, false, true);
        self.states.push(State::BlockSequenceItem);
        self.node(head, false)
    }

    fn block_mapping_key(&mut self, head: usize, first: bool) -> State {
        if first {
            self.increase_indent(false, false);
        }
        if matches!(self.events.get(head), Some(Event::MappingEnd)) {
            self.pop_indent();
            return self.pop_state();
        }
        self.write_indent();
        if self.check_simple_key(head) {
            self.states.push(State::BlockMappingSimpleValue);
            self.simple_key_context = true;
            return self.node_in(head, true);
        }
        self.write_indicator("?", true, false, true);
        self.states.push(State::BlockMappingValue);
        self.node(head, true)
    }

    fn block_mapping_value(&mut self, head: usize, simple: bool) -> State {
        if simple {
            self.write_indicator(":", false, false, false);
        } else {
            self.write_indent();
            self.write_indicator(":", true, false, true);
        }
        self.states.push(State::BlockMappingKey);
        self.node(head, true)
    }

    /// `yaml_emitter_emit_node` outside a simple key.
    fn node(&mut self, head: usize, mapping: bool) -> State {
        self.simple_key_context = false;
        self.node_in(head, mapping)
    }

    fn node_in(&mut self, head: usize, mapping: bool) -> State {
        self.mapping_context = mapping;
        let next = self.events.get(head + 1);
        match self.events.get(head) {
            Some(Event::Scalar(value, style)) => {
                let style = self.select_style(value, *style);
                self.increase_indent(true, false);
                self.write_scalar(value, style);
                self.pop_indent();
                self.pop_state()
            }
            // Empty collections are written in flow style: `[]`, `{}`.
            Some(Event::SequenceStart) if next == Some(&Event::SequenceEnd) => {
                self.empty_collection("[", "]")
            }
            Some(Event::MappingStart) if next == Some(&Event::MappingEnd) => {
                self.empty_collection("{", "}")
            }
            Some(Event::SequenceStart) => State::BlockSequenceFirstItem,
            Some(Event::MappingStart) => State::BlockMappingFirstKey,
            _ => self.pop_state(),
        }
    }

    /// Write `[]`/`{}`; the end event that follows only pops the state.
    fn empty_collection(&mut self, open: &str, close: &str) -> State {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
        State::EmptyCollectionEnd
    }

    /// A key is simple when it is a single-line scalar of at most 128 bytes (or an empty collection).
    fn check_simple_key(&self, head: usize) -> bool {
        match self.events.get(head) {
            Some(Event::Scalar(value, _)) => !self.analysis.multiline && value.len() <= 128,
            Some(Event::SequenceStart) => self.events.get(head + 1) == Some(&Event::SequenceEnd),
            Some(Event::MappingStart) => self.events.get(head + 1) == Some(&Event::MappingEnd),
            _ => false,
        }
    }

    /// `yaml_emitter_select_scalar_style` in block context.
    fn select_style(&self, value: &str, requested: Style) -> Style {
        let a = self.analysis;
        let mut style = requested;
        if self.simple_key_context && a.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain
            && (!a.block_plain_allowed || (value.is_empty() && self.simple_key_context))
        {
            style = Style::SingleQuoted;
        }
        if style == Style::SingleQuoted && !a.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if style == Style::Literal && (!a.block_allowed || self.simple_key_context) {
            style = Style::DoubleQuoted;
        }
        style
    }

    fn write_scalar(&mut self, value: &str, style: Style) {
        let allow_breaks = !self.simple_key_context;
        match style {
            Style::Plain => self.write_plain(value, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted(value, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted(value, allow_breaks),
            Style::Literal => self.write_literal(value),
        }
    }

    // --- low-level output -------------------------------------------------------------------

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// Copy one character (`write`): one column whatever its byte width.
    fn write_char(&mut self, c: char) {
        self.put(c);
    }

    /// Copy a line-break character (`write_break`).
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in indicator.chars() {
            self.write_char(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn write_plain(&mut self, value: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_is_space {
                    self.write_indent();
                } else {
                    self.write_char(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write_char(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let inner = i > 0 && i + 1 < chars.len() && chars.get(i + 1) != Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && inner {
                    self.write_indent();
                } else {
                    self.write_char(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.write_char(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        // go-yaml's `is_bom(value, i)` looks at the start of the value whatever `i` is.
        let starts_with_bom = value.starts_with('\u{feff}');
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || starts_with_bom || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match escape(c) {
                    Some(e) => self.put(e),
                    None => {
                        let v = u32::from(c);
                        let (marker, width) = if v <= 0xFF {
                            ('x', 2)
                        } else if v <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(marker);
                        for digit in format!("{v:0width$X}").chars() {
                            self.put(digit);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < chars.len()
                {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.write_char(c);
                }
                spaces = true;
            } else {
                self.write_char(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        // Block scalar hints: an explicit indentation when the text starts with a space or
        // break, `-` without a final break, `+` when the text ends with two breaks (or is one).
        if value.starts_with(' ') || value.chars().next().is_some_and(is_break) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let mut rev = value.chars().rev();
        let chomp = match (rev.next(), rev.next()) {
            (Some(last), _) if !is_break(last) => Some("-"),
            (Some(_), None) => Some("+"),
            (Some(_), Some(prev)) if is_break(prev) => Some("+"),
            _ => None,
        };
        if let Some(chomp) = chomp {
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in value.chars() {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write_char(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// The two-character escapes of go-yaml's double-quoted writer.
fn escape(c: char) -> Option<char> {
    Some(match c {
        '\0' => '0',
        '\u{07}' => 'a',
        '\u{08}' => 'b',
        '\t' => 't',
        '\n' => 'n',
        '\u{0b}' => 'v',
        '\u{0c}' => 'f',
        '\r' => 'r',
        '\u{1b}' => 'e',
        '"' => '"',
        '\\' => '\\',
        '\u{85}' => 'N',
        '\u{a0}' => '_',
        '\u{2028}' => 'L',
        '\u{2029}' => 'P',
        _ => return None,
    })
}

/// go-yaml's `is_printable`, per character: LF, printable ASCII, and the BMP above U+00A0 except
/// surrogates, BOM and U+FFFE/U+FFFF. Characters outside the BMP are *not* printable for it.
fn is_printable(c: char) -> bool {
    let v = u32::from(c);
    v == 0x0A
        || (0x20..=0x7E).contains(&v)
        || ((0xA0..=0xFFFD).contains(&v) && !(0xD800..=0xDFFF).contains(&v) && v != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: Option<char>) -> bool {
    matches!(c, Some(' ' | '\t'))
}

/// `yaml_emitter_analyze_scalar`: which styles can represent `value`.
fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = value.chars().collect();
    // Indicators that forbid a plain scalar in block context (flow-only indicators do not matter).
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let (mut line_breaks, mut special_characters) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let last = chars.len() - 1;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = i == last || is_blank(chars.get(i + 1).copied());
        block_indicators |= if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => true,
                '?' | ':' | '-' => followed_by_whitespace,
                _ => false,
            }
        } else {
            match c {
                ':' => followed_by_whitespace,
                '#' => preceded_by_whitespace,
                _ => false,
            }
        };
        special_characters |= !is_printable(c);
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= i == last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = matches!(c, ' ' | '\t' | '\0') || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break || line_breaks {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        a = Analysis {
            multiline: line_breaks,
            ..Analysis::default()
        };
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}
