//! RubyGems: installed gem specifications and Bundler's lockfile.
//!
//! Installed ([`Evidence::Installed`]): the `NAME-VERSION[-PLATFORM].gemspec` files RubyGems
//! writes into `GEM_HOME/specifications/` (`specifications/default/` for the gems Ruby itself
//! ships), wherever the gem home is: `/usr/local/lib/ruby/gems/3.x/`, `/var/lib/gems/3.x/`,
//! Debian's `/usr/share/rubygems-integration/*/` and `/usr/lib/<triplet>/rubygems-integration/*/`,
//! Bundler's `vendor/bundle/ruby/3.x/`. A gemspec is Ruby code, and a scanner must **never run
//! it**: it is read statically, as the Ruby that `Gem::Specification#to_ruby` writes:
//!
//! ```ruby
//! Gem::Specification.new do |s|
//!   s.name = "rack".freeze
//!   s.version = "2.2.22"
//!   s.platform = "x86_64-linux".freeze
//!   s.authors = ["Leah Neukirchen".freeze]
//!   s.licenses = ["MIT".freeze]
//! ```
//!
//! The block's variable is whatever `|x|` names. Only assignments at the start of a statement
//! count (so a description that quotes `s.version = ...` is not one), and the first assignment of
//! each attribute wins. A value must be a literal: a string (`"..."` with Ruby's escapes,
//! `'...'`, `%q{...}`, `%Q(...)`), optionally `.freeze`d, an array of those, `%w[...]`, or
//! `Gem::Version.new("...")`; `s.version = Foo::VERSION`, interpolation (`"#{x}"`), or a
//! literal followed by more code (`"1" + x`) is not, and a `name` or `version` that is not a
//! literal makes the file an error. Strings, comments, heredocs and `=begin` blocks are
//! skipped while looking for assignments, so their contents are never mistaken for code.
//! Read: `name`, `version`, `platform` (kept as the note `platform:<p>` unless it is `ruby`),
//! `licenses`/`license` and `authors`/`author`.
//!
//! Declared ([`Evidence::Lockfile`]): `Gemfile.lock` (and `gems.locked`, its Bundler 2 name),
//! outside installed gems (`.../gems/<name>-<version>/Gemfile.lock`, in any gem home or
//! Bundler git checkout, is that gem's own and describes nothing installed). The specs of its `GEM`, `GIT`, `PATH` and `PLUGIN SOURCE` sections are the
//! 4-space-indented `name (version)` lines (6 spaces are their dependencies). As Bundler's own
//! parser does, everything after the first `-` of the version is the platform:
//! `nokogiri (1.13.10-x86_64-linux)` is nokogiri 1.13.10, noted `platform:x86_64-linux`; the
//! same version locked for several platforms is reported once, with every platform noted. The
//! section is kept as a note too: `git+<remote>#<revision>`, `path:<remote>` (the app's own
//! gems, `remote: .`), `plugin:<remote>`, and `index:<remote>` for a `GEM` source other than
//! rubygems.org. A lockfile records no groups, so nothing is dev.

use std::collections::HashMap;

use super::{Evidence, LangEcosystem, LangPackage};

/// Whether `path` (relative to the image root, normalised, no leading '/') is a file this
/// module parses.
pub(crate) fn wants(path: &str) -> bool {
    let mut segs = path.rsplit('/');
    let file = segs.next().unwrap_or_default();
    match file {
        "Gemfile.lock" | "gems.locked" => !inside_installed_gem(path),
        _ if has_stem(file, ".gemspec") => {
            let parent = segs.next().unwrap_or_default();
            parent == "specifications"
                || (parent == "default" && segs.next() == Some("specifications"))
        }
        _ => false,
    }
}

/// Parses one file `wants` accepted, dispatching on its name.
pub(crate) fn parse(path: &str, bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let file = path.rsplit('/').next().unwrap_or(path);
    match file {
        "Gemfile.lock" | "gems.locked" => parse_gemfile_lock(bytes),
        _ if file.ends_with(".gemspec") => parse_gemspec(bytes).map(|p| vec![p]),
        _ => Err(format!(
            "{file:?} is not a gem specification or Gemfile.lock"
        )),
    }
}

fn has_stem(name: &str, suffix: &str) -> bool {
    name.len() > suffix.len() && name.ends_with(suffix)
}

/// `.../gems/<name>-<version>/...`: an installed gem's own files (or a Bundler git checkout's,
/// `bundler/gems/<name>-<sha>/`), which is how every gem home lays gems out.
fn inside_installed_gem(path: &str) -> bool {
    let segs: Vec<&str> = path.split('/').collect();
    segs.windows(3)
        .any(|w| w[0] == "gems" && w[1].contains('-') && !w[2].is_empty())
}

fn gem(name: &str, version: &str, evidence: Evidence) -> LangPackage {
    LangPackage::new(LangEcosystem::Gem, name, version, evidence)
}

/// A name or version fit to report: short, no whitespace or control characters.
fn token_ok(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

// ---------------------------------------------------------------- gemspec

/// Entries kept from one array literal (licences, authors); the rest are read and dropped.
const MAX_LIST: usize = 64;
/// Heredocs pending at once on one line; more is not Ruby anyone writes.
const MAX_HEREDOCS: usize = 16;
/// The longest author list kept, joined (bundler's spec names 15 people).
const MAX_AUTHOR: usize = 200;

/// A literal value assigned to a spec attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Str(String),
    List(Vec<String>),
    /// Code, not a literal: the text as written, for the error message.
    Code(String),
}

impl Value {
    fn list(&self) -> Vec<String> {
        match self {
            Value::Str(s) => vec![s.clone()],
            Value::List(l) => l.clone(),
            Value::Code(_) => Vec::new(),
        }
    }
}

/// The attributes customs reads.
const WANTED: [&str; 7] = [
    "name", "version", "platform", "licenses", "license", "authors", "author",
];

fn parse_gemspec(bytes: &[u8]) -> Result<LangPackage, String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let attrs = GemspecScanner::new(bytes).scan()?;
    let literal = |key: &str| -> Result<String, String> {
        match attrs.get(key) {
            Some(Value::Str(s)) => Ok(s.clone()),
            Some(Value::Code(code)) => Err(format!(
                "`{key}` is not a literal (`{code}`): gemspecs are read without running them"
            )),
            Some(Value::List(_)) => Err(format!("`{key}` is an array, not a string")),
            None => Err(format!("no `{key}` assignment in the specification block")),
        }
    };
    let name = literal("name")?;
    let version = literal("version")?;
    if !token_ok(&name, 256) {
        let name = clip(&name);
        return Err(format!(
            "gem name {name:?} is empty, too long or has spaces"
        ));
    }
    if !token_ok(&version, 128) {
        let version = clip(&version);
        return Err(format!(
            "gem version {version:?} is empty, too long or has spaces"
        ));
    }
    let mut pkg = gem(&name, &version, Evidence::Installed);
    if let Some(Value::Str(platform)) = attrs.get("platform")
        && platform != "ruby"
        && token_ok(platform, 128)
    {
        pkg.note = Some(format!("platform:{platform}"));
    }
    let licenses = attrs.get("licenses").or_else(|| attrs.get("license"));
    pkg.licenses = licenses.map(Value::list).unwrap_or_default();
    pkg.licenses
        .retain(|l| !l.trim().is_empty() && l.len() <= 200);
    pkg.licenses.truncate(16);
    let authors = attrs.get("authors").or_else(|| attrs.get("author"));
    pkg.author = join_authors(&authors.map(Value::list).unwrap_or_default());
    Ok(pkg)
}

/// At most 60 characters of `s`, for a message.
fn clip(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_owned(),
    }
}

/// The authors, comma-separated, as many as fit in [`MAX_AUTHOR`] bytes ("et al." for the rest).
fn join_authors(authors: &[String]) -> Option<String> {
    let mut out = String::new();
    let names = authors.iter().map(|a| a.trim()).filter(|a| !a.is_empty());
    for (i, a) in names.enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        if out.len() + sep.len() + a.len() > MAX_AUTHOR {
            if out.is_empty() {
                return None;
            }
            out.push_str(" et al.");
            break;
        }
        out.push_str(sep);
        out.push_str(a);
    }
    (!out.is_empty()).then_some(out)
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The closing delimiter of a `%` literal opened with `open`, and whether it nests.
fn closing(open: u8) -> (u8, bool) {
    match open {
        b'(' => (b')', true),
        b'[' => (b']', true),
        b'{' => (b'}', true),
        b'<' => (b'>', true),
        other => (other, false),
    }
}

/// A string literal's contents, or `None` when it interpolates (its value is computed).
type Lit = Option<Vec<u8>>;

/// One pass over a gemspec: skips what is not code (strings, comments, heredocs, `=begin`
/// blocks) and records the literal assignments to the block variable's attributes. Every step
/// moves forward, so the work is linear in the file's length.
struct GemspecScanner<'a> {
    b: &'a [u8],
    i: usize,
    var: Option<&'a [u8]>,
    attrs: HashMap<&'static str, Value>,
    /// Terminators of heredocs opened on the current line (`squiggly`: indented).
    heredocs: Vec<(Vec<u8>, bool)>,
}

impl<'a> GemspecScanner<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self {
            b,
            i: 0,
            var: None,
            attrs: HashMap::new(),
            heredocs: Vec::new(),
        }
    }

    fn peek(&self, at: usize) -> u8 {
        self.b.get(at).copied().unwrap_or(0)
    }

    fn starts_with(&self, at: usize, s: &[u8]) -> bool {
        self.b.get(at..).is_some_and(|r| r.starts_with(s))
    }

    fn skip_blanks(&self, mut at: usize) -> usize {
        while matches!(self.peek(at), b' ' | b'\t') {
            at += 1;
        }
        at
    }

    /// Blanks, newlines and comments (inside an array literal).
    fn skip_space(&self, mut at: usize) -> usize {
        loop {
            match self.peek(at) {
                b' ' | b'\t' | b'\r' | b'\n' => at += 1,
                b'#' => at = self.line_end(at),
                _ => return at,
            }
        }
    }

    fn line_end(&self, at: usize) -> usize {
        self.b[at.min(self.b.len())..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |p| at + p)
    }

    fn scan(mut self) -> Result<HashMap<&'static str, Value>, String> {
        let mut stmt_start = true;
        let mut line_start = true;
        while self.i < self.b.len() {
            let c = self.b[self.i];
            if line_start {
                line_start = false;
                if self.starts_with(self.i, b"=begin") && !is_ident(self.peek(self.i + 6)) {
                    self.skip_block_comment();
                    line_start = true;
                    continue;
                }
                if self.starts_with(self.i, b"__END__")
                    && matches!(self.peek(self.i + 7), b'\n' | b'\r' | 0)
                {
                    break;
                }
            }
            match c {
                b'\n' => {
                    self.i += 1;
                    self.skip_heredoc_bodies();
                    stmt_start = true;
                    line_start = true;
                }
                b' ' | b'\t' | b'\r' => self.i += 1,
                b';' => {
                    self.i += 1;
                    stmt_start = true;
                }
                b'#' => self.i = self.line_end(self.i),
                b'"' | b'\'' | b'`' => {
                    self.i = self.string(self.i).map_or(self.b.len(), |(_, end)| end);
                    stmt_start = false;
                }
                b'%' => {
                    self.i = self
                        .percent_literal(self.i)
                        .map_or(self.i + 1, |(_, end)| end);
                    stmt_start = false;
                }
                b'<' if self.starts_with(self.i, b"<<") => {
                    self.heredoc_start();
                    stmt_start = false;
                }
                _ if is_ident_start(c) => {
                    if stmt_start && let Some(next) = self.assignment(self.i) {
                        self.i = next;
                    } else if self.starts_with(self.i, b"Gem::Specification.new") {
                        self.i += b"Gem::Specification.new".len();
                        self.block_var();
                    } else {
                        while is_ident(self.peek(self.i)) {
                            self.i += 1;
                        }
                    }
                    stmt_start = false;
                }
                _ => {
                    self.i += 1;
                    stmt_start = false;
                }
            }
        }
        if self.var.is_none() {
            return Err("no `Gem::Specification.new do |s|` block: not a gem specification".into());
        }
        Ok(self.attrs)
    }

    /// After `Gem::Specification.new`: ` do |s|` or ` { |s|` names the block variable.
    fn block_var(&mut self) {
        let mut at = self.skip_blanks(self.i);
        if self.starts_with(at, b"do") && !is_ident(self.peek(at + 2)) {
            at += 2;
        } else if self.peek(at) == b'{' {
            at += 1;
        } else {
            return;
        }
        at = self.skip_blanks(at);
        if self.peek(at) != b'|' {
            return;
        }
        at = self.skip_blanks(at + 1);
        let start = at;
        while is_ident(self.peek(at)) {
            at += 1;
        }
        let end = at;
        at = self.skip_blanks(at);
        if end > start && self.peek(at) == b'|' && self.var.is_none() {
            self.var = Some(&self.b[start..end]);
            self.i = at + 1;
        }
    }

    /// `VAR.attr = value` at `at`: records it (first one wins) and returns where the value
    /// ends. `None` when `at` is not an assignment to the block variable.
    fn assignment(&mut self, at: usize) -> Option<usize> {
        let var = self.var?;
        if !self.starts_with(at, var) || self.peek(at + var.len()) != b'.' {
            return None;
        }
        let name_start = at + var.len() + 1;
        let mut p = name_start;
        while is_ident(self.peek(p)) {
            p += 1;
        }
        let attr = std::str::from_utf8(&self.b[name_start..p]).ok()?;
        let eq = self.skip_blanks(p);
        // `=`, not `==`, `=~` or `=>`.
        if self.peek(eq) != b'=' || matches!(self.peek(eq + 1), b'=' | b'~' | b'>') {
            return None;
        }
        let key = WANTED.iter().find(|w| **w == attr)?;
        let value_start = self.skip_blanks(eq + 1);
        let (value, end) = match self.value(value_start) {
            Some((v, end)) if self.ends_statement(end) => (v, end),
            _ => {
                // Not a literal: keep the code for the message, and scan it as code.
                let line_end = self.line_end(value_start);
                let code = String::from_utf8_lossy(&self.b[value_start..line_end]);
                let code: String = code.trim().chars().take(60).collect();
                (Value::Code(code), value_start)
            }
        };
        self.attrs.entry(*key).or_insert(value);
        Some(end)
    }

    /// Whether only the end of the statement follows `at`: a newline, `;`, a comment, or an
    /// `if`/`unless` modifier (RubyGems writes `... if s.respond_to? :metadata=`).
    fn ends_statement(&self, at: usize) -> bool {
        let at = self.skip_blanks(at);
        match self.peek(at) {
            b'\n' | b'\r' | b';' | b'#' | 0 => true,
            _ => [&b"if"[..], b"unless"]
                .iter()
                .any(|k| self.starts_with(at, k) && !is_ident(self.peek(at + k.len()))),
        }
    }

    /// A literal value at `at` (a string, an array of strings, `%w[]`, `Gem::Version.new(str)`),
    /// with any `.freeze`, and where it ends.
    fn value(&self, at: usize) -> Option<(Value, usize)> {
        let (value, mut end) = match self.peek(at) {
            b'[' => self.array(at)?,
            b'%' if matches!(self.peek(at + 1), b'w' | b'W') => self.word_list(at)?,
            _ if self.starts_with(at, b"Gem::Version.new") => {
                let mut p = self.skip_blanks(at + b"Gem::Version.new".len());
                let paren = self.peek(p) == b'(';
                if paren {
                    p = self.skip_blanks(p + 1);
                }
                let (s, mut end) = self.string_term(p)?;
                if paren {
                    end = self.skip_blanks(end);
                    if self.peek(end) != b')' {
                        return None;
                    }
                    end += 1;
                }
                (Value::Str(s), end)
            }
            _ if self.starts_with(at, b"Gem::Platform::RUBY") => {
                (Value::Str("ruby".into()), at + b"Gem::Platform::RUBY".len())
            }
            _ => {
                let (s, end) = self.string_term(at)?;
                (Value::Str(s), end)
            }
        };
        end = self.freezes(end);
        Some((value, end))
    }

    fn freezes(&self, mut at: usize) -> usize {
        while self.starts_with(at, b".freeze") && !is_ident(self.peek(at + 7)) {
            at += 7;
        }
        at
    }

    /// A string literal (any quoting) with its `.freeze`s, as text.
    fn string_term(&self, at: usize) -> Option<(String, usize)> {
        let (lit, end) = match (self.peek(at), self.peek(at + 1)) {
            (b'"' | b'\'', _) => self.string(at)?,
            (b'%', b'q' | b'Q' | b'(' | b'[' | b'{' | b'<' | b'|' | b'!' | b'/' | b'^') => {
                self.percent_literal(at)?
            }
            _ => return None,
        };
        let text = String::from_utf8_lossy(&lit?).into_owned();
        Some((text, self.freezes(end)))
    }

    fn array(&self, at: usize) -> Option<(Value, usize)> {
        let mut out = Vec::new();
        let mut p = self.skip_space(at + 1);
        loop {
            if self.peek(p) == b']' {
                return Some((Value::List(out), p + 1));
            }
            let (s, end) = self.string_term(p)?;
            if out.len() < MAX_LIST {
                out.push(s);
            }
            p = self.skip_space(end);
            match self.peek(p) {
                b',' => p = self.skip_space(p + 1),
                b']' => {}
                _ => return None,
            }
        }
    }

    /// `%w[MIT Ruby]`: words separated by whitespace.
    fn word_list(&self, at: usize) -> Option<(Value, usize)> {
        let open = self.peek(at + 2);
        if open.is_ascii_alphanumeric() || open.is_ascii_whitespace() || open == 0 {
            return None;
        }
        let (lit, end) = self.delimited(at + 3, open, false);
        let words = String::from_utf8_lossy(&lit?)
            .split_whitespace()
            .take(MAX_LIST)
            .map(str::to_owned)
            .collect();
        Some((Value::List(words), end))
    }

    /// A quoted string at `at` (`"`, `'` or a backtick): its contents and where it ends.
    fn string(&self, at: usize) -> Option<(Lit, usize)> {
        let q = self.peek(at);
        Some(self.delimited(at + 1, q, q == b'\''))
    }

    /// `%q(...)`, `%Q{...}`, `%(...)`, and the other `%` literals (`%w`, `%i`, `%r`, `%x`, `%s`),
    /// which are skipped the same way. `None` when `at` is not one (`a % b`).
    fn percent_literal(&self, at: usize) -> Option<(Lit, usize)> {
        let kind = self.peek(at + 1);
        let (open_at, single) = match kind {
            b'q' | b'w' | b'i' | b's' => (at + 2, true),
            b'Q' | b'W' | b'I' | b'r' | b'x' => (at + 2, false),
            b'(' | b'[' | b'{' | b'<' | b'|' | b'!' | b'/' | b'^' => (at + 1, false),
            _ => return None,
        };
        let open = self.peek(open_at);
        if open.is_ascii_alphanumeric() || open.is_ascii_whitespace() || open == 0 {
            return None;
        }
        Some(self.delimited(open_at + 1, open, single))
    }

    /// The contents from `at` to the delimiter closing `open`, with escapes processed as in a
    /// single-quoted (`single`) or double-quoted string; `None` contents when a double-quoted
    /// one interpolates (`#{`, `#@`, `#$`), or when the file ends before the delimiter.
    fn delimited(&self, mut at: usize, open: u8, single: bool) -> (Lit, usize) {
        let (close, nests) = closing(open);
        let mut depth = 0usize;
        let mut out = Some(Vec::new());
        while at < self.b.len() {
            let c = self.b[at];
            if c == b'\\' {
                let next = self.peek(at + 1);
                if single {
                    // Only `\\` and `\<delimiter>` are escapes in single-quoted strings.
                    if next == b'\\' || next == close || next == open {
                        push(&mut out, &[next]);
                    } else {
                        push(&mut out, &[c, next]);
                    }
                    at += 2;
                } else {
                    at = self.escape(at + 1, &mut out);
                }
                continue;
            }
            if nests && c == open && open != close {
                depth += 1;
            } else if c == close {
                if depth == 0 {
                    return (out, at + 1);
                }
                depth -= 1;
            } else if !single && c == b'#' && matches!(self.peek(at + 1), b'{' | b'@' | b'$') {
                out = None;
            }
            push(&mut out, &[c]);
            at += 1;
        }
        (None, self.b.len())
    }

    /// A double-quoted string's escape after its `\` (at `at`); returns where it ends.
    fn escape(&self, at: usize, out: &mut Lit) -> usize {
        let c = self.peek(at);
        let simple = match c {
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b's' => Some(b' '),
            b'e' => Some(0x1b),
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'v' => Some(0x0b),
            _ => None,
        };
        if let Some(s) = simple {
            push(out, &[s]);
            return at + 1;
        }
        match c {
            b'u' if self.peek(at + 1) == b'{' => {
                // `\u{e9 301}`: one or more code points.
                let mut p = at + 2;
                loop {
                    p = self.skip_blanks(p);
                    let (cp, end) = self.hex(p, 6);
                    if end == p {
                        break;
                    }
                    push_char(out, cp);
                    p = end;
                }
                if self.peek(p) == b'}' { p + 1 } else { p }
            }
            b'u' => {
                let (cp, end) = self.hex(at + 1, 4);
                push_char(out, cp);
                end
            }
            b'x' => {
                let (v, end) = self.hex(at + 1, 2);
                push(out, &[u8::try_from(v).unwrap_or(b'?')]);
                end
            }
            b'0'..=b'7' => {
                let mut v = 0u32;
                let mut p = at;
                while p < at + 3 && matches!(self.peek(p), b'0'..=b'7') {
                    v = v * 8 + u32::from(self.peek(p) - b'0');
                    p += 1;
                }
                push(out, &[u8::try_from(v & 0xff).unwrap_or(b'?')]);
                p
            }
            0 => at,
            // `\"`, `\\`, `\#` and any other character stand for themselves.
            _ => {
                let len = utf8_len(c);
                push(out, &self.b[at..(at + len).min(self.b.len())]);
                at + len
            }
        }
    }

    /// Up to `max` hex digits at `at`: their value and where they end.
    fn hex(&self, at: usize, max: usize) -> (u32, usize) {
        let mut v = 0u32;
        let mut p = at;
        while p < at + max
            && let Some(d) = char::from(self.peek(p)).to_digit(16)
        {
            v = v * 16 + d;
            p += 1;
        }
        (v, p)
    }

    /// `<<ID`, `<<~ID`, `<<-ID`, `<<~'ID'`: remembers the terminator; its body starts on the
    /// next line. Anything else (`s.files << x`) is the operator.
    fn heredoc_start(&mut self) {
        let mut p = self.i + 2;
        let squiggly = matches!(self.peek(p), b'~' | b'-');
        if squiggly {
            p += 1;
        }
        let quote = self.peek(p);
        let (start, end) = if matches!(quote, b'"' | b'\'' | b'`') {
            let start = p + 1;
            let len = self.b[start.min(self.b.len())..]
                .iter()
                .position(|&c| c == quote || c == b'\n')
                .unwrap_or(0);
            (start, start + len)
        } else if is_ident_start(quote) {
            let mut e = p;
            while is_ident(self.peek(e)) {
                e += 1;
            }
            (p, e)
        } else {
            self.i += 2;
            return;
        };
        if end > start && self.heredocs.len() < MAX_HEREDOCS {
            self.heredocs.push((self.b[start..end].to_vec(), squiggly));
        }
        self.i = if matches!(quote, b'"' | b'\'' | b'`') {
            end + 1
        } else {
            end
        };
    }

    /// At a line start with heredocs pending: skips their bodies, each up to its terminator.
    fn skip_heredoc_bodies(&mut self) {
        for (term, squiggly) in std::mem::take(&mut self.heredocs) {
            while self.i < self.b.len() {
                let end = self.line_end(self.i);
                let line = &self.b[self.i..end];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let line = if squiggly {
                    line.trim_ascii_start()
                } else {
                    line
                };
                self.i = (end + 1).min(self.b.len());
                if line == term.as_slice() {
                    break;
                }
            }
        }
    }

    /// `=begin` ... `=end`, each at a line start.
    fn skip_block_comment(&mut self) {
        loop {
            self.i = (self.line_end(self.i) + 1).min(self.b.len());
            if self.i >= self.b.len()
                || (self.starts_with(self.i, b"=end") && !is_ident(self.peek(self.i + 4)))
            {
                self.i = (self.line_end(self.i) + 1).min(self.b.len());
                return;
            }
        }
    }
}

fn push(out: &mut Lit, bytes: &[u8]) {
    if let Some(o) = out {
        o.extend_from_slice(bytes);
    }
}

fn push_char(out: &mut Lit, cp: u32) {
    let c = char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER);
    push(out, c.encode_utf8(&mut [0; 4]).as_bytes());
}

/// The length of the UTF-8 sequence a byte starts (1 for a continuation byte, which then
/// stands alone).
fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xf7 => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

// ---------------------------------------------------------------- Gemfile.lock

/// The source sections of a lockfile, and what their specs' notes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Gem,
    Git,
    Path,
    Plugin,
    Other,
}

const RUBYGEMS: [&str; 2] = ["https://rubygems.org", "http://rubygems.org"];

/// A locked spec: name, version and source note.
type SpecKey = (String, String, Option<String>);

/// A locked spec already reported: its index in the output, and the platforms it is locked for.
struct Seen {
    at: usize,
    platforms: Vec<String>,
}

fn parse_gemfile_lock(bytes: &[u8]) -> Result<Vec<LangPackage>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<LangPackage> = Vec::new();
    let mut seen: HashMap<SpecKey, Seen> = HashMap::new();
    let mut section = Section::Other;
    let (mut remotes, mut revision): (Vec<&str>, Option<&str>) = (Vec::new(), None);
    let mut in_specs = false;
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent == 0 {
            section = match line.trim_end() {
                "GEM" => Section::Gem,
                "GIT" => Section::Git,
                "PATH" => Section::Path,
                "PLUGIN SOURCE" => Section::Plugin,
                _ => Section::Other,
            };
            remotes.clear();
            revision = None;
            in_specs = false;
            continue;
        }
        if section == Section::Other {
            continue;
        }
        let body = line.trim();
        if indent == 2 {
            in_specs = body == "specs:";
            if let Some(r) = body.strip_prefix("remote:") {
                remotes.push(r.trim());
            } else if let Some(r) = body.strip_prefix("revision:") {
                revision = Some(r.trim());
            }
            continue;
        }
        if indent != 4 || !in_specs {
            continue; // 6 spaces: a spec's dependency.
        }
        let Some((name, version, platform)) = spec_line(body) else {
            continue;
        };
        let source = source_note(section, &remotes, revision);
        let key = (name.to_owned(), version.to_owned(), source.clone());
        let seen = seen.entry(key).or_insert_with(|| {
            out.push(gem(name, version, Evidence::Lockfile));
            Seen {
                at: out.len() - 1,
                platforms: Vec::new(),
            }
        });
        if let Some(p) = platform
            && !seen.platforms.iter().any(|q| q == p)
            && seen.platforms.len() < 32
        {
            seen.platforms.push(p.to_owned());
        }
        let platform_note =
            (!seen.platforms.is_empty()).then(|| format!("platform:{}", seen.platforms.join(",")));
        out[seen.at].note = match (&source, platform_note) {
            (Some(s), Some(p)) => Some(format!("{s}; {p}")),
            (s, p) => s.clone().or(p),
        };
    }
    Ok(out)
}

/// `name (version)` or `name (version-platform)`: Bundler splits at the version's first `-`.
fn spec_line(body: &str) -> Option<(&str, &str, Option<&str>)> {
    let (name, rest) = body.split_once(" (")?;
    let inner = rest.strip_suffix(')')?;
    let (version, platform) = match inner.split_once('-') {
        Some((v, p)) => (v, Some(p).filter(|p| !p.is_empty())),
        None => (inner, None),
    };
    (token_ok(name, 256) && token_ok(version, 128)).then_some((name, version, platform))
}

fn source_note(section: Section, remotes: &[&str], revision: Option<&str>) -> Option<String> {
    let remote = remotes.first().copied().unwrap_or_default();
    match section {
        Section::Git => Some(format!("git+{remote}#{}", revision.unwrap_or_default())),
        Section::Path => Some(format!("path:{remote}")),
        Section::Plugin => Some(format!("plugin:{remote}")),
        Section::Gem => {
            let other: Vec<&str> = remotes
                .iter()
                .copied()
                .filter(|r| !RUBYGEMS.contains(&r.trim_end_matches('/')))
                .collect();
            (!other.is_empty()).then(|| format!("index:{}", other.join(",")))
        }
        Section::Other => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lang/ruby");

    fn fixture(rel: &str) -> Vec<u8> {
        let path = format!("{FIXTURES}/{rel}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn spec(text: &str) -> Result<LangPackage, String> {
        parse_gemspec(text.as_bytes())
    }

    /// (name, version, note) rows, for compact assertions.
    fn rows(pkgs: &[LangPackage]) -> Vec<(&str, &str, &str)> {
        pkgs.iter()
            .map(|p| {
                let note = p.note.as_deref().unwrap_or("");
                (p.name.as_str(), p.version.as_str(), note)
            })
            .collect()
    }

    #[test]
    fn wants_installed_specifications_and_lockfiles() {
        for yes in [
            "usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec",
            "usr/lib/x86_64-linux-gnu/rubygems-integration/3.1.0/specifications/json-2.6.3.gemspec",
            "usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec",
            "var/lib/gems/3.1.0/specifications/nokogiri-1.13.10-x86_64-linux.gemspec",
            "usr/local/bundle/specifications/rails-7.0.4.gemspec",
            "app/vendor/bundle/ruby/3.1.0/specifications/puma-6.0.0.gemspec",
            "app/Gemfile.lock",
            "Gemfile.lock",
            "srv/app/gems.locked",
        ] {
            assert!(wants(yes), "{yes}");
        }
        for no in [
            // A gem's source gemspec is its own build script, not an installed record.
            "usr/lib/ruby/gems/3.1.0/gems/rack-2.2.22/rack.gemspec",
            "app/rack.gemspec",
            "usr/local/bundle/bundler/gems/rails-0123abcd/rails.gemspec",
            "usr/lib/ruby/gems/3.1.0/specifications/.gemspec",
            "usr/lib/ruby/gems/3.1.0/specifications/other/x-1.0.gemspec",
            // Installed gems' own lockfiles.
            "usr/lib/ruby/gems/3.1.0/gems/rake-13.0.6/Gemfile.lock",
            "app/vendor/bundle/ruby/3.1.0/gems/puma-6.0.0/Gemfile.lock",
            "usr/local/bundle/bundler/gems/rails-0123abcd/Gemfile.lock",
            "app/Gemfile",
            "app/Gemfile.lock.bak",
        ] {
            assert!(!wants(no), "{no}");
        }
    }

    /// Debian bookworm's installed specifications (README.md), checked against what
    /// `Gem::Specification.load` says of each.
    #[test]
    fn debian_specifications() {
        let bundler_authors = "André Arko, Samuel Giddins, Colby Swandale, Hiroshi Shibata, \
            David Rodríguez, Grey Baker, Stephanie Morillo, Chris Morris, James Wen, Tim Moore, \
            André Medeiros, Jessica Lynn Suttles, Terence Lee et al.";
        for (file, name, version, licenses, author) in [
            (
                "rack-2.2.22.gemspec",
                "rack",
                "2.2.22",
                &["MIT"][..],
                "Leah Neukirchen",
            ),
            (
                "json-2.6.3.gemspec",
                "json",
                "2.6.3",
                &["Ruby"],
                "Florian Frank",
            ),
            (
                "json-2.6.1.gemspec",
                "json",
                "2.6.1",
                &["Ruby"],
                "Florian Frank",
            ),
            (
                "bundler-2.3.15.gemspec",
                "bundler",
                "2.3.15",
                &["MIT"],
                bundler_authors,
            ),
            (
                "bundler-2.3.7.gemspec",
                "bundler",
                "2.3.7",
                &["MIT"],
                bundler_authors,
            ),
            // NUL bytes in its `# stub:` comment line.
            (
                "digest-3.1.0.gemspec",
                "digest",
                "3.1.0",
                &["Ruby", "BSD-2-Clause"],
                "Akinori MUSHA",
            ),
        ] {
            let path = format!("usr/share/rubygems-integration/all/specifications/{file}");
            assert!(wants(&path), "{path}");
            let pkgs = parse(&path, &fixture(&format!("debian/{file}"))).unwrap();
            let [p] = &pkgs[..] else {
                panic!("{file}: {pkgs:?}")
            };
            assert_eq!(
                (p.name.as_str(), p.version.as_str()),
                (name, version),
                "{file}"
            );
            assert_eq!(p.evidence, Evidence::Installed);
            assert_eq!(p.ecosystem, LangEcosystem::Gem);
            assert_eq!(p.licenses, licenses, "{file}");
            assert_eq!(p.author.as_deref(), Some(author), "{file}");
            assert_eq!(p.note, None, "{file}");
        }
    }

    /// What RubyGems 3.3 writes at `gem install` (regen.sh): `s.license = "MIT"` in the gem's
    /// own gemspec becomes `s.licenses = ["MIT".freeze]`, the platform is kept.
    #[test]
    fn rubygems_written_specifications() {
        let pure = parse_gemspec(&fixture("rubygems/pure-2.1.0.gemspec")).unwrap();
        assert_eq!(
            (pure.name.as_str(), pure.version.as_str()),
            ("pure", "2.1.0")
        );
        assert_eq!(pure.licenses, ["MIT"]);
        assert_eq!(pure.author.as_deref(), Some("Pat Pure, Quinn Q"));
        assert_eq!(pure.note, None);
        let plat = parse_gemspec(&fixture("rubygems/plat-1.0.0-x86_64-linux.gemspec")).unwrap();
        assert_eq!(
            (plat.name.as_str(), plat.version.as_str()),
            ("plat", "1.0.0")
        );
        assert_eq!(plat.licenses, ["Apache-2.0", "MIT"]);
        assert_eq!(plat.note.as_deref(), Some("platform:x86_64-linux"));
    }

    /// Hand-written: the forms older RubyGems and hand-written specs use.
    #[test]
    fn gemspec_literal_forms() {
        // RubyGems 1.x: `%q{}` strings, no `.freeze`; any block variable.
        let p = spec(
            "# -*- encoding: utf-8 -*-\n\nGem::Specification.new do |spec|\n  spec.name = %q{rbicu}\n  spec.version = \"0.0.2\"\n  spec.authors = [%q{Joshua Llorach}, \"Rich Healey\"]\n  spec.license = 'MIT'\nend\n",
        )
        .unwrap();
        assert_eq!((p.name.as_str(), p.version.as_str()), ("rbicu", "0.0.2"));
        assert_eq!(p.author.as_deref(), Some("Joshua Llorach, Rich Healey"));
        assert_eq!(p.licenses, ["MIT"]);
        // Gem::Version.new, `%w[]`, a multi-line array with comments, a braces block, escapes.
        let p = spec(
            "Gem::Specification.new { |s|\n  s.name = 'it\\'s'\n  s.version = Gem::Version.new(\"1.0.0.pre\").freeze\n  s.licenses = %w[MIT Ruby]\n  s.authors = [\n    \"A \\u{e9}\\x41\\101\\\"\", # first\n    'B\\n',\n  ]\n}\n",
        )
        .unwrap();
        assert_eq!((p.name.as_str(), p.version.as_str()), ("it's", "1.0.0.pre"));
        assert_eq!(p.licenses, ["MIT", "Ruby"]);
        assert_eq!(p.author.as_deref(), Some("A éAA\", B\\n"));
        let p = spec("Gem::Specification.new do |s|\n  s.name = \"x\"\n  s.version = Gem::Version.new \"2\"\n  s.platform = Gem::Platform::RUBY\nend\n").unwrap();
        assert_eq!((p.version.as_str(), p.note.as_deref()), ("2", None));
        // The first assignment wins; `s.version ==` and `s.rubygems_version =` are not it.
        let p = spec("Gem::Specification.new do |s|\n  s.name = \"x\"\n  s.rubygems_version = \"3.3.7\"\n  s.version == \"0\"\n  s.version = \"1\"\n  s.version = \"2\"\nend\n").unwrap();
        assert_eq!(p.version, "1");
    }

    /// Hand-written: text that looks like assignments inside strings, comments, heredocs and
    /// `=begin` blocks is not read as code.
    #[test]
    fn gemspec_assignments_only_in_code() {
        let p = spec(concat!(
            "Gem::Specification.new do |s|\n",
            "  s.description = %q{Decodes MP3s.\n  s.version = \"6.6.6\"\n  {nested}\n}\n",
            "  s.summary = \"\n  s.version = \\\"6.6.7\\\"\n\"\n",
            "  # s.version = \"6.6.8\"\n",
            "  s.post_install_message = <<~MSG\n    s.version = \"6.6.9\"\n  MSG\n",
            "=begin\n  s.version = \"6.7.0\"\n=end\n",
            "  s.name = \"real\"; s.version = \"1.2.3\"\n",
            "end\n",
            "__END__\n  s.version = \"9\"\n",
        ))
        .unwrap();
        assert_eq!((p.name.as_str(), p.version.as_str()), ("real", "1.2.3"));
    }

    #[test]
    fn gemspec_errors_name_the_problem() {
        let err = |text: &str| spec(text).unwrap_err();
        let e =
            err("Gem::Specification.new do |s|\n  s.name = \"x\"\n  s.version = X::VERSION\nend\n");
        assert!(
            e.contains("`version` is not a literal (`X::VERSION`)"),
            "{e}"
        );
        let e =
            err("Gem::Specification.new do |s|\n  s.name = \"x#{1}\"\n  s.version = \"1\"\nend\n");
        assert!(e.contains("`name` is not a literal"), "{e}");
        let e = err(
            "Gem::Specification.new do |s|\n  s.name = \"x\"\n  s.version = \"1\" + \"2\"\nend\n",
        );
        assert!(e.contains("`version` is not a literal"), "{e}");
        let e = err("Gem::Specification.new do |s|\n  s.name = \"x\"\nend\n");
        assert!(e.contains("no `version` assignment"), "{e}");
        let e = err("s.name = \"x\"\ns.version = \"1\"\n");
        assert!(e.contains("not a gem specification"), "{e}");
        let e =
            err("Gem::Specification.new do |s|\n  s.name = \"a b\"\n  s.version = \"1\"\nend\n");
        assert!(e.contains("has spaces"), "{e}");
        let e =
            err("Gem::Specification.new do |s|\n  s.name = [\"x\"]\n  s.version = \"1\"\nend\n");
        assert!(e.contains("an array"), "{e}");
    }

    /// The lockfile `bundle install --local` wrote for sample/app (regen.sh): GIT, PATH and a
    /// platform gem. Expected values by hand from the file.
    #[test]
    fn bundler_lockfile() {
        let pkgs = parse("app/Gemfile.lock", &fixture("bundler/Gemfile.lock")).unwrap();
        assert_eq!(
            rows(&pkgs),
            [
                (
                    "gitlib",
                    "1.2.0",
                    "git+/tmp/customs-ruby-fixture/gitlib#f4026850f7c047a47b23478726781f91542c52e4"
                ),
                ("mylib", "0.3.1", "path:mylib"),
                ("json", "2.6.3", ""),
                ("plat", "1.0.0", "platform:x86_64-linux"),
                ("pure", "2.1.0", ""),
                ("rack", "2.2.22", ""),
            ]
        );
        assert!(
            pkgs.iter()
                .all(|p| p.evidence == Evidence::Lockfile && !p.dev)
        );
    }

    /// CocoaPods' Gemfile.lock of 2013 (README.md): seven GIT sections with branches, the app
    /// itself as `PATH remote: .`, and rubygems.org over http.
    #[test]
    fn cocoapods_lockfile() {
        let pkgs = parse("Gemfile.lock", &fixture("cocoapods/Gemfile.lock")).unwrap();
        assert_eq!(pkgs.len(), 7 + 1 + 38);
        let r = rows(&pkgs);
        assert_eq!(
            r[..2],
            [
                (
                    "claide",
                    "0.3.2",
                    "git+https://github.com/CocoaPods/CLAide.git#e97c290ccc133ed03b856ca5527cfc47610ac901"
                ),
                (
                    "cocoapods-core",
                    "0.24.0",
                    "git+https://github.com/CocoaPods/Core.git#d7d34813894b7b08c8e19f137a3b04cd6fcc92b0"
                ),
            ]
        );
        assert_eq!(r[7], ("cocoapods", "0.24.0", "path:."));
        assert_eq!(r[8], ("activesupport", "3.2.14", ""));
        assert!(r.contains(&("pry", "0.9.12.2", "")));
        assert!(r.contains(&("pygments.rb", "0.5.2", "")));
        assert_eq!(r[r.len() - 1], ("yard", "0.8.7", ""));
        // Dependency lines (6 spaces) are not specs: `rest-client` without a version, and
        // `i18n (~> 0.6, >= 0.6.4)` are not reported.
        assert!(!r.iter().any(|(_, v, _)| v.starts_with('~')));
    }

    /// Hand-written in Bundler's format: one version locked for three platforms, another
    /// source, CRLF, a CHECKSUMS section (Bundler 2.5) and sections customs does not read.
    #[test]
    fn lockfile_platforms_and_sources() {
        let text = "GEM\r\n  remote: https://rubygems.org/\r\n  specs:\r\n    nokogiri (1.16.0)\r\n      mini_portile2 (~> 2.8.2)\r\n    nokogiri (1.16.0-arm64-darwin)\r\n      racc (~> 1.4)\r\n    nokogiri (1.16.0-x86_64-linux-gnu)\r\n      racc (~> 1.4)\r\n    racc (1.7.3)\r\n\r\nGEM\r\n  remote: https://gems.example.com/\r\n  specs:\r\n    private (0.1.0)\r\n\r\nPLUGIN SOURCE\r\n  remote: https://plugins.example.com/\r\n  type: custom\r\n  specs:\r\n    plug (3.0)\r\n\r\nPLATFORMS\r\n  arm64-darwin\r\n    weird (9.9)\r\n\r\nDEPENDENCIES\r\n  nokogiri\r\n\r\nCHECKSUMS\r\n  nokogiri (1.16.0) sha256=00\r\n\r\nBUNDLED WITH\r\n   2.5.3\r\n";
        assert_eq!(
            rows(&parse_gemfile_lock(text.as_bytes()).unwrap()),
            [
                (
                    "nokogiri",
                    "1.16.0",
                    "platform:arm64-darwin,x86_64-linux-gnu"
                ),
                ("racc", "1.7.3", ""),
                ("private", "0.1.0", "index:https://gems.example.com/"),
                ("plug", "3.0", "plugin:https://plugins.example.com/"),
            ]
        );
        assert!(parse_gemfile_lock(b"").unwrap().is_empty());
        assert!(parse_gemfile_lock(b"\xff\xfe").is_err());
    }

    #[test]
    fn hostile_input_never_panics() {
        let garbage: Vec<u8> = (0..8192u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for name in ["specifications/x-1.gemspec", "Gemfile.lock"] {
            let _ = parse(name, &garbage);
            let _ = parse(name, b"");
            for cut in 0..12 {
                let _ = parse(name, &garbage[..cut]);
            }
        }
        // Unterminated literals of every kind, at the end of a file.
        for tail in [
            "\"abc",
            "'abc",
            "%q{a{b}",
            "%Q(",
            "%w[",
            "[\"a\",",
            "<<~EOS\nx",
            "Gem::Version.new(",
            "\"\\u{",
            "\"\\x",
            "\"\\",
            "=begin\n",
            "`",
            "%",
            "<<",
            "<<'",
            "Gem::Specification.new do |",
        ] {
            let text =
                format!("Gem::Specification.new do |s|\n  s.name = \"n\"\n  s.version = {tail}");
            let _ = spec(&text);
            let _ = spec(tail);
        }
        // Deep nesting, a megabyte-long string and 100,000 heredocs: linear, no recursion.
        let deep = format!(
            "Gem::Specification.new do |s|\n  s.name = %q{{{}}}\n  s.version = \"1\"\nend\n",
            "{".repeat(100_000) + &"}".repeat(100_000)
        );
        assert!(spec(&deep).unwrap_err().contains("too long"));
        let long = format!(
            "Gem::Specification.new do |s|\n  s.name = \"{}\"\n  s.version = \"1\"\nend\n",
            "a".repeat(1 << 20)
        );
        assert!(spec(&long).unwrap_err().contains("too long"));
        let heredocs = format!(
            "Gem::Specification.new do |s|\n  x = {}\n  s.name = \"h\"\n  s.version = \"1\"\nend\n",
            "<<A ".repeat(100_000)
        );
        assert_eq!(
            spec(&heredocs).unwrap_err(),
            "no `name` assignment in the specification block"
        );
        let lock = format!("GEM\n  specs:\n{}", "    a (1)\n".repeat(100_000));
        assert_eq!(parse_gemfile_lock(lock.as_bytes()).unwrap().len(), 1);
    }
}
