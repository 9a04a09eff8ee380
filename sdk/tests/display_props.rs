//! Property tests: the display module never panics on any input, and ids
//! round-trip.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::io;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use ocer::diag::{Collector, CollectorLimits, ErrorId};
use ocer::display::{
    Action, Cause, Context, Isolation, LocaleSource, Localizer, MessageKey, Mode, Placeholders,
    StringIndex, StringSet, WinError,
};
use ocer::sip::{FramingLimits, RequestIdentity, SipMessage, StatusCode, WarnCode};

fn cause() -> impl Strategy<Value = Option<Cause>> {
    prop_oneof![
        Just(None),
        any::<u32>().prop_map(|c| Some(Cause::MsDiagnostic(ErrorId(c)))),
        any::<u16>().prop_map(|c| Some(Cause::SipStatus(StatusCode(c)))),
        any::<u16>().prop_map(|c| Some(Cause::Warning(WarnCode(c)))),
        any::<u32>().prop_map(|c| Some(Cause::Windows(WinError(c)))),
    ]
}

fn key() -> impl Strategy<Value = MessageKey> {
    (
        prop::sample::select(StringSet::ALL.to_vec()),
        cause(),
        prop::sample::select(Mode::ALL.to_vec()),
        prop::sample::select(Action::ALL.to_vec()),
    )
        .prop_map(|(set, cause, mode, action)| MessageKey {
            set,
            cause,
            mode,
            action,
        })
}

proptest! {
    #[test]
    fn every_key_round_trips_through_its_id(key in key()) {
        prop_assert_eq!(MessageKey::parse(&key.id()), Some(key));
    }

    #[test]
    fn parsing_any_text_never_panics_and_only_accepts_canonical_ids(id in "[a-z0-9-]{0,60}|\\PC{0,60}") {
        if let Some(key) = MessageKey::parse(&id) {
            prop_assert_eq!(key.id(), id);
        }
    }

    #[test]
    fn any_errno_and_kind_maps_without_panicking(errno in any::<i32>()) {
        let mapped = WinError::from_io_error(&io::Error::from_raw_os_error(errno));
        if let Some(w) = mapped {
            prop_assert!(w.info().is_some(), "{w:?} is catalogued");
        }
        let _ = WinError::from_linux_errno(errno);
        let _ = WinError::from_bsd_errno(errno);
    }

    #[test]
    fn any_ftl_text_is_accepted_or_refused_without_panicking(ftl in "\\PC{0,200}") {
        let mut l = Localizer::new(Isolation::Off);
        let _ = l.add_locale(LocaleSource { locale: "nl".parse().unwrap(), set: StringSet::Lync2010, ftl });
    }

    #[test]
    fn any_transaction_resolves_to_an_en_us_message_or_nothing(
        status in 100u16..700,
        diags in prop::collection::vec((any::<bool>(), 0u32..40_000), 0..4),
        warning in prop::option::of(300u16..400),
        windows in prop::option::of(10_000u32..12_100),
        set in prop::sample::select(StringSet::ALL.to_vec()),
        mode in prop::sample::select(Mode::ALL.to_vec()),
        action in prop::sample::select(Action::ALL.to_vec()),
    ) {
        let limits = FramingLimits::default();
        let invite = SipMessage::parse(
            b"INVITE sip:b@x SIP/2.0\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: p\r\nCSeq: 1 INVITE\r\n\r\n",
            &limits,
        ).unwrap();
        let start = Instant::now();
        let mut c = Collector::new(RequestIdentity::from_request(&invite).unwrap(), start, CollectorLimits::default());
        let mut text = format!("SIP/2.0 {status} X\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: p\r\nCSeq: 1 INVITE\r\n");
        for (public, id) in &diags {
            let name = if *public { "ms-diagnostics-public" } else { "ms-diagnostics" };
            text.push_str(&format!("{name}: {id};reason=\"r\"\r\n"));
        }
        if let Some(w) = warning {
            text.push_str(&format!("Warning: {w} host \"t\"\r\n"));
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        c.observe_response(&SipMessage::parse(text.as_bytes(), &limits).unwrap(), start + Duration::from_millis(1)).unwrap();
        if status < 200 {
            // A 1xx is not final: the transaction then timed out.
            c.observe_timeout();
        }
        let record = c.finish();

        let l = Localizer::new(Isolation::Off);
        let shown = l.display(&l.negotiate(&[]), &record, windows.map(WinError), Context::new(set, mode, action), &Placeholders::SPEC);
        let success = (200..300).contains(&status);
        // A timed-out record is a failure (408 or its progress reports).
        match shown {
            None => prop_assert!(success && windows.is_none()),
            Some(e) => {
                prop_assert!(!success || windows.is_some());
                prop_assert!(StringIndex::en_us().contains(&e.message_id));
                prop_assert!(e.message.is_some() || e.info.is_some());
                prop_assert_eq!(e.message_id.set, set);
            }
        }
    }
}
