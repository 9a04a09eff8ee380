//! ErrorId catalogs of MS-OCER Appendix B (section 7) and Appendix C (section 8).
//!
//! The tables are generated at build time from `sdk/data/*.tsv` (see
//! `sdk/data/README.md` for how they were extracted from the spec and every
//! correction made on the way). Everything here is `&'static` and allocation
//! free.
//!
//! ```
//! use ocer::diag::{Catalog, ErrorId};
//!
//! let rows = Catalog::LyncServer2010.lookup(ErrorId(1003));
//! assert_eq!(rows[0].reason, "User does not exist.");
//! assert_eq!(rows[0].component, "SipStack");
//!
//! // An id no table lists is still attributed to its component's range.
//! let range = Catalog::LyncServer2010.component_of(ErrorId(1999));
//! assert_eq!(range.map(|r| r.component), Some("SipStack"));
//! ```

use super::{ErrorId, HeaderKind};

/// One of the spec's two ErrorId catalogs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Catalog {
    /// Section 7, Appendix B: ErrorIds of Lync Server 2010.
    LyncServer2010,
    /// Section 8, Appendix C: ErrorIds of releases prior to Lync Server 2010
    /// (Office Communications Server 2007 and 2007 R2).
    Ocs2007,
}

/// Which diagnostics header the spec says carries an ErrorId ("Header" column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CatalogHeader {
    /// `ms-diagnostics` (§2.2.1.1).
    Private,
    /// `ms-diagnostics-public` (§2.2.1.2).
    Public,
    /// `ms-diagnostics/ms-diagnostics-public`: section 8.8 lists both, so
    /// either may carry the id.
    PrivateOrPublic,
}

/// Whether the header comes in a SIP request or a response ("SIP Request,
/// Response" column). Requests are those a server sends on its own, such as a
/// BYE ending a conference or a NOTIFY terminating a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Carried in a request.
    Request,
    /// Carried in a response.
    Response,
}

/// One table row of a catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CatalogEntry {
    /// The catalog (appendix) the row belongs to.
    pub catalog: Catalog,
    /// Subsection number, e.g. `"7.2"`.
    pub section: &'static str,
    /// Subsection title, e.g. `"SipStack"`, `"Presence"`.
    pub component: &'static str,
    /// The ErrorId.
    pub error_id: ErrorId,
    /// The header that carries it.
    pub header: CatalogHeader,
    /// Request or response.
    pub direction: Direction,
    /// The reason string, free of the PDF conversion's artifacts.
    pub reason: &'static str,
    /// The spec footnote (product behavior note) attached to the row, if any.
    pub footnote: Option<u16>,
    /// Line of the spec seed text where the row starts.
    pub spec_line: u32,
}

/// The ErrorId range a subsection's introduction states ("numbered 1000 –
/// 1999"). Subsections 7.1 and 8.1 (public errors, ids 0–39) state none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ComponentRange {
    /// The catalog (appendix) the range belongs to.
    pub catalog: Catalog,
    /// Subsection number, e.g. `"7.2"`.
    pub section: &'static str,
    /// Subsection title, e.g. `"SipStack"`.
    pub component: &'static str,
    /// Lowest id of the range.
    pub low: ErrorId,
    /// Highest id of the range (inclusive).
    pub high: ErrorId,
    /// A spec footnote attached to the whole table, if any (8.8: 57).
    pub footnote: Option<u16>,
    /// Line of the spec seed text that states the range.
    pub spec_line: u32,
}

include!(concat!(env!("OUT_DIR"), "/catalog_tables.rs"));

impl Catalog {
    /// Both catalogs, newest first.
    pub const ALL: [Catalog; 2] = [Catalog::LyncServer2010, Catalog::Ocs2007];

    /// The spec section number of the catalog: `"7"` or `"8"`.
    pub const fn section(self) -> &'static str {
        match self {
            Catalog::LyncServer2010 => "7",
            Catalog::Ocs2007 => "8",
        }
    }

    /// Every row of the catalog, sorted by ErrorId; rows with the same id stay
    /// in the spec's order.
    pub const fn entries(self) -> &'static [CatalogEntry] {
        match self {
            Catalog::LyncServer2010 => LYNC_SERVER_2010_ENTRIES,
            Catalog::Ocs2007 => OCS_2007_ENTRIES,
        }
    }

    /// The stated component ranges, sorted by their low end. They do not
    /// overlap (the build checks it).
    pub const fn ranges(self) -> &'static [ComponentRange] {
        match self {
            Catalog::LyncServer2010 => LYNC_SERVER_2010_RANGES,
            Catalog::Ocs2007 => OCS_2007_RANGES,
        }
    }

    /// All rows for `id`: empty if the catalog does not list it, two for the
    /// ids section 8 lists twice (3069, 3112, 4140–4142).
    pub fn lookup(self, id: ErrorId) -> &'static [CatalogEntry] {
        let entries = self.entries();
        let start = entries.partition_point(|e| e.error_id < id);
        let tail = entries.get(start..).unwrap_or_default();
        let len = tail.partition_point(|e| e.error_id == id);
        tail.get(..len).unwrap_or_default()
    }

    /// The component whose stated range contains `id`, listed or not.
    /// `None` for ids outside every range, including the public errors of
    /// 7.1 / 8.1, which state no range (see [`Catalog::component_name`]).
    pub fn component_of(self, id: ErrorId) -> Option<&'static ComponentRange> {
        let ranges = self.ranges();
        let after = ranges.partition_point(|r| r.low <= id);
        ranges.get(after.checked_sub(1)?).filter(|r| r.contains(id))
    }

    /// The component an id belongs to: the listing row's component if the
    /// catalog lists the id, else the component of the range containing it.
    pub fn component_name(self, id: ErrorId) -> Option<&'static str> {
        match self.lookup(id).first() {
            Some(entry) => Some(entry.component),
            None => self.component_of(id).map(|r| r.component),
        }
    }
}

impl CatalogHeader {
    /// The header name(s) as the spec's table prints them.
    pub const fn as_str(self) -> &'static str {
        match self {
            CatalogHeader::Private => "ms-diagnostics",
            CatalogHeader::Public => "ms-diagnostics-public",
            CatalogHeader::PrivateOrPublic => "ms-diagnostics/ms-diagnostics-public",
        }
    }

    /// Whether a header of `kind` is one the catalog allows for this row.
    pub const fn admits(self, kind: HeaderKind) -> bool {
        matches!(
            (self, kind),
            (
                CatalogHeader::Private | CatalogHeader::PrivateOrPublic,
                HeaderKind::Private
            ) | (
                CatalogHeader::Public | CatalogHeader::PrivateOrPublic,
                HeaderKind::Public
            )
        )
    }
}

impl ComponentRange {
    /// Whether `id` lies in the range (bounds inclusive).
    pub fn contains(&self, id: ErrorId) -> bool {
        self.low <= id && id <= self.high
    }
}

/// Rows for `id` in both catalogs, Lync Server 2010 first.
pub fn lookup_all(id: ErrorId) -> impl Iterator<Item = &'static CatalogEntry> {
    Catalog::ALL.into_iter().flat_map(move |c| c.lookup(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Table rows per subsection, counted in the seed text
    /// (`awk` over lines that start with digits and a TAB, between one
    /// subsection heading and the next), and spot-checked by reading the
    /// short tables.
    const SECTION_ROWS: [(&str, usize); 47] = [
        ("7.1", 28),
        ("7.2", 73),
        ("7.3", 196),
        ("7.4", 195),
        ("7.5", 257),
        ("7.6", 28),
        ("7.7", 31),
        ("7.8", 46),
        ("7.9", 14),
        ("7.10", 100),
        ("7.11", 26),
        ("7.12", 22),
        ("7.13", 14),
        ("7.14", 35),
        ("7.15", 3),
        ("7.16", 5),
        ("7.17", 25),
        ("7.18", 12),
        ("7.19", 19),
        ("7.20", 114),
        ("7.21", 21),
        ("7.22", 66),
        ("7.23", 59),
        ("7.24", 19),
        ("7.25", 18),
        ("7.26", 3),
        ("8.1", 4),
        ("8.2", 28),
        ("8.3", 147),
        ("8.4", 149),
        ("8.5", 158),
        ("8.6", 9),
        ("8.7", 30),
        ("8.8", 37),
        ("8.9", 11),
        ("8.10", 102),
        ("8.11", 13),
        ("8.12", 9),
        ("8.13", 14),
        ("8.14", 11),
        ("8.15", 3),
        ("8.16", 5),
        ("8.17", 8),
        ("8.18", 4),
        ("8.19", 12),
        ("8.20", 1),
        ("8.21", 84),
    ];

    fn only(catalog: Catalog, id: u32) -> &'static CatalogEntry {
        let rows = catalog.lookup(ErrorId(id));
        assert_eq!(rows.len(), 1, "{catalog:?} {id}: {rows:?}");
        &rows[0]
    }

    #[test]
    fn row_counts_per_section() {
        for (section, want) in SECTION_ROWS {
            let catalog = if section.starts_with("7.") {
                Catalog::LyncServer2010
            } else {
                Catalog::Ocs2007
            };
            let got = catalog
                .entries()
                .iter()
                .filter(|e| e.section == section)
                .count();
            assert_eq!(got, want, "section {section}");
        }
        assert_eq!(Catalog::LyncServer2010.entries().len(), 1429);
        assert_eq!(Catalog::Ocs2007.entries().len(), 839);
    }

    #[test]
    fn entries_sorted_and_tagged() {
        for catalog in Catalog::ALL {
            let entries = catalog.entries();
            assert!(entries.windows(2).all(|w| w[0].error_id <= w[1].error_id));
            let prefix = format!("{}.", catalog.section());
            for e in entries {
                assert_eq!(e.catalog, catalog);
                assert!(e.section.starts_with(&prefix), "{e:?}");
                assert!(!e.reason.is_empty());
            }
            for r in catalog.ranges() {
                assert_eq!(r.catalog, catalog);
                assert!(r.section.starts_with(&prefix), "{r:?}");
            }
        }
        assert_eq!(Catalog::LyncServer2010.ranges().len(), 25);
        assert_eq!(Catalog::Ocs2007.ranges().len(), 20);
    }

    #[test]
    fn rows_split_across_page_breaks() {
        // 7.1: header "ms-" + "diagnostics", reason continued after the footer.
        let e = only(Catalog::LyncServer2010, 25);
        assert_eq!(e.section, "7.1");
        assert_eq!(e.component, "MS-Diagnostic Public Errors");
        assert_eq!(e.header, CatalogHeader::Private);
        assert_eq!(e.direction, Direction::Response);
        assert_eq!(
            e.reason,
            "A federated call failed to establish due to a media connectivity failure \
             where both endpoints are internal."
        );
        assert_eq!(e.spec_line, 840);

        let e = only(Catalog::LyncServer2010, 1002);
        assert_eq!((e.section, e.component), ("7.2", "SipStack"));
        assert_eq!(
            e.reason,
            "From URI not authorized to communicate with federated partners."
        );
        assert_eq!(e.spec_line, 871);

        // Only the header was split; the continuation's reason cell is empty.
        let e = only(Catalog::LyncServer2010, 1040);
        assert_eq!(e.header, CatalogHeader::Private);
        assert_eq!(e.reason, "Connection to a peer server failed.");

        // A stray "-" in the continuation's ErrorId cell.
        let e = only(Catalog::LyncServer2010, 3104);
        assert_eq!(
            e.reason,
            "The requested command requires that target user must be different from the source."
        );

        // "ms-diagnostics/ms-" + "diagnostics-public", reason continued.
        let e = only(Catalog::Ocs2007, 7003);
        assert_eq!(e.header, CatalogHeader::PrivateOrPublic);
        assert_eq!(
            e.reason,
            "The SIP INVITE request with the protocol client timed out."
        );

        // "ms- diagnostics-" + "public".
        assert_eq!(
            only(Catalog::LyncServer2010, 3027).header,
            CatalogHeader::Public
        );
        assert_eq!(
            only(Catalog::Ocs2007, 3113).reason,
            "Conference terminated \u{2013} deleted."
        );
    }

    #[test]
    fn artifacts_removed() {
        assert_eq!(
            only(Catalog::LyncServer2010, 2000).reason,
            "Prompted subscriber does not exist."
        );
        assert_eq!(
            only(Catalog::LyncServer2010, 2146).reason,
            "Server handling the subscription is not reachable via RPC."
        );
        assert_eq!(
            only(Catalog::LyncServer2010, 24071).reason,
            "Escalation invitation has no \"available\" or \"additional\" media types."
        );
        assert_eq!(
            only(Catalog::LyncServer2010, 1020).reason,
            "Identity of the referrer could not be verified with the ms-identity parameter."
        );
        // Missing TAB between direction and reason.
        let e = only(Catalog::LyncServer2010, 7021);
        assert_eq!(e.direction, Direction::Response);
        assert_eq!(
            e.reason,
            "Error parsing SDP: client must provide only one encryption key."
        );
        // "Ms- diagnostics".
        assert_eq!(only(Catalog::Ocs2007, 10013).header, CatalogHeader::Private);
        // A word the conversion glued onto the next row.
        assert_eq!(
            only(Catalog::Ocs2007, 24031).reason,
            "No transaction handler."
        );
        assert_eq!(
            only(Catalog::Ocs2007, 24032).reason,
            "No component handler."
        );
    }

    #[test]
    fn footnotes_kept_apart_from_reason() {
        let cases = [
            (1024, 6, "Message boss (on-behalf-of) domain traffic type does not match source domain."),
            (1025, 7, "Allowed partner domain resolved by DNS SRV to a fully qualified domain name (FQDN) (1) that matches a different routing rule."),
            (2144, 15, "User bound publication requires at least one endpoint."),
            (3129, 22, "Failed to process P-Session-On-Behalf-Of header."),
            (3141, 34, "Could not find a conference directory to match the given id."),
            (3143, 36, "Timeout connecting to authoritative conference directory server."),
            (4146, 44, "Internal Error: Failed to get the session-on-behalf-of header."),
            (21000, 89, "New sharer joined conference."),
        ];
        for (id, footnote, reason) in cases {
            let e = only(Catalog::Ocs2007, id);
            assert_eq!(e.footnote, Some(footnote), "{id}");
            assert_eq!(e.reason, reason, "{id}");
        }
        assert_eq!(only(Catalog::LyncServer2010, 1024).footnote, None);
        let av = Catalog::Ocs2007.component_of(ErrorId(7000));
        assert_eq!(av.and_then(|r| r.footnote), Some(57));
    }

    #[test]
    fn duplicated_ids_return_both_rows() {
        let cases = [
            (
                3069,
                "Internal Error: ConfUpdateParticipantExpiration sproc failed.",
                "Internal Error: ConfUpdateParticipant sproc failed.",
            ),
            (
                3112,
                "Focus factory URI in To is not valid for the From user.",
                "From user is not authorized to use this focus factory.",
            ),
            (4140, "Deregistered: User logged out.", "User Logged out."),
            (4141, "Deregistered: User disabled.", "User disabled."),
            (4142, "Deregistered: User moved.", "User moved."),
        ];
        for (id, first, second) in cases {
            let rows = Catalog::Ocs2007.lookup(ErrorId(id));
            let reasons: Vec<&str> = rows.iter().map(|e| e.reason).collect();
            assert_eq!(reasons, [first, second], "{id}");
            assert!(rows[0].spec_line + 1 == rows[1].spec_line);
            assert_eq!(Catalog::LyncServer2010.lookup(ErrorId(id)).len(), 1);
        }
        // No other id appears twice.
        for catalog in Catalog::ALL {
            let dups = catalog
                .entries()
                .windows(2)
                .filter(|w| w[0].error_id == w[1].error_id)
                .count();
            let want = if catalog == Catalog::Ocs2007 { 5 } else { 0 };
            assert_eq!(dups, want, "{catalog:?}");
        }
    }

    #[test]
    fn misprinted_id_is_corrected() {
        let e = only(Catalog::LyncServer2010, 4230);
        assert_eq!(e.reason, "Server pool has been failed over to its backup.");
        assert_eq!(e.spec_line, 1815);
        assert!(Catalog::LyncServer2010.lookup(ErrorId(4320)).is_empty());
        assert_eq!(
            Catalog::LyncServer2010.component_name(ErrorId(4320)),
            Some("OCS front end server")
        );
    }

    #[test]
    fn lookup_all_spans_both_catalogs() {
        let rows: Vec<_> = lookup_all(ErrorId(1002)).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].catalog, Catalog::LyncServer2010);
        assert_eq!(rows[1].catalog, Catalog::Ocs2007);
        assert_eq!(lookup_all(ErrorId(4140)).count(), 3);
        assert_eq!(lookup_all(ErrorId(11000)).count(), 1);
        assert_eq!(lookup_all(ErrorId(u32::MAX)).count(), 0);
    }

    #[test]
    fn component_of_unlisted_ids() {
        let lync = Catalog::LyncServer2010;
        // Listed in no table, inside stated ranges.
        for (id, section, component) in [
            (1999, "7.2", "SipStack"),
            (4999, "7.5", "OCS front end server"),
            (51000, "7.26", "Client Error Reporting"),
            (52999, "7.26", "Client Error Reporting"),
        ] {
            assert!(lync.lookup(ErrorId(id)).is_empty(), "{id}");
            let r = lync.component_of(ErrorId(id)).expect("in a range");
            assert_eq!((r.section, r.component), (section, component), "{id}");
        }
        // Listed, 7.26.
        assert_eq!(only(lync, 52169).component, "Client Error Reporting");
        // In no range: gaps between ranges, beyond the last, the public errors.
        for id in [8000, 11000, 19000, 53000, u32::MAX] {
            assert_eq!(lync.component_of(ErrorId(id)), None, "{id}");
        }
        assert_eq!(lync.component_of(ErrorId(25)), None);
        assert_eq!(
            lync.component_name(ErrorId(25)),
            Some("MS-Diagnostic Public Errors")
        );
        assert_eq!(lync.component_name(ErrorId(999)), None);
        // Metrics (11000-11999) exists only before Lync Server 2010.
        let metrics = Catalog::Ocs2007.component_of(ErrorId(11999));
        assert_eq!(metrics.map(|r| r.section), Some("8.17"));
        assert_eq!(Catalog::Ocs2007.component_of(ErrorId(25999)), None);
    }

    #[test]
    fn header_admits_kind() {
        use CatalogHeader::*;
        assert!(Private.admits(HeaderKind::Private));
        assert!(!Private.admits(HeaderKind::Public));
        assert!(Public.admits(HeaderKind::Public));
        assert!(!Public.admits(HeaderKind::Private));
        assert!(PrivateOrPublic.admits(HeaderKind::Private));
        assert!(PrivateOrPublic.admits(HeaderKind::Public));
        assert_eq!(
            PrivateOrPublic.as_str(),
            "ms-diagnostics/ms-diagnostics-public"
        );
    }

    proptest! {
        #[test]
        fn lookup_matches_linear_scan(id in prop_oneof![0u32..60_000, any::<u32>()]) {
            for catalog in Catalog::ALL {
                let want: Vec<_> = catalog.entries().iter().filter(|e| e.error_id == ErrorId(id)).collect();
                let got: Vec<_> = catalog.lookup(ErrorId(id)).iter().collect();
                prop_assert_eq!(got, want);
                let range = catalog.ranges().iter().find(|r| r.contains(ErrorId(id)));
                prop_assert_eq!(catalog.component_of(ErrorId(id)), range);
            }
        }
    }
}
