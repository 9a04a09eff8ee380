//! `ocer_catalog_*`: the ErrorId catalogs of MS-OCER Appendix B (Lync Server
//! 2010) and Appendix C (OCS 2007 / R2). Static data: every string returned
//! here lives for the whole program.

use ocer::diag::{Catalog, CatalogEntry, Direction, ErrorId};

use crate::guard::guard;
use crate::ptr::{self, ocer_str};
use crate::result::{ocer_result, Failure};

/// Which catalog: one of the `OCER_CATALOG_*` constants.
pub type ocer_catalog = u32;
/// Section 7, Appendix B: ErrorIds of Lync Server 2010.
pub const OCER_CATALOG_LYNC_SERVER_2010: ocer_catalog = 0;
/// Section 8, Appendix C: ErrorIds of OCS 2007 and 2007 R2.
pub const OCER_CATALOG_OCS_2007: ocer_catalog = 1;

/// Whether a catalog row's header comes in a request or a response: one of
/// the `OCER_DIRECTION_*` constants.
pub type ocer_direction = u32;
/// In a request the server sends (a BYE ending a conference, a NOTIFY).
pub const OCER_DIRECTION_REQUEST: ocer_direction = 0;
/// In a response.
pub const OCER_DIRECTION_RESPONSE: ocer_direction = 1;

fn catalog_in(catalog: ocer_catalog) -> Result<Catalog, Failure> {
    match catalog {
        OCER_CATALOG_LYNC_SERVER_2010 => Ok(Catalog::LyncServer2010),
        OCER_CATALOG_OCS_2007 => Ok(Catalog::Ocs2007),
        other => Err(Failure::invalid(format!("unknown ocer_catalog {other}"))),
    }
}

/// One row of a catalog. Every string is static.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_catalog_entry {
    /// The catalog the row belongs to.
    pub catalog: ocer_catalog,
    /// The ErrorId.
    pub error_id: u32,
    /// Subsection number, e.g. "7.2".
    pub section: ocer_str,
    /// Subsection title, the component, e.g. "SipStack".
    pub component: ocer_str,
    /// The reason the spec gives.
    pub reason: ocer_str,
    /// The header(s) the spec says carry it, e.g. "ms-diagnostics".
    pub header: ocer_str,
    /// Request or response.
    pub direction: ocer_direction,
    /// The spec footnote attached to the row, 0 for none.
    pub footnote: u16,
}

fn entry_out(e: &'static CatalogEntry) -> ocer_catalog_entry {
    let ErrorId(id) = e.error_id;
    ocer_catalog_entry {
        catalog: match e.catalog {
            Catalog::LyncServer2010 => OCER_CATALOG_LYNC_SERVER_2010,
            Catalog::Ocs2007 => OCER_CATALOG_OCS_2007,
        },
        error_id: id,
        section: ocer_str::of(e.section),
        component: ocer_str::of(e.component),
        reason: ocer_str::of(e.reason),
        header: ocer_str::of(e.header.as_str()),
        direction: match e.direction {
            Direction::Request => OCER_DIRECTION_REQUEST,
            Direction::Response => OCER_DIRECTION_RESPONSE,
        },
        footnote: e.footnote.unwrap_or(0),
    }
}

/// The rows of `catalog` for `error_id`, into the caller's array: none when
/// the catalog does not list the id, two for the few ids section 8 lists
/// twice.
///
/// `*count_out` receives the number of rows whatever the outcome; when it is
/// above `capacity`, the first `capacity` rows are written and the result is
/// `OCER_RESULT_INSUFFICIENT_SIZE`. `entries` may be NULL when `capacity` is 0.
///
/// Thread-safety: reads static data only; call from any thread.
///
/// # Safety
///
/// `entries` is NULL or valid for writing `capacity` entries; `count_out` is
/// valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_catalog_lookup(
    catalog: ocer_catalog,
    error_id: u32,
    entries: *mut ocer_catalog_entry,
    capacity: usize,
    count_out: *mut usize,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for count_out.
        let count = unsafe { ptr::out(count_out, "count_out") }?;
        // SAFETY: the caller's contract for entries and capacity.
        let array = unsafe { ptr::array_out(entries, capacity, "entries") }?;
        let rows = catalog_in(catalog)?.lookup(ErrorId(error_id));
        ptr::fill(array, count, rows.iter().map(entry_out), "entries")
    })
}

/// The component an ErrorId belongs to in `catalog`: the listing row's, or
/// that of the stated range containing the id (so an unlisted id is still
/// attributed). `{NULL, 0}` when neither applies.
///
/// Thread-safety: reads static data only; call from any thread.
///
/// # Safety
///
/// `component_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_catalog_component(
    catalog: ocer_catalog,
    error_id: u32,
    component_out: *mut ocer_str,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for component_out.
        let out = unsafe { ptr::out(component_out, "component_out") }?;
        let name = catalog_in(catalog)?.component_name(ErrorId(error_id));
        out.put(ocer_str::of_opt(name));
        Ok(())
    })
}
