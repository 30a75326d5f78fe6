//! st2.conf text checked against the options StackStorm itself registers.
//!
//! st2 reads its configuration with oslo.config, which ignores sections and options it does not
//! know: `[api] allow_orign = …` in `st2.config` changes nothing and nobody is told. st2k8s knows
//! every section and option of each StackStorm release it supports ([`options`],
//! generated from st2's own sources) and reports, for the release's version: unknown sections and
//! options (warnings, with the closest known name), options renamed or deprecated in that
//! version (warnings naming the new option), options of the other version only, and options the
//! version accepts but ignores (errors naming the replacement). The table is sorted, so each
//! option costs one binary search; only a problem allocates (its message).

mod options;

use saphyr_parser::{Event, Parser};

use self::options::OPTIONS;
use super::version::Version;
use crate::render::ctx::Ctx;
use crate::values::check::{Finding, Severity, closest};

/// What a release does with an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not an option of this release.
    Absent,
    Ok,
    /// A deprecated alias of the named option: still read, under its new name.
    Renamed(&'static str),
    /// Still read, but deprecated (in favour of the named option, if any).
    Deprecated(Option<&'static str>),
    /// Accepted but without effect (the named option replaces it).
    Ignored(Option<&'static str>),
}

/// One problem in an st2.conf text: where (line and column from 1), how bad, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub message: String,
}

/// The statuses of `[section] option` in each release, if any release has it.
fn lookup(section: &str, option: &str) -> Option<&'static [Status; 2]> {
    OPTIONS
        .binary_search_by(|(s, o, _)| (*s, *o).cmp(&(section, option)))
        .ok()
        .map(|i| &OPTIONS[i].2)
}

/// Whether any release has the section.
fn known_section(section: &str) -> bool {
    let start = OPTIONS.partition_point(|(s, _, _)| *s < section);
    OPTIONS.get(start).is_some_and(|(s, _, _)| *s == section)
}

/// Conversion notes for options whose replacement takes a different value.
fn value_note(option: &str) -> &'static str {
    match option {
        "ssl_cert_reqs" => " (`none` becomes `True`, `optional` and `required` become `False`)",
        "ssl_match_hostname" => " with the opposite value",
        "ssl_keyfile" | "ssl_certfile" => " (one file holding both the key and the certificate)",
        _ => "",
    }
}

/// The section the lines below a header belong to.
enum Section {
    /// No header yet: st2 refuses options here.
    None,
    /// A section no release has (reported at its header).
    Unknown,
    Known(String),
}

/// Check an st2.conf text for StackStorm `version`, reading it as oslo.config's `iniparser`
/// does: `[section]` headers (names in lower case, except `DEFAULT`), `option = value` or
/// `option: value`, `#`/`;` comments, and indented lines continuing the previous option's value
/// up to a blank line. Lines oslo.config cannot parse (st2 then refuses to start) are errors.
/// Messages name sections and options, never values (they may hold passwords).
pub fn check(text: &str, version: Version) -> Vec<Problem> {
    let v = version.as_str();
    let mut problems = Vec::new();
    let mut section = Section::None;
    // An option was just read, so an indented line continues its value.
    let mut in_value = false;
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim_end();
        let mut problem = |column: usize, severity, message: String| {
            problems.push(Problem {
                line: i + 1,
                column,
                severity,
                message,
            })
        };
        if line.is_empty() {
            in_value = false;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if !in_value {
                let column = line.len() - line.trim_start().len() + 1;
                problem(
                    column,
                    Severity::Error,
                    "indented st2.conf line, but no option above it to continue (a blank line, comment or section ends an option's value); st2 stops at it".into(),
                );
            }
            continue;
        }
        in_value = false;
        if line.starts_with('[') {
            let Some(name) = line.strip_suffix(']').map(|l| &l[1..]) else {
                problem(
                    1,
                    Severity::Error,
                    "st2.conf section header does not end with `]`; st2 stops at it".into(),
                );
                continue;
            };
            if name.is_empty() {
                problem(
                    1,
                    Severity::Error,
                    "empty st2.conf section name `[]`; st2 stops at it".into(),
                );
                continue;
            }
            let name = if name == "DEFAULT" {
                name.to_string()
            } else {
                name.to_lowercase()
            };
            if known_section(&name) {
                section = Section::Known(name);
            } else if !is_word(&name) {
                problem(
                    1,
                    Severity::Warning,
                    format!(
                        "unknown st2.conf section (its name is not a word, so it is not shown: it \
                         may hold a value): StackStorm {v} ignores it"
                    ),
                );
                section = Section::Unknown;
            } else {
                let sections = section_names();
                let hint = closest(&name, &sections)
                    .map(|s| format!("; did you mean `[{s}]`?"))
                    .unwrap_or_default();
                problem(
                    1,
                    Severity::Warning,
                    format!("unknown st2.conf section `[{name}]`: StackStorm {v} ignores it{hint}"),
                );
                section = Section::Unknown;
            }
            continue;
        }
        if line.starts_with(['#', ';']) {
            continue;
        }
        let Some(split) = line.find(['=', ':']) else {
            problem(
                1,
                Severity::Error,
                "st2.conf line is not `option = value` (no `=` or `:`); st2 stops at it".into(),
            );
            continue;
        };
        in_value = true;
        let option = line[..split].trim();
        if option.is_empty() {
            problem(
                1,
                Severity::Error,
                "st2.conf line has a value but no option name; st2 stops at it".into(),
            );
            continue;
        }
        // A "name" that is not a word is likely part of a value (a pasted key, a continuation
        // that lost its indentation): it is never quoted.
        let quotable = is_word(option);
        let section = match &section {
            Section::Known(name) => name.as_str(),
            Section::Unknown => continue,
            Section::None => {
                let option = if quotable {
                    format!("option `{option}`")
                } else {
                    "line".to_string()
                };
                problem(
                    1,
                    Severity::Error,
                    format!("st2.conf {option} comes before any `[section]`; st2 stops at it"),
                );
                continue;
            }
        };
        if !quotable {
            problem(
                1,
                Severity::Warning,
                format!(
                    "st2.conf line in `[{section}]` does not start with an option name \
                     (not shown: it may hold a value); StackStorm {v} ignores it"
                ),
            );
            continue;
        }
        if let Some((severity, message)) = option_problem(section, option, version) {
            problem(1, severity, message);
        }
    }
    problems
}

/// Whether an st2.conf section or option name can be shown: letters, digits, `_`, `-`, `.`.
fn is_word(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// What is wrong with `[section] option` (a known section) in `version`, if anything.
fn option_problem(section: &str, option: &str, version: Version) -> Option<(Severity, String)> {
    let v = version.as_str();
    let statuses = lookup(section, option);
    let status = statuses.map_or(Status::Absent, |s| s[version.index()]);
    let named = format!("`[{section}] {option}`");
    Some(match status {
        Status::Ok => return None,
        Status::Absent => {
            let message = match statuses {
                Some(_) => {
                    let instead = renamed_from(section, option, version)
                        .map(|old| format!("; StackStorm {v} calls it `{old}`"))
                        .unwrap_or_default();
                    format!(
                        "st2.conf option {named} is new in StackStorm {}: StackStorm {v} ignores it{instead}",
                        version.other().as_str()
                    )
                }
                None => {
                    let options = option_names(section, version);
                    let hint = closest(option, &options)
                        .map(|o| format!("; did you mean `{o}`?"))
                        .unwrap_or_default();
                    format!("unknown st2.conf option {named}: StackStorm {v} ignores it{hint}")
                }
            };
            (Severity::Warning, message)
        }
        Status::Renamed(to) | Status::Deprecated(Some(to)) => (
            Severity::Warning,
            format!(
                "st2.conf option {named} is deprecated in StackStorm {v}: use `{to}`{}",
                value_note(option)
            ),
        ),
        Status::Deprecated(None) => (
            Severity::Warning,
            format!("st2.conf option {named} is deprecated: StackStorm {v} does not use it"),
        ),
        Status::Ignored(to) => {
            let instead = to
                .map(|to| format!("; use `{to}`{}", value_note(option)))
                .unwrap_or_default();
            (
                Severity::Error,
                format!(
                    "st2.conf option {named} was removed in StackStorm {v}, which ignores it{instead}"
                ),
            )
        }
    })
}

/// Report the problems of the st2.conf text `evaluated`, the `tpl` of the values key `path`
/// (whose value was `raw`). Positions point into the values file when evaluating kept the lines
/// where they were (same number of lines), else at the key.
pub fn report_conf(ctx: &Ctx, path: &str, raw: &str, evaluated: &str, version: Version) {
    let same_lines = raw.split('\n').count() == evaluated.split('\n').count();
    for problem in check(evaluated, version) {
        ctx.report(Finding {
            severity: problem.severity,
            path: path.to_string(),
            location: None,
            within: same_lines.then_some((problem.line, problem.column)),
            message: problem.message,
        });
    }
}

/// Report `text`, the file kept at values key `path` (a pack config or override file, which st2
/// reads as YAML), if it is not YAML, at the position the parser stopped.
pub fn report_yaml(ctx: &Ctx, path: &str, text: &str) {
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_event() {
            Some(Ok((Event::StreamEnd, _))) | None => return,
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                ctx.report(Finding {
                    severity: Severity::Error,
                    path: path.to_string(),
                    location: None,
                    within: Some((e.marker().line(), e.marker().col() + 1)),
                    message: format!("not valid YAML ({}); st2 cannot load this file", e.info()),
                });
                return;
            }
        }
    }
}

/// The option of `section` that `version` knows under another name than `option` has in the
/// other version (`[database] tls` is `ssl` in 3.8).
fn renamed_from(section: &str, option: &str, version: Version) -> Option<&'static str> {
    OPTIONS
        .iter()
        .filter(|(s, _, _)| *s == section)
        .find(|(_, _, st)| {
            matches!(st[version.other().index()], Status::Renamed(to) | Status::Deprecated(Some(to)) if to == option)
                && st[version.index()] == Status::Ok
        })
        .map(|(_, o, _)| *o)
}

/// Every section name, once (the table is sorted by section).
fn section_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = OPTIONS.iter().map(|(s, _, _)| *s).collect();
    names.dedup();
    names
}

/// The options `version` has in `section`.
fn option_names(section: &str, version: Version) -> Vec<&'static str> {
    OPTIONS
        .iter()
        .filter(|(s, _, st)| *s == section && st[version.index()] != Status::Absent)
        .map(|(_, o, _)| *o)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, version: Version) -> Vec<String> {
        check(text, version)
            .into_iter()
            .map(|p| {
                let level = match p.severity {
                    Severity::Error => "error",
                    _ => "warning",
                };
                format!("{}:{} {level}: {}", p.line, p.column, p.message)
            })
            .collect()
    }

    #[test]
    fn the_table_is_sorted_and_has_both_releases() {
        assert!(
            OPTIONS
                .windows(2)
                .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1))
        );
        for section in [
            "api",
            "auth",
            "coordination",
            "database",
            "rbac",
            "ssh_runner",
            "DEFAULT",
        ] {
            assert!(known_section(section), "{section}");
        }
        assert_eq!(
            lookup("api", "allow_origin"),
            Some(&[Status::Ok, Status::Ok])
        );
        assert_eq!(
            lookup("database", "tls"),
            Some(&[Status::Absent, Status::Ok])
        );
        assert_eq!(lookup("api", "allow_orign"), None);
    }

    #[test]
    fn known_options_comments_and_continuations_pass() {
        let text = "# comment\n[api]\nallow_origin = '*'\n; other comment\n\n[database]\nconnection_timeout: 5000\n[rbac]\nenable = True\nbackend = default\n[AUTH]\nbackend_kwargs = {\"a\": 1,\n    \"b\": 2}\n[DEFAULT]\ndebug = True\n";
        assert_eq!(found(text, Version::V3_8), Vec::<String>::new());
        assert_eq!(found(text, Version::V3_9), Vec::<String>::new());
    }

    #[test]
    fn names_that_are_not_words_are_never_shown() {
        let text =
            "S3CRET/SENTINEL+x= 1\n[api]\nS3CRET/SENTINEL+y= 2\n[S3CRET/SENTINEL z]\nq = 3\n";
        let problems = found(text, Version::V3_8);
        assert_eq!(
            problems,
            [
                "1:1 error: st2.conf line comes before any `[section]`; st2 stops at it",
                "3:1 warning: st2.conf line in `[api]` does not start with an option name (not shown: it may hold a value); StackStorm 3.8 ignores it",
                "4:1 warning: unknown st2.conf section (its name is not a word, so it is not shown: it may hold a value): StackStorm 3.8 ignores it",
            ]
        );
        assert!(problems.iter().all(|p| !p.contains("S3CRET")));
    }

    #[test]
    fn unknown_options_and_sections_suggest_the_closest() {
        assert_eq!(
            found(
                "[api]\nallow_orign = '*'\n[databse]\nhost = x\n[acme]\nfoo = 1\n[default]\n[api]\nmask_secret = True\nzzz = 1\n",
                Version::V3_8
            ),
            [
                "2:1 warning: unknown st2.conf option `[api] allow_orign`: StackStorm 3.8 ignores it; did you mean `allow_origin`?",
                "3:1 warning: unknown st2.conf section `[databse]`: StackStorm 3.8 ignores it; did you mean `[database]`?",
                "5:1 warning: unknown st2.conf section `[acme]`: StackStorm 3.8 ignores it",
                "7:1 warning: unknown st2.conf section `[default]`: StackStorm 3.8 ignores it; did you mean `[DEFAULT]`?",
                "9:1 warning: unknown st2.conf option `[api] mask_secret`: StackStorm 3.8 ignores it; did you mean `mask_secrets`?",
                "10:1 warning: unknown st2.conf option `[api] zzz`: StackStorm 3.8 ignores it",
            ]
        );
    }

    #[test]
    fn database_tls_options_follow_the_version() {
        let old = "[database]\nssl = True\nssl_ca_certs = /ca.pem\nssl_cert_reqs = required\nssl_match_hostname = True\nssl_keyfile = /k.pem\nssl_certfile = /c.pem\n";
        assert_eq!(found(old, Version::V3_8), Vec::<String>::new());
        assert_eq!(
            found(old, Version::V3_9),
            [
                "2:1 warning: st2.conf option `[database] ssl` is deprecated in StackStorm 3.9: use `tls`",
                "3:1 warning: st2.conf option `[database] ssl_ca_certs` is deprecated in StackStorm 3.9: use `tls_ca_file`",
                "4:1 warning: st2.conf option `[database] ssl_cert_reqs` is deprecated in StackStorm 3.9: use `tls_allow_invalid_certificates` (`none` becomes `True`, `optional` and `required` become `False`)",
                "5:1 warning: st2.conf option `[database] ssl_match_hostname` is deprecated in StackStorm 3.9: use `tls_allow_invalid_hostnames` with the opposite value",
                "6:1 error: st2.conf option `[database] ssl_keyfile` was removed in StackStorm 3.9, which ignores it; use `tls_certificate_key_file` (one file holding both the key and the certificate)",
                "7:1 error: st2.conf option `[database] ssl_certfile` was removed in StackStorm 3.9, which ignores it; use `tls_certificate_key_file` (one file holding both the key and the certificate)",
            ]
        );
        let new = "[database]\ntls = True\ntls_ca_file = /ca.pem\ntls_certificate_key_file = /kc.pem\n[messaging]\nprefix = st2\n";
        assert_eq!(found(new, Version::V3_9), Vec::<String>::new());
        assert_eq!(
            found(new, Version::V3_8),
            [
                "2:1 warning: st2.conf option `[database] tls` is new in StackStorm 3.9: StackStorm 3.8 ignores it; StackStorm 3.8 calls it `ssl`",
                "3:1 warning: st2.conf option `[database] tls_ca_file` is new in StackStorm 3.9: StackStorm 3.8 ignores it; StackStorm 3.8 calls it `ssl_ca_certs`",
                "4:1 warning: st2.conf option `[database] tls_certificate_key_file` is new in StackStorm 3.9: StackStorm 3.8 ignores it",
                "6:1 warning: st2.conf option `[messaging] prefix` is new in StackStorm 3.9: StackStorm 3.8 ignores it",
            ]
        );
    }

    #[test]
    fn lines_st2_cannot_parse_are_errors_without_their_values() {
        assert_eq!(
            found(
                "password = x\n[api]\n  indented\nallow_origin\n= secret\n[api\n[]\nhost = a\n  continued\n\n  orphan\n",
                Version::V3_8
            ),
            [
                "1:1 error: st2.conf option `password` comes before any `[section]`; st2 stops at it",
                "3:3 error: indented st2.conf line, but no option above it to continue (a blank line, comment or section ends an option's value); st2 stops at it",
                "4:1 error: st2.conf line is not `option = value` (no `=` or `:`); st2 stops at it",
                "5:1 error: st2.conf line has a value but no option name; st2 stops at it",
                "6:1 error: st2.conf section header does not end with `]`; st2 stops at it",
                "7:1 error: empty st2.conf section name `[]`; st2 stops at it",
                "11:3 error: indented st2.conf line, but no option above it to continue (a blank line, comment or section ends an option's value); st2 stops at it",
            ]
        );
    }

    #[test]
    fn deprecated_options_without_replacement() {
        assert_eq!(
            found("[content]\nsystem_runners_base_path = /x\n", Version::V3_8),
            [
                "2:1 warning: st2.conf option `[content] system_runners_base_path` is deprecated: StackStorm 3.8 does not use it"
            ]
        );
    }
}
