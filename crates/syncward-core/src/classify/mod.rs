//! The failure classifier: one error text in, its layer, code, fields,
//! whether a retry can succeed, the rule that decided, and the fix.
//!
//! Order of evidence (docs/classifier.md): a vendor code token beats a
//! keyword, a keyword beats a generic category or an HTTP status. Wrapped
//! errors (triggers, flows) are decided by their innermost cause.

pub mod kb;
pub mod memo;
pub mod normalize;

use crate::model::{Crm, Layer};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use kb::{KbError, Rule};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

pub use memo::Memo;
pub use normalize::normalize;

/// What the classifier is asked about.
#[derive(Debug, Clone, Copy, Default)]
pub struct Input<'a> {
    pub text: &'a str,
    pub crm: Option<Crm>,
    pub http_status: Option<u16>,
}

impl<'a> Input<'a> {
    pub fn text(text: &'a str) -> Self {
        Input {
            text,
            ..Input::default()
        }
    }
}

/// The classifier's answer. Serialises to the `classify` contract:
/// `{layer, code, fields, transient, rule, advice}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    pub layer: Layer,
    pub code: Option<Arc<str>>,
    pub fields: Vec<String>,
    pub transient: bool,
    pub rule: Option<Arc<str>>,
    pub advice: Arc<str>,
    #[serde(skip)]
    pub title: Arc<str>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    #[error(transparent)]
    Kb(#[from] KbError),
    #[error("rule '{rule}': bad regex {pattern:?}: {message}")]
    Regex {
        rule: String,
        pattern: String,
        message: String,
    },
    #[error("could not build the code matcher: {0}")]
    Matcher(String),
}

/// A rule ready to match.
#[derive(Debug)]
struct Compiled {
    id: Arc<str>,
    crm: Option<Crm>,
    layer: Layer,
    transient: bool,
    weak: bool,
    wrapper: bool,
    inside_wrapper: Option<Layer>,
    when: Option<Regex>,
    fields: Vec<Regex>,
    priority: i32,
    user: bool,
    title: Arc<str>,
    advice: Arc<str>,
}

/// One code string the matcher looks for, and the rules that claim it.
#[derive(Debug)]
struct CodeTarget {
    code: Arc<str>,
    /// Codes that are plain words (CONFLICT, DAILY) must match their case.
    exact_case: bool,
    rules: Vec<usize>,
}

pub struct Classifier {
    rules: Vec<Compiled>,
    codes: AhoCorasick,
    code_targets: Vec<CodeTarget>,
    /// Phrases of wrapper rules: checked on every text.
    wrappers: Phrases,
    /// All other phrases: checked only when no vendor code decided.
    phrases: Phrases,
    http: HashMap<u16, Vec<usize>>,
    status_re: Regex,
    default_fields: Vec<Regex>,
    unknown_advice: Arc<str>,
    unknown_title: Arc<str>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("rules", &self.rules.len())
            .finish()
    }
}

/// Where a candidate came from, for ranking.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    score: i32,
    pos: usize,
    rule: usize,
    code: Option<usize>,
}

const SCORE_CODE: i32 = 100;
const SCORE_CODE_WHEN: i32 = 110;
const SCORE_NEAR_MISS: i32 = 90;
const SCORE_WEAK_CODE: i32 = 30;
const DEFAULT_PRIORITY: i32 = 50;
const DEFAULT_HTTP_PRIORITY: i32 = 40;

/// Rules' `\w` and `\W` mean ASCII word characters: the Unicode classes
/// would make each regex megabytes large, and codes and field names are ASCII.
fn ascii_words(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('w') => out.push_str("[0-9A-Za-z_]"),
                Some('W') => out.push_str("[^0-9A-Za-z_]"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn ci_regex(rule: &str, pattern: &str) -> Result<Regex, ClassifierError> {
    RegexBuilder::new(&ascii_words(pattern))
        .case_insensitive(true)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| ClassifierError::Regex {
            rule: rule.to_owned(),
            pattern: pattern.to_owned(),
            message: e.to_string(),
        })
}

/// `INVALID_SESSION_ID` -> `InvalidSessionId` (restforce and other clients
/// turn codes into class names).
fn camel_alias(code: &str) -> Option<String> {
    if !code.contains('_') || code.bytes().any(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let mut out = String::with_capacity(code.len());
    for part in code.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    Some(out)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Classifier {
    /// The built-in knowledge base.
    pub fn builtin() -> Result<Classifier, ClassifierError> {
        Classifier::new(kb::builtin_rules()?, Vec::new())
    }

    /// Built-in rules plus user rules. A user rule with a built-in id replaces
    /// it; other user rules win ties against built-in ones.
    pub fn new(builtin: Vec<Rule>, user: Vec<Rule>) -> Result<Classifier, ClassifierError> {
        let mut merged: Vec<(Rule, bool)> = builtin.into_iter().map(|r| (r, false)).collect();
        for rule in user {
            match merged.iter().position(|(r, _)| r.id == rule.id) {
                Some(i) => merged[i] = (rule, true),
                None => merged.push((rule, true)),
            }
        }

        let mut rules = Vec::with_capacity(merged.len());
        let mut code_index: HashMap<String, usize> = HashMap::new();
        let mut code_targets: Vec<CodeTarget> = Vec::new();
        let mut wrapper_phrases = PhrasesBuilder::default();
        let mut other_phrases = PhrasesBuilder::default();
        let mut http: HashMap<u16, Vec<usize>> = HashMap::new();

        for (idx, (rule, user)) in merged.iter().enumerate() {
            let when = rule
                .when
                .as_deref()
                .map(|w| ci_regex(&rule.id, w))
                .transpose()?;
            let fields = rule
                .fields
                .iter()
                .map(|p| ci_regex(&rule.id, p))
                .collect::<Result<Vec<_>, _>>()?;
            let mut add_code = |code: &str| {
                let key = code.to_ascii_lowercase();
                let t = *code_index.entry(key).or_insert_with(|| {
                    code_targets.push(CodeTarget {
                        code: Arc::from(code),
                        exact_case: !code.contains('_')
                            && code.bytes().all(|b| b.is_ascii_uppercase()),
                        rules: Vec::new(),
                    });
                    code_targets.len() - 1
                });
                if !code_targets[t].rules.contains(&idx) {
                    code_targets[t].rules.push(idx);
                }
            };
            for code in &rule.codes {
                add_code(code);
                if let Some(alias) = camel_alias(code) {
                    add_code(&alias);
                }
            }
            let target = if rule.wrapper {
                &mut wrapper_phrases
            } else {
                &mut other_phrases
            };
            for kw in &rule.keywords {
                target.keywords.push(kw.clone());
                target.keyword_rules.push(idx);
            }
            for p in &rule.patterns {
                target.patterns.push(ascii_words(p));
                target.pattern_rules.push(idx);
            }
            for status in &rule.http {
                http.entry(*status).or_default().push(idx);
            }
            let advice: Arc<str> = if rule.fix.trim().is_empty() {
                Arc::from(rule.layer.default_fix())
            } else {
                Arc::from(rule.fix.trim())
            };
            let default_priority =
                if rule.codes.is_empty() && rule.keywords.is_empty() && rule.patterns.is_empty() {
                    DEFAULT_HTTP_PRIORITY
                } else {
                    DEFAULT_PRIORITY
                };
            rules.push(Compiled {
                id: Arc::from(rule.id.as_str()),
                crm: rule.crm,
                layer: rule.layer,
                transient: rule.transient,
                weak: rule.weak,
                wrapper: rule.wrapper,
                inside_wrapper: rule.inside_wrapper,
                when,
                fields,
                priority: rule.priority.unwrap_or(default_priority),
                user: *user,
                title: Arc::from(rule.title.trim()),
                advice,
            });
        }

        // Within one code, user rules first, then rules narrowed by `when`.
        for target in &mut code_targets {
            target
                .rules
                .sort_by_key(|&r| (!rules[r].user, rules[r].when.is_none(), r));
        }

        let codes = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(code_targets.iter().map(|t| t.code.as_ref()))
            .map_err(|e| ClassifierError::Matcher(e.to_string()))?;
        let wrappers = wrapper_phrases.build(&merged)?;
        let phrases = other_phrases.build(&merged)?;

        let status_re = ci_regex(
            "builtin.http_status",
            r#"(?:\bstatus(?:[ _-]?code)?|\bhttp(?:/\d(?:\.\d)?)?|\bresponse code|"statusCode"|"httpStatusCode"|"status_code"|"status")(?:\s+(?:is|was|of|=))?\W{0,3}([1-5]\d\d)\b|\b([1-5]\d\d) (?:client|server) error\b|\[([1-5]\d\d)\]|\b([1-5]\d\d)\)?:?\s+(?:unauthorized|forbidden|too many requests|not found|bad request|internal server error|bad gateway|service unavailable|gateway time-?out|conflict|unprocessable|request timeout|payload too large|request entity too large|method not allowed|locked|precondition failed)\b"#,
        )?;
        let default_fields = [
            // Salesforce Bulk: CODE:message:Field1,Field2 --
            r":([A-Za-z_][\w.]*(?:,[A-Za-z_][\w.]*)*) --\s*$",
            // JSON "fields":["A","B"]
            r#""fields"\s*:\s*\[\s*("[^\]]+)\]"#,
            // Salesforce "...: [LastName, Company]"
            r":\s*\[([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\]",
            // column 'X__c', property "foo", field "Search Value", attribute 'x'
            r#"(?:column|field|property|attribute|api_name|propertyName)"?\s*[:=]?\s*['"]([^'"]{1,80})['"]"#,
        ]
        .iter()
        .map(|p| ci_regex("builtin.fields", p))
        .collect::<Result<Vec<_>, _>>()?;

        Ok(Classifier {
            rules,
            codes,
            code_targets,
            wrappers,
            phrases,
            http,
            status_re,
            default_fields,
            unknown_advice: Arc::from(Layer::Unknown.default_fix()),
            unknown_title: Arc::from("No rule recognises this error"),
        })
    }

    /// Number of rules loaded.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rules for `syncward rules list`: id, layer, transient, title.
    pub fn rule_summaries(&self) -> impl Iterator<Item = RuleSummary<'_>> {
        self.rules.iter().map(|r| RuleSummary {
            id: &r.id,
            layer: r.layer,
            transient: r.transient,
            title: &r.title,
            user: r.user,
        })
    }

    /// Classify one error text. Total: every input gets an answer.
    pub fn classify(&self, input: &Input<'_>) -> Classification {
        let text = normalize(input.text);
        let t = text.as_ref();
        let bytes = t.as_bytes();

        // 1. Vendor code tokens.
        let mut codes: Vec<Candidate> = Vec::new();
        for m in self.codes.find_iter(t) {
            let (s, e) = (m.start(), m.end());
            if (s > 0 && is_word_byte(bytes[s - 1])) || (e < bytes.len() && is_word_byte(bytes[e]))
            {
                continue;
            }
            let target = &self.code_targets[m.pattern().as_usize()];
            if target.exact_case && &t[s..e] != target.code.as_ref() {
                continue;
            }
            if let Some(&rule) = target
                .rules
                .iter()
                .find(|&&r| self.rules[r].when.as_ref().is_none_or(|w| w.is_match(t)))
            {
                let r = &self.rules[rule];
                let score = if r.weak {
                    SCORE_WEAK_CODE
                } else if r.when.is_some() {
                    SCORE_CODE_WHEN
                } else {
                    SCORE_CODE
                };
                codes.push(Candidate {
                    score,
                    pos: s,
                    rule,
                    code: Some(m.pattern().as_usize()),
                });
            }
        }
        if codes.is_empty()
            && let Some(c) = self.near_miss(t)
        {
            codes.push(c);
        }

        // 2. Wrappers (triggers, flows, plug-ins): the innermost cause decides.
        let mut phrases: Vec<Candidate> = Vec::new();
        self.wrappers.collect(t, &self.rules, &mut phrases);
        let wrapper = codes
            .iter()
            .chain(phrases.iter())
            .filter(|c| self.rules[c.rule].wrapper)
            .min_by_key(|c| c.pos)
            .copied();
        if let Some(w) = wrapper {
            let inner = codes
                .iter()
                .filter(|c| !self.rules[c.rule].wrapper && !self.rules[c.rule].weak)
                .max_by_key(|c| c.pos)
                .copied();
            return match inner {
                Some(inner) => self.wrapped(t, input, w, inner),
                None => self.answer(t, input, w, None),
            };
        }

        // 3. A vendor code outranks every phrase and status, so those are
        //    looked for only when no code decided.
        if let Some(best) = codes
            .iter()
            .filter(|c| c.score >= SCORE_NEAR_MISS)
            .max_by(|a, b| {
                self.adjusted(a, input.crm)
                    .cmp(&self.adjusted(b, input.crm))
                    .then(b.pos.cmp(&a.pos))
            })
        {
            return self.answer(t, input, *best, None);
        }
        self.phrases.collect(t, &self.rules, &mut phrases);

        // 4. HTTP status, given or found in the text.
        let status = input.http_status.or_else(|| self.status_in(t));
        let mut statuses: Vec<Candidate> = Vec::new();
        if let Some(status) = status
            && let Some(rules) = self.http.get(&status)
        {
            for &rule in rules {
                statuses.push(Candidate {
                    score: self.rules[rule].priority,
                    pos: usize::MAX,
                    rule,
                    code: None,
                });
            }
        }

        let best = codes
            .iter()
            .chain(phrases.iter())
            .chain(statuses.iter())
            .map(|c| (self.adjusted(c, input.crm), c))
            .max_by(|(a, ca), (b, cb)| a.cmp(b).then(cb.pos.cmp(&ca.pos)));
        match best {
            Some((_, c)) => {
                let http = if c.code.is_none() && statuses.iter().any(|s| s.rule == c.rule) {
                    status
                } else {
                    None
                };
                self.answer(t, input, *c, http)
            }
            None => Classification {
                layer: Layer::Unknown,
                code: status.map(|s| Arc::from(format!("HTTP {s}"))),
                fields: self.default_fields(t),
                transient: false,
                rule: None,
                advice: self.unknown_advice.clone(),
                title: self.unknown_title.clone(),
            },
        }
    }

    fn adjusted(&self, c: &Candidate, crm: Option<Crm>) -> i32 {
        let r = &self.rules[c.rule];
        let mut score = c.score * 10;
        match (crm, r.crm) {
            (Some(a), Some(b)) if a == b => score += 3,
            (Some(_), Some(_)) => score -= 3,
            _ => {}
        }
        if r.user {
            score += 1;
        }
        score
    }

    fn status_in(&self, t: &str) -> Option<u16> {
        let caps = self.status_re.captures(t)?;
        caps.get(1)
            .or_else(|| caps.get(2))
            .or_else(|| caps.get(3))
            .or_else(|| caps.get(4))
            .and_then(|m| m.as_str().parse().ok())
    }

    fn answer(
        &self,
        t: &str,
        _input: &Input<'_>,
        c: Candidate,
        http: Option<u16>,
    ) -> Classification {
        let r = &self.rules[c.rule];
        let code = match c.code {
            Some(i) => Some(self.code_targets[i].code.clone()),
            None => http.map(|s| Arc::from(format!("HTTP {s}"))),
        };
        Classification {
            layer: r.layer,
            code,
            fields: self.fields(t, c.rule),
            transient: r.transient,
            rule: Some(r.id.clone()),
            advice: r.advice.clone(),
            title: r.title.clone(),
        }
    }

    /// A trigger or flow wrapped another error. A transport cause stays
    /// transport (retrying fixes a row lock); any other cause raised inside
    /// the automation is the automation's failure: workflow.
    fn wrapped(
        &self,
        t: &str,
        input: &Input<'_>,
        wrapper: Candidate,
        inner: Candidate,
    ) -> Classification {
        let ir = &self.rules[inner.rule];
        let layer = ir
            .inside_wrapper
            .unwrap_or(if ir.layer == Layer::Transport {
                Layer::Transport
            } else {
                Layer::Workflow
            });
        if layer == ir.layer {
            return self.answer(t, input, inner, None);
        }
        let wr = &self.rules[wrapper.rule];
        let mut out = self.answer(t, input, wrapper, None);
        out.layer = layer;
        out.transient = layer == Layer::Transport && ir.transient;
        out.code = inner.code.map(|i| self.code_targets[i].code.clone());
        let inner_fields = self.fields(t, inner.rule);
        if !inner_fields.is_empty() {
            out.fields = inner_fields;
        }
        out.advice = Arc::from(format!(
            "{} The inner cause was: {}.",
            wr.advice,
            ir.title.trim_end_matches('.')
        ));
        out
    }

    fn fields(&self, t: &str, rule: usize) -> Vec<String> {
        for re in &self.rules[rule].fields {
            let found = extract(re, t);
            if !found.is_empty() {
                return found;
            }
        }
        self.default_fields(t)
    }

    fn default_fields(&self, t: &str) -> Vec<String> {
        for re in &self.default_fields {
            let found = extract(re, t);
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }

    /// A code spelled nearly right: transposed words
    /// (`CANNOT_UPDATE_INSERT_ACTIVATE_ENTITY`) or one or two letters off.
    fn near_miss(&self, t: &str) -> Option<Candidate> {
        let bytes = t.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_uppercase() && (i == 0 || !is_word_byte(bytes[i - 1])) {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_uppercase() || bytes[i] == b'_') {
                    i += 1;
                }
                let token = &t[start..i];
                let whole = i == bytes.len() || !is_word_byte(bytes[i]);
                if whole
                    && token.len() >= 8
                    && token.contains('_')
                    && let Some(target) = self.closest_code(token)
                {
                    let rule = self.code_targets[target].rules[0];
                    return Some(Candidate {
                        score: if self.rules[rule].weak {
                            SCORE_WEAK_CODE
                        } else {
                            SCORE_NEAR_MISS
                        },
                        pos: start,
                        rule,
                        code: Some(target),
                    });
                }
            } else {
                i += 1;
            }
        }
        None
    }

    fn closest_code(&self, token: &str) -> Option<usize> {
        let mut parts: Vec<&str> = token.split('_').filter(|p| !p.is_empty()).collect();
        parts.sort_unstable();
        let budget = if token.len() >= 12 { 2 } else { 1 };
        let mut best: Option<(usize, usize)> = None;
        for (i, target) in self.code_targets.iter().enumerate() {
            let code = target.code.as_ref();
            if !code.contains('_') || code.len().abs_diff(token.len()) > budget {
                continue;
            }
            let mut cp: Vec<&str> = code.split('_').filter(|p| !p.is_empty()).collect();
            cp.sort_unstable();
            let d = if cp == parts {
                0
            } else {
                osa_distance(token.as_bytes(), code.as_bytes())
            };
            if d <= budget && best.is_none_or(|(_, bd)| d < bd) {
                best = Some((i, d));
            }
        }
        best.map(|(i, _)| i)
    }
}

/// Keywords (Aho-Corasick) and regexes (one RegexSet) with their rules.
struct Phrases {
    keywords: AhoCorasick,
    keyword_rules: Vec<usize>,
    patterns: Option<RegexSet>,
    pattern_rules: Vec<usize>,
}

#[derive(Default)]
struct PhrasesBuilder {
    keywords: Vec<String>,
    keyword_rules: Vec<usize>,
    patterns: Vec<String>,
    pattern_rules: Vec<usize>,
}

impl PhrasesBuilder {
    fn build(self, rules: &[(Rule, bool)]) -> Result<Phrases, ClassifierError> {
        let keywords = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&self.keywords)
            .map_err(|e| ClassifierError::Matcher(e.to_string()))?;
        let patterns = if self.patterns.is_empty() {
            None
        } else {
            Some(
                RegexSetBuilder::new(&self.patterns)
                    .case_insensitive(true)
                    .size_limit(1 << 24)
                    .build()
                    .map_err(|e| {
                        // Name the rule and pattern at fault (compiling each
                        // one alone only when the set fails keeps start-up fast).
                        let culprit = self.pattern_rules.iter().find_map(|&r| {
                            let rule = &rules[r].0;
                            rule.patterns
                                .iter()
                                .find_map(|p| ci_regex(&rule.id, p).err())
                        });
                        culprit.unwrap_or_else(|| ClassifierError::Matcher(e.to_string()))
                    })?,
            )
        };
        Ok(Phrases {
            keywords,
            keyword_rules: self.keyword_rules,
            patterns,
            pattern_rules: self.pattern_rules,
        })
    }
}

impl Phrases {
    fn collect(&self, t: &str, rules: &[Compiled], out: &mut Vec<Candidate>) {
        for m in self.keywords.find_iter(t) {
            let rule = self.keyword_rules[m.pattern().as_usize()];
            out.push(Candidate {
                score: rules[rule].priority,
                pos: m.start(),
                rule,
                code: None,
            });
        }
        if let Some(set) = &self.patterns {
            for i in set.matches(t).iter() {
                let rule = self.pattern_rules[i];
                out.push(Candidate {
                    score: rules[rule].priority,
                    pos: usize::MAX / 2,
                    rule,
                    code: None,
                });
            }
        }
    }
}

/// Rules as `syncward rules list` shows them.
#[derive(Debug, Serialize)]
pub struct RuleSummary<'a> {
    pub id: &'a str,
    pub layer: Layer,
    pub transient: bool,
    pub title: &'a str,
    pub user: bool,
}

fn extract(re: &Regex, t: &str) -> Vec<String> {
    let Some(m) = re.captures(t).and_then(|c| c.get(1)) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for part in m.as_str().split(',') {
        let f = part.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        if !f.is_empty() && f.len() <= 80 && !out.iter().any(|o| o == f) {
            out.push(f.to_owned());
        }
    }
    out
}

/// Optimal string alignment distance (Levenshtein plus adjacent swaps).
fn osa_distance(a: &[u8], b: &[u8]) -> usize {
    let (n, m) = (a.len(), b.len());
    let mut prev2 = vec![0usize; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        cur[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m]
}

#[cfg(test)]
mod tests;
