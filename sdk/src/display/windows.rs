//! Windows errors (MS-OCER 9.2.5 / 10.2.5): the socket (Winsock) and WinInet
//! codes a client meets, and the one mapping from [`std::io::Error`] to them.
//!
//! The spec's strings are keyed by the codes a *Windows* client sees. A client
//! on Linux or macOS gets `errno` values instead, so [`WinError::from_io_error`]
//! translates them: a Linux client whose TCP connection to the conferencing
//! server is aborted shows the same "Cannot connect to the online meeting."
//! (10053) a Windows client would. Mapping a value is not IO: this module
//! stays sans-IO, it only reads the error value it is given.
//!
//! The catalogue (name, meaning and where each code is documented) is the data
//! file `sdk/data/windows-errors.tsv`: one row per code, columns `code`, `hex`,
//! `name`, `meaning`, `source`, `source_line` (the line in the named seed
//! text, empty when the code is documented only by Windows' own headers). The
//! named constants below are the same codes; a test keeps the two equal.

use std::fmt;
use std::io;
use std::sync::OnceLock;

use crate::sip::{TransportFailure, TransportFailureKind};

/// The catalogue, embedded. See the module docs for its columns.
pub(crate) const WINDOWS_ERRORS_TSV: &str = include_str!("../../data/windows-errors.tsv");

const TSV_HEADER: &str = "code\thex\tname\tmeaning\tsource\tsource_line";

/// A Windows error code (Win32 / Winsock / WinInet). Open newtype: any value is
/// kept, catalogued or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WinError(pub u32);

/// Declares the named constants, [`WinError::KNOWN`] and the Rust name of
/// each, so a test can hold the names to the catalogue's.
macro_rules! win_errors {
    ($($(#[$doc:meta])* $name:ident = $code:literal;)*) => {
        impl WinError {
            $($(#[$doc])* pub const $name: Self = Self($code);)*

            /// Every named constant, in code order.
            pub const KNOWN: &'static [WinError] = &[$(Self::$name),*];
        }

        /// The Rust name of every named constant, in code order.
        #[cfg(test)]
        const KNOWN_NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

win_errors! {
    /// `WSAEINTR`: a blocking call was interrupted.
    WSAEINTR = 10004;
    /// `WSAEACCES`: permission denied.
    WSAEACCES = 10013;
    /// `WSAEINVAL`: invalid argument.
    WSAEINVAL = 10022;
    /// `WSAEWOULDBLOCK`: resource temporarily unavailable.
    WSAEWOULDBLOCK = 10035;
    /// `WSAEINPROGRESS`: operation now in progress.
    WSAEINPROGRESS = 10036;
    /// `WSAEALREADY`: operation already in progress.
    WSAEALREADY = 10037;
    /// `WSAENOTSOCK`: not a socket.
    WSAENOTSOCK = 10038;
    /// `WSAEMSGSIZE`: message too long.
    WSAEMSGSIZE = 10040;
    /// `WSAEAFNOSUPPORT`: address family not supported.
    WSAEAFNOSUPPORT = 10047;
    /// `WSAEADDRINUSE`: address already in use.
    WSAEADDRINUSE = 10048;
    /// `WSAEADDRNOTAVAIL`: cannot assign requested address.
    WSAEADDRNOTAVAIL = 10049;
    /// `WSAENETDOWN`: network is down.
    WSAENETDOWN = 10050;
    /// `WSAENETUNREACH`: network is unreachable.
    WSAENETUNREACH = 10051;
    /// `WSAENETRESET`: network dropped connection on reset.
    WSAENETRESET = 10052;
    /// `WSAECONNABORTED`: software caused connection abort. The one Windows
    /// error MS-OCER gives strings for (9.2.5, 10.2.5).
    WSAECONNABORTED = 10053;
    /// `WSAECONNRESET`: connection reset by peer.
    WSAECONNRESET = 10054;
    /// `WSAENOBUFS`: no buffer space available.
    WSAENOBUFS = 10055;
    /// `WSAEISCONN`: socket is already connected.
    WSAEISCONN = 10056;
    /// `WSAENOTCONN`: socket is not connected.
    WSAENOTCONN = 10057;
    /// `WSAESHUTDOWN`: cannot send after socket shutdown.
    WSAESHUTDOWN = 10058;
    /// `WSAETIMEDOUT`: connection timed out.
    WSAETIMEDOUT = 10060;
    /// `WSAECONNREFUSED`: connection refused.
    WSAECONNREFUSED = 10061;
    /// `WSAEHOSTDOWN`: host is down.
    WSAEHOSTDOWN = 10064;
    /// `WSAEHOSTUNREACH`: no route to host.
    WSAEHOSTUNREACH = 10065;
    /// `WSAHOST_NOT_FOUND`: no such host is known (DNS).
    WSAHOST_NOT_FOUND = 11001;
    /// `WSATRY_AGAIN`: temporary DNS failure.
    WSATRY_AGAIN = 11002;
    /// `WSANO_RECOVERY`: nonrecoverable DNS failure.
    WSANO_RECOVERY = 11003;
    /// `WSANO_DATA`: the name has no record of the requested type.
    WSANO_DATA = 11004;
    /// `ERROR_INTERNET_TIMEOUT` (WinInet): the request has timed out.
    ERROR_INTERNET_TIMEOUT = 12002;
    /// `ERROR_INTERNET_INVALID_URL` (WinInet): the URL is invalid.
    ERROR_INTERNET_INVALID_URL = 12005;
    /// `ERROR_INTERNET_NAME_NOT_RESOLVED` (WinInet): the server name could not
    /// be resolved.
    ERROR_INTERNET_NAME_NOT_RESOLVED = 12007;
    /// `ERROR_INTERNET_ITEM_NOT_FOUND` (WinInet): the requested item could not
    /// be located.
    ERROR_INTERNET_ITEM_NOT_FOUND = 12028;
    /// `ERROR_INTERNET_CANNOT_CONNECT` (WinInet): the attempt to connect to the
    /// server failed.
    ERROR_INTERNET_CANNOT_CONNECT = 12029;
    /// `ERROR_INTERNET_CONNECTION_ABORTED` (WinInet): the connection with the
    /// server has been terminated.
    ERROR_INTERNET_CONNECTION_ABORTED = 12030;
    /// `ERROR_INTERNET_CONNECTION_RESET` (WinInet): the connection with the
    /// server has been reset.
    ERROR_INTERNET_CONNECTION_RESET = 12031;
    /// `ERROR_HTTP_INVALID_SERVER_RESPONSE` (WinInet): the server response
    /// could not be parsed. What a malformed final response is shown as.
    ERROR_HTTP_INVALID_SERVER_RESPONSE = 12152;
    /// `SEC_E_ILLEGAL_MESSAGE` (Schannel, `0x80090326`): the TLS handshake
    /// failed (the server's alert, or a message TLS could not read).
    SEC_E_ILLEGAL_MESSAGE = 0x8009_0326;
    /// `SEC_E_CERT_UNKNOWN` (Schannel, `0x80090327`): the server's
    /// certificate was refused.
    SEC_E_CERT_UNKNOWN = 0x8009_0327;
}

impl WinError {
    /// The catalogue row of this code, if it is catalogued.
    pub fn info(self) -> Option<&'static WinErrorInfo> {
        let table = catalogue();
        table
            .binary_search_by_key(&self.0, |row| row.code.0)
            .ok()
            .and_then(|i| table.get(i))
    }

    /// The symbolic name (`WSAECONNABORTED`), if catalogued.
    pub fn name(self) -> Option<&'static str> {
        self.info().map(|row| row.name)
    }

    /// What the code means, if catalogued.
    pub fn meaning(self) -> Option<&'static str> {
        self.info().map(|row| row.meaning)
    }

    /// The Windows error a Windows client would have seen for this IO error.
    ///
    /// On Windows the raw OS error already is one. On Linux and Android
    /// (generic errno ABI) and on macOS, iOS and the BSDs the raw `errno` is
    /// translated ([`WinError::from_linux_errno`], [`WinError::from_bsd_errno`]).
    /// Without a raw error, or with one that has no Winsock counterpart, the
    /// [`io::ErrorKind`] decides ([`WinError::from_io_error_kind`]). `None` when
    /// neither says anything a socket would.
    ///
    /// DNS failures carry no errno in Rust's resolvers (they are
    /// `ErrorKind::Other`/`Uncategorized` with a message): the caller that
    /// resolves names passes [`WinError::WSAHOST_NOT_FOUND`] itself.
    pub fn from_io_error(error: &io::Error) -> Option<WinError> {
        error
            .raw_os_error()
            .and_then(from_native_os_error)
            .or_else(|| Self::from_io_error_kind(error.kind()))
    }

    /// The Windows error a Windows client would have met for a transport
    /// failure: its raw OS error when it has one, else its kind — Schannel's
    /// for a TLS failure or a refused certificate, WinInet's "could not be
    /// parsed" for a final response that could not be framed, Winsock's for
    /// the rest. `None` when the failure says nothing a Windows client would
    /// show (`Send`, `Other` without an OS error). The only place transport
    /// failures become Windows errors.
    pub fn from_transport(failure: &TransportFailure) -> Option<WinError> {
        use TransportFailureKind as K;
        match failure.kind {
            K::Tls => return Some(Self::SEC_E_ILLEGAL_MESSAGE),
            K::Certificate => return Some(Self::SEC_E_CERT_UNKNOWN),
            K::Framing => return Some(Self::ERROR_HTTP_INVALID_SERVER_RESPONSE),
            K::Resolve => return Some(Self::WSAHOST_NOT_FOUND),
            _ => {}
        }
        if let Some(win) = failure.os_error.and_then(from_native_os_error) {
            return Some(win);
        }
        let kind = match failure.kind {
            K::ConnectionRefused => io::ErrorKind::ConnectionRefused,
            K::Unreachable => io::ErrorKind::HostUnreachable,
            K::TimedOut => io::ErrorKind::TimedOut,
            K::ConnectionReset | K::ConnectionClosed => io::ErrorKind::ConnectionReset,
            _ => return None,
        };
        Self::from_io_error_kind(kind)
    }

    /// The Winsock error for a Linux `errno` (the generic ABI of x86, ARM,
    /// RISC-V, PowerPC, s390x; not MIPS, SPARC or Alpha, whose numbers differ).
    pub const fn from_linux_errno(errno: i32) -> Option<WinError> {
        let wsa = match errno {
            4 => Self::WSAEINTR,               // EINTR
            13 => Self::WSAEACCES,             // EACCES
            22 => Self::WSAEINVAL,             // EINVAL
            11 => Self::WSAEWOULDBLOCK,        // EAGAIN / EWOULDBLOCK
            115 => Self::WSAEINPROGRESS,       // EINPROGRESS
            114 => Self::WSAEALREADY,          // EALREADY
            88 => Self::WSAENOTSOCK,           // ENOTSOCK
            90 => Self::WSAEMSGSIZE,           // EMSGSIZE
            97 => Self::WSAEAFNOSUPPORT,       // EAFNOSUPPORT
            98 => Self::WSAEADDRINUSE,         // EADDRINUSE
            99 => Self::WSAEADDRNOTAVAIL,      // EADDRNOTAVAIL
            100 => Self::WSAENETDOWN,          // ENETDOWN
            101 => Self::WSAENETUNREACH,       // ENETUNREACH
            102 => Self::WSAENETRESET,         // ENETRESET
            103 | 32 => Self::WSAECONNABORTED, // ECONNABORTED, EPIPE (see below)
            104 => Self::WSAECONNRESET,        // ECONNRESET
            105 => Self::WSAENOBUFS,           // ENOBUFS
            106 => Self::WSAEISCONN,           // EISCONN
            107 => Self::WSAENOTCONN,          // ENOTCONN
            108 => Self::WSAESHUTDOWN,         // ESHUTDOWN
            110 => Self::WSAETIMEDOUT,         // ETIMEDOUT
            111 => Self::WSAECONNREFUSED,      // ECONNREFUSED
            112 => Self::WSAEHOSTDOWN,         // EHOSTDOWN
            113 => Self::WSAEHOSTUNREACH,      // EHOSTUNREACH
            _ => return None,
        };
        // EPIPE: writing to a connection the stack has already given up. Windows
        // reports that to the writer as WSAECONNABORTED ("an established
        // connection was aborted by the software in your host machine"), and
        // that is the code whose strings say "a problem connecting to the server".
        Some(wsa)
    }

    /// The Winsock error for a BSD `errno` (macOS, iOS, FreeBSD, NetBSD,
    /// OpenBSD, DragonFly). Winsock took its socket codes from BSD: for these,
    /// the Winsock code is 10000 + errno.
    pub const fn from_bsd_errno(errno: i32) -> Option<WinError> {
        match errno {
            // EINTR, EACCES, EINVAL, then EAGAIN (35) ... EHOSTUNREACH (65),
            // except those Winsock does not define (ENOTSUP-like 45, ...).
            4 | 13 | 22 | 35..=38 | 40 | 47..=58 | 60 | 61 | 64 | 65 => {
                Some(Self(10_000 + errno as u32))
            }
            // EPIPE: as on Linux.
            32 => Some(Self::WSAECONNABORTED),
            _ => None,
        }
    }

    /// The Winsock error an [`io::ErrorKind`] stands for, for errors without a
    /// raw OS code (or on systems whose errno numbers are not mapped).
    pub fn from_io_error_kind(kind: io::ErrorKind) -> Option<WinError> {
        use io::ErrorKind as K;
        Some(match kind {
            K::ConnectionAborted | K::BrokenPipe => Self::WSAECONNABORTED,
            K::ConnectionReset => Self::WSAECONNRESET,
            K::TimedOut => Self::WSAETIMEDOUT,
            K::ConnectionRefused => Self::WSAECONNREFUSED,
            K::HostUnreachable => Self::WSAEHOSTUNREACH,
            K::NetworkUnreachable => Self::WSAENETUNREACH,
            K::NetworkDown => Self::WSAENETDOWN,
            K::AddrInUse => Self::WSAEADDRINUSE,
            K::AddrNotAvailable => Self::WSAEADDRNOTAVAIL,
            K::NotConnected => Self::WSAENOTCONN,
            K::WouldBlock => Self::WSAEWOULDBLOCK,
            K::Interrupted => Self::WSAEINTR,
            K::PermissionDenied => Self::WSAEACCES,
            K::InvalidInput => Self::WSAEINVAL,
            _ => return None,
        })
    }
}

/// The raw OS error of this platform, read as the platform defines it.
#[cfg(windows)]
fn from_native_os_error(raw: i32) -> Option<WinError> {
    u32::try_from(raw).ok().map(WinError)
}

#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(any(
        target_arch = "mips",
        target_arch = "mips64",
        target_arch = "mips32r6",
        target_arch = "mips64r6",
        target_arch = "sparc",
        target_arch = "sparc64"
    ))
))]
fn from_native_os_error(raw: i32) -> Option<WinError> {
    WinError::from_linux_errno(raw)
}

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "visionos",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
fn from_native_os_error(raw: i32) -> Option<WinError> {
    WinError::from_bsd_errno(raw)
}

/// Elsewhere the errno numbering is not known here: the `ErrorKind` decides.
#[cfg(not(any(
    windows,
    all(
        any(target_os = "linux", target_os = "android"),
        not(any(
            target_arch = "mips",
            target_arch = "mips64",
            target_arch = "mips32r6",
            target_arch = "mips64r6",
            target_arch = "sparc",
            target_arch = "sparc64"
        ))
    ),
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "visionos",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
fn from_native_os_error(_raw: i32) -> Option<WinError> {
    None
}

/// Which API a Windows code belongs to, by its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WinErrorFamily {
    /// Windows Sockets, 10000–11999 (`WSAE…`, `WSAHOST_NOT_FOUND`, …).
    Winsock,
    /// WinInet, 12000–12999 (`ERROR_INTERNET_…`, `ERROR_HTTP_…`).
    WinInet,
    /// Any other Win32 code.
    Win32,
}

impl WinErrorFamily {
    /// `Winsock`, `WinInet` or `Win32`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Winsock => "Winsock",
            Self::WinInet => "WinInet",
            Self::Win32 => "Win32",
        }
    }
}

/// `FACILITY_WIN32` HRESULTs: severity bit set, facility 7.
const HRESULT_WIN32_PREFIX: u32 = 0x8007_0000;

impl WinError {
    /// The API the code belongs to, by range.
    pub const fn family(self) -> WinErrorFamily {
        match self.0 {
            10_000..=11_999 => WinErrorFamily::Winsock,
            12_000..=12_999 => WinErrorFamily::WinInet,
            _ => WinErrorFamily::Win32,
        }
    }

    /// The code as an HRESULT (`HRESULT_FROM_WIN32`: `0x8007xxxx`); `None` for
    /// a value that does not fit in 16 bits, which is no Win32 code.
    pub const fn to_hresult(self) -> Option<u32> {
        if self.0 <= 0xFFFF {
            Some(HRESULT_WIN32_PREFIX | self.0)
        } else {
            None
        }
    }

    /// The Win32 code inside a `FACILITY_WIN32` HRESULT (`0x80072EE2` →
    /// 12002); `None` for any other HRESULT.
    pub const fn from_hresult(hresult: u32) -> Option<WinError> {
        if hresult & 0xFFFF_0000 == HRESULT_WIN32_PREFIX {
            Some(WinError(hresult & 0xFFFF))
        } else {
            None
        }
    }

    /// Reads a code as people write it: decimal (`10060`), hexadecimal
    /// (`0x274C`), a catalogued name (`WSAETIMEDOUT`, any case) or a
    /// `FACILITY_WIN32` HRESULT (`0x8007274C`, also in decimal or negative
    /// decimal as a signed 32-bit value prints it).
    pub fn parse(text: &str) -> Option<WinError> {
        let text = text.trim();
        let number = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => text
                .parse::<u32>()
                .ok()
                .or_else(|| text.parse::<i32>().ok().map(|n| n as u32)),
        };
        match number {
            Some(n) if n > 0xFFFF => Self::from_hresult(n),
            Some(n) => Some(WinError(n)),
            None => catalogue()
                .iter()
                .find(|e| e.name.eq_ignore_ascii_case(text))
                .map(|e| e.code),
        }
    }
}

impl From<WinError> for u32 {
    fn from(value: WinError) -> Self {
        value.0
    }
}

impl fmt::Display for WinError {
    /// `10053 (WSAECONNABORTED)`, or the bare number when not catalogued.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// One row of `sdk/data/windows-errors.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WinErrorInfo {
    /// The code.
    pub code: WinError,
    /// The symbolic name, e.g. `WSAECONNABORTED`.
    pub name: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// Where it is documented: Windows' headers, or a seed text.
    pub source: &'static str,
    /// The line in that seed text, if the source is one.
    pub source_line: Option<u32>,
}

/// Every catalogued Windows error, in code order.
pub fn windows_errors() -> &'static [WinErrorInfo] {
    catalogue()
}

fn catalogue() -> &'static [WinErrorInfo] {
    static TABLE: OnceLock<Vec<WinErrorInfo>> = OnceLock::new();
    // The data is ours and a test proves it parses; should it ever not, the
    // catalogue is empty (names unknown) rather than the program aborted.
    TABLE.get_or_init(|| parse_catalogue(WINDOWS_ERRORS_TSV).unwrap_or_default())
}

/// Parses the catalogue; `Err` names the first bad line.
pub(crate) fn parse_catalogue(text: &'static str) -> Result<Vec<WinErrorInfo>, String> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, TSV_HEADER)) => {}
        other => {
            return Err(format!(
                "line 1: header must be `{TSV_HEADER}`, found {other:?}"
            ))
        }
    }
    let mut rows: Vec<WinErrorInfo> = Vec::new();
    for (i, line) in lines {
        let at = |what: &str| format!("line {}: {what}", i + 1);
        let cells: Vec<&'static str> = line.split('\t').collect();
        let [code, hex, name, meaning, source, source_line] = cells[..] else {
            return Err(at("expected 6 TAB-separated cells"));
        };
        let code: u32 = code.parse().map_err(|_| at("code is not a decimal u32"))?;
        if hex != format!("0x{code:X}") {
            return Err(at("hex does not match code"));
        }
        if name.is_empty() || meaning.is_empty() || source.is_empty() {
            return Err(at("empty name, meaning or source"));
        }
        let source_line = match source_line {
            "" => None,
            n => Some(n.parse().map_err(|_| at("source_line is not a number"))?),
        };
        if rows.last().is_some_and(|prev| prev.code.0 >= code) {
            return Err(at("codes must be strictly increasing"));
        }
        rows.push(WinErrorInfo {
            code: WinError(code),
            name,
            meaning,
            source,
            source_line,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_parses_and_holds_every_named_constant() {
        let rows = parse_catalogue(WINDOWS_ERRORS_TSV).unwrap();
        for known in WinError::KNOWN {
            assert!(rows.iter().any(|r| r.code == *known), "{known:?}");
        }
        assert_eq!(windows_errors().len(), rows.len());
        // The WinInet range beyond seed 000's seven codes (issue 12 item 2).
        assert_eq!(
            WinError(12175).name(),
            Some("ERROR_INTERNET_DECODING_FAILED")
        );
        assert_eq!(WinError(12038).family(), WinErrorFamily::WinInet);
    }

    #[test]
    fn named_constants_carry_their_catalogue_names() {
        for (known, name) in WinError::KNOWN.iter().zip(KNOWN_NAMES) {
            assert_eq!(known.name(), Some(*name));
        }
        assert_eq!(WinError::WSAECONNABORTED.name(), Some("WSAECONNABORTED"));
        assert_eq!(
            WinError::WSAHOST_NOT_FOUND.name(),
            Some("WSAHOST_NOT_FOUND")
        );
        assert_eq!(
            WinError::ERROR_INTERNET_CONNECTION_RESET.name(),
            Some("ERROR_INTERNET_CONNECTION_RESET")
        );
        assert_eq!(WinError(10053).to_string(), "10053 (WSAECONNABORTED)");
        assert_eq!(WinError(4242).to_string(), "4242");
        assert_eq!(WinError(4242).info(), None);
    }

    #[test]
    fn codes_parse_as_people_write_them() {
        assert_eq!(WinError::parse("10060"), Some(WinError::WSAETIMEDOUT));
        assert_eq!(WinError::parse("0x274C"), Some(WinError::WSAETIMEDOUT));
        assert_eq!(
            WinError::parse("wsaetimedout"),
            Some(WinError::WSAETIMEDOUT)
        );
        assert_eq!(WinError::parse("0x8007274C"), Some(WinError::WSAETIMEDOUT));
        assert_eq!(
            WinError::parse("0x80072EE2"),
            Some(WinError::ERROR_INTERNET_TIMEOUT)
        );
        // -2147012894 is 0x80072EE2 printed as a signed HRESULT.
        assert_eq!(
            WinError::parse("-2147012894"),
            Some(WinError::ERROR_INTERNET_TIMEOUT)
        );
        assert_eq!(WinError::parse("0x80040154"), None, "not FACILITY_WIN32");
        assert_eq!(WinError::parse("nope"), None);
        assert_eq!(WinError(12029).to_hresult(), Some(0x8007_2EFD));
        assert_eq!(WinError::WSAETIMEDOUT.family(), WinErrorFamily::Winsock);
        assert_eq!(WinError(5).family(), WinErrorFamily::Win32);
    }

    #[test]
    fn bad_catalogue_lines_are_reported() {
        assert!(parse_catalogue("code\n").is_err());
        let h = "code\thex\tname\tmeaning\tsource\tsource_line\n";
        let cases: [&'static str; 4] = [
            "code\thex\tname\tmeaning\tsource\tsource_line\n1\t0x2\tX\tm\ts\t\n",
            "code\thex\tname\tmeaning\tsource\tsource_line\n1\t0x1\tX\tm\n",
            "code\thex\tname\tmeaning\tsource\tsource_line\n2\t0x2\tX\tm\ts\t\n1\t0x1\tY\tm\ts\t\n",
            "code\thex\tname\tmeaning\tsource\tsource_line\n1\t0x1\tX\tm\ts\tten\n",
        ];
        for case in cases {
            assert!(case.starts_with(h));
            assert!(parse_catalogue(case).is_err(), "{case:?}");
        }
    }

    #[test]
    fn linux_errnos_map_to_winsock() {
        assert_eq!(
            WinError::from_linux_errno(103),
            Some(WinError::WSAECONNABORTED)
        );
        assert_eq!(
            WinError::from_linux_errno(104),
            Some(WinError::WSAECONNRESET)
        );
        assert_eq!(
            WinError::from_linux_errno(110),
            Some(WinError::WSAETIMEDOUT)
        );
        assert_eq!(
            WinError::from_linux_errno(111),
            Some(WinError::WSAECONNREFUSED)
        );
        assert_eq!(
            WinError::from_linux_errno(113),
            Some(WinError::WSAEHOSTUNREACH)
        );
        assert_eq!(
            WinError::from_linux_errno(32),
            Some(WinError::WSAECONNABORTED)
        );
        assert_eq!(WinError::from_linux_errno(2), None); // ENOENT
    }

    #[test]
    fn bsd_errnos_are_winsock_minus_10000() {
        assert_eq!(
            WinError::from_bsd_errno(53),
            Some(WinError::WSAECONNABORTED)
        );
        assert_eq!(WinError::from_bsd_errno(54), Some(WinError::WSAECONNRESET));
        assert_eq!(WinError::from_bsd_errno(60), Some(WinError::WSAETIMEDOUT));
        assert_eq!(
            WinError::from_bsd_errno(61),
            Some(WinError::WSAECONNREFUSED)
        );
        assert_eq!(
            WinError::from_bsd_errno(65),
            Some(WinError::WSAEHOSTUNREACH)
        );
        assert_eq!(
            WinError::from_bsd_errno(32),
            Some(WinError::WSAECONNABORTED)
        );
        assert_eq!(WinError::from_bsd_errno(2), None);
        assert_eq!(WinError::from_bsd_errno(59), None); // ETOOMANYREFS: no Winsock use
                                                        // Every mapped BSD errno lands on a catalogued code.
        for errno in 0..200 {
            if let Some(w) = WinError::from_bsd_errno(errno) {
                assert!(
                    w.info().is_some(),
                    "BSD errno {errno} -> {w:?} not catalogued"
                );
            }
            if let Some(w) = WinError::from_linux_errno(errno) {
                assert!(
                    w.info().is_some(),
                    "Linux errno {errno} -> {w:?} not catalogued"
                );
            }
        }
    }

    #[test]
    fn io_errors_map_by_raw_code_then_kind() {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let aborted = io::Error::from_raw_os_error(103);
            assert_eq!(
                WinError::from_io_error(&aborted),
                Some(WinError::WSAECONNABORTED)
            );
            // A raw errno with no socket meaning falls to its kind.
            let not_found = io::Error::from_raw_os_error(2);
            assert_eq!(WinError::from_io_error(&not_found), None);
        }
        #[cfg(target_os = "macos")]
        {
            let aborted = io::Error::from_raw_os_error(53);
            assert_eq!(
                WinError::from_io_error(&aborted),
                Some(WinError::WSAECONNABORTED)
            );
        }
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "peer went away");
        assert_eq!(
            WinError::from_io_error(&reset),
            Some(WinError::WSAECONNRESET)
        );
        let pipe = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(
            WinError::from_io_error(&pipe),
            Some(WinError::WSAECONNABORTED)
        );
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert_eq!(WinError::from_io_error(&eof), None);
    }

    #[test]
    fn the_kind_and_the_errno_agree() {
        // Where std derives a kind from an errno, both routes give one code.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        for errno in 0..200 {
            let e = io::Error::from_raw_os_error(errno);
            if let (Some(by_errno), Some(by_kind)) = (
                WinError::from_linux_errno(errno),
                WinError::from_io_error_kind(e.kind()),
            ) {
                assert_eq!(by_errno, by_kind, "errno {errno} ({:?})", e.kind());
            }
        }
    }
}
