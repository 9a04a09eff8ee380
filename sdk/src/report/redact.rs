//! Redaction of diagnostics values before a report leaves the client.
//!
//! MS-OCER §5.1: an `ms-diagnostics` value can name the enterprise's servers
//! (`source=`, `Peer=`, `Gateway=` …). A report goes to the user's own server,
//! but an app may still want to strip such parameters, for example when reports
//! are also logged or exported. [`strip_param`] removes one parameter from a
//! value and leaves every other byte as it was.

use std::borrow::Cow;

use super::document::ErrorReport;

/// `value` without its parameters named `name` (case-insensitive, RFC 3261
/// generic-param names), and how many were removed. `;` inside quoted strings
/// is not a separator; the ErrorId before the first `;` is never removed.
pub fn strip_param<'v>(value: &'v str, name: &str) -> (Cow<'v, str>, usize) {
    let mut out = String::new();
    let mut removed = 0;
    let mut kept_until = 0;
    let segments = segments(value);
    // Segments after the first are parameters: `;name[=value]`.
    for &(start, end) in segments.iter().skip(1) {
        let param = value.get(start + 1..end).unwrap_or_default();
        let param_name = param
            .split('=')
            .next()
            .unwrap_or_default()
            .trim_matches([' ', '\t']);
        if param_name.eq_ignore_ascii_case(name) {
            out.push_str(value.get(kept_until..start).unwrap_or_default());
            kept_until = end;
            removed += 1;
        }
    }
    if removed == 0 {
        return (Cow::Borrowed(value), 0);
    }
    out.push_str(value.get(kept_until..).unwrap_or_default());
    (Cow::Owned(out), removed)
}

/// Byte ranges of the `;`-separated segments of `value`; every segment but the
/// first starts at its `;`.
fn segments(value: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (at, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push((start, at));
                start = at;
            }
            _ => {}
        }
    }
    out.push((start, value.len()));
    out
}

impl ErrorReport<'_> {
    /// Removes the parameter `name` from every `diagHeader` (final and progress);
    /// returns how many were removed. `report.strip_diag_param("source")` takes
    /// out the server FQDNs §5.1 worries about.
    pub fn strip_diag_param(&mut self, name: &str) -> usize {
        let mut removed = 0;
        for value in self
            .diag_headers
            .iter_mut()
            .chain(self.progress_reports.iter_mut())
        {
            let (stripped, n) = strip_param(value, name);
            if n > 0 {
                *value = Cow::Owned(stripped.into_owned());
                removed += n;
            }
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strips_the_named_parameter_only() {
        let v = "1007; reason=\"Temporarily cannot route\";source=\"server.contoso.com\";ErrorType=\"x;source=y\";SOURCE=z";
        let (out, n) = strip_param(v, "source");
        assert_eq!(n, 2);
        assert_eq!(
            out,
            "1007; reason=\"Temporarily cannot route\";ErrorType=\"x;source=y\""
        );
        assert_eq!(strip_param(v, "Peer"), (Cow::Borrowed(v), 0));
        assert_eq!(
            strip_param("1007", "1007"),
            (Cow::Borrowed("1007"), 0),
            "the ErrorId stays"
        );
        assert_eq!(
            strip_param("1;a=\"q\\\";source=x\";source=s", "source").0,
            "1;a=\"q\\\";source=x\""
        );
        assert_eq!(strip_param("1; source = x ;b", "source").0, "1;b");
    }

    #[test]
    fn a_report_loses_its_sources() {
        let mut report = ErrorReport {
            diag_headers: vec!["1;reason=\"r\";source=\"fe.contoso.com\"".into()],
            progress_reports: vec!["12006;source=\"edge\";appName=\"x\"".into(), "2".into()],
            ..ErrorReport::default()
        };
        assert_eq!(report.strip_diag_param("source"), 2);
        assert_eq!(report.diag_headers, vec!["1;reason=\"r\""]);
        assert_eq!(report.progress_reports, vec!["12006;appName=\"x\"", "2"]);
    }

    proptest! {
        #[test]
        fn never_panics_and_only_removes(s in any::<String>(), name in "[a-zA-Z]{1,6}") {
            let (out, n) = strip_param(&s, &name);
            prop_assert!(out.len() <= s.len());
            prop_assert_eq!(n == 0, out == s);
        }
    }
}
