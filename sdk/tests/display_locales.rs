//! Locales other than en-US: negotiation, per-message fallback, and the
//! checks a host-supplied file must pass. Uses the partial test locales in
//! `tests/fixtures/locales/` (see its README).

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::time::Instant;

use ocer::diag::{Collector, CollectorLimits, TransactionRecord};
use ocer::display::{
    Action, Cause, Context, Isolation, LanguageIdentifier, LocaleChain, LocaleError, LocaleSource,
    Localizer, MessageKey, Mode, Placeholders, StringSet,
};
use ocer::sip::{FramingLimits, RequestIdentity, SipMessage, StatusCode, WarnCode};

const DE_LYNC: &str = include_str!("fixtures/locales/de/lync2010.ftl");
const DE_OC: &str = include_str!("fixtures/locales/de/communicator2007.ftl");
const FR_LYNC: &str = include_str!("fixtures/locales/fr/lync2010.ftl");

fn langid(s: &str) -> LanguageIdentifier {
    s.parse().unwrap()
}

fn source(locale: &str, set: StringSet, ftl: &str) -> LocaleSource {
    LocaleSource {
        locale: langid(locale),
        set,
        ftl: ftl.to_owned(),
    }
}

fn localizer() -> Localizer {
    Localizer::new(Isolation::Off)
        .with_locales([
            source("de", StringSet::Lync2010, DE_LYNC),
            source("de", StringSet::Communicator2007, DE_OC),
            source("fr", StringSet::Lync2010, FR_LYNC),
        ])
        .unwrap()
}

fn chain_of(l: &Localizer, chain: &LocaleChain) -> Vec<String> {
    l.chain_locales(chain).map(ToString::to_string).collect()
}

const BOB: Placeholders<'static> = Placeholders {
    user: "Bob",
    client: "Lync",
    feature: "",
};

fn sip(set: StringSet, code: u16, action: Action) -> MessageKey {
    MessageKey::handled(set, Cause::SipStatus(StatusCode(code)), Mode::Voice, action)
}

#[test]
fn negotiation_orders_the_available_locales_and_ends_with_en_us() {
    let l = localizer();
    assert_eq!(
        l.locales()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["en-US", "de", "fr"]
    );
    let cases: &[(&[&str], &[&str])] = &[
        (&["de-AT"], &["de", "en-US"]),
        (&["fr-CA", "de"], &["fr", "de", "en-US"]),
        (&["ja-JP"], &["en-US"]),
        (&[], &["en-US"]),
        (&["en-GB", "de"], &["en-US", "de"]),
    ];
    for (requested, want) in cases {
        let requested: Vec<_> = requested.iter().map(|s| langid(s)).collect();
        assert_eq!(
            chain_of(&l, &l.negotiate(&requested)),
            *want,
            "{requested:?}"
        );
    }
    let chain = l.negotiate_accept_language("de-CH, fr;q=0.8, *;q=0.1");
    assert_eq!(chain_of(&l, &chain), ["de", "fr", "en-US"]);
}

#[test]
fn each_message_comes_from_the_first_locale_that_has_it() {
    let l = localizer();
    let chain = l.negotiate(&[langid("fr"), langid("de")]);
    let render = |key: MessageKey| l.render(&chain, &key, "0", &BOB).unwrap();

    // fr has it.
    let r = render(sip(StringSet::Lync2010, 486, Action::Call));
    assert_eq!(
        (r.message.as_deref(), r.locale.to_string().as_str()),
        (Some("Bob est déjà en communication."), "fr")
    );
    // fr lacks it, de has it.
    let r = render(sip(StringSet::Lync2010, 504, Action::Call));
    assert_eq!(
        r.message.as_deref(),
        Some("Der Vorgang war nicht erfolgreich.")
    );
    assert_eq!(r.locale.to_string(), "de");
    assert!(r
        .info
        .unwrap()
        .starts_with("Der Anrufdienst hat nicht geantwortet."));
    // Neither has it: en-US.
    let r = render(sip(StringSet::Lync2010, 480, Action::Call));
    assert_eq!(
        r.message.as_deref(),
        Some("Bob is unavailable or may be offline.")
    );
    assert_eq!(r.locale.to_string(), "en-US");
    // fr has no Communicator file at all: de.
    let r = render(sip(StringSet::Communicator2007, 486, Action::Call));
    assert_eq!(r.message.as_deref(), Some("Bob ist beschäftigt."));
    assert_eq!(
        r.info.as_deref(),
        Some("Bob führt gerade ein anderes Gespräch.")
    );
    // de's term and $errorId in the generic string.
    let r = l
        .render(
            &chain,
            &MessageKey::generic(StringSet::Lync2010, Mode::Voice, Action::Call),
            "12006",
            &BOB,
        )
        .unwrap();
    assert_eq!(r.locale.to_string(), "de");
    assert_eq!(
        r.info.as_deref(),
        Some(
            "Geben Sie bei Kontakt mit Ihrem Supportteam die Fehlerkennung 12006 (Quell-ID 243) an. \
             Informationen zur Problembehandlung, auch zur optimalen Verwendung von Lync, finden Sie online."
        )
    );
}

#[test]
fn the_most_specific_string_is_chosen_against_en_us_then_translated() {
    // de translates the generic voice string but not the Warning 391 one: a
    // German user still gets the specific (English) string, not the vague
    // German one.
    let l = localizer();
    let chain = l.negotiate(&[langid("de")]);
    let r = record("499 Odd", &["Warning: 391 lync.contoso.com \"DND\""]);
    let context = Context::new(StringSet::Lync2010, Mode::Voice, Action::Call);
    let e = l.display(&chain, &r, None, context, &BOB).unwrap();
    assert_eq!(e.message_id.to_string(), "lync2010-warning-391-voice-call");
    assert_eq!(e.cause, Cause::Warning(WarnCode(391)));
    assert_eq!(e.message.as_deref(), Some("Bob is set to Do Not Disturb."));
    assert_eq!(e.locale.to_string(), "en-US");
    // With fr first, the same message is French.
    let e = l
        .display(&l.negotiate(&[langid("fr")]), &r, None, context, &BOB)
        .unwrap();
    assert_eq!(
        e.message.as_deref(),
        Some("Bob est en mode Ne pas déranger.")
    );
    assert_eq!(e.locale.to_string(), "fr");
    // And a code nobody handles gets de's generic string.
    let e = l
        .display(&chain, &record("499 Odd", &[]), None, context, &BOB)
        .unwrap();
    assert_eq!(
        e.message.as_deref(),
        Some("Der Anruf wurde nicht abgeschlossen oder wurde beendet.")
    );
    assert_eq!(e.locale.to_string(), "de");
}

fn record(status_line: &str, extra: &[&str]) -> TransactionRecord {
    let limits = FramingLimits::default();
    let invite = SipMessage::parse(
        b"INVITE sip:bob@contoso.com SIP/2.0\r\nFrom: <sip:a@contoso.com>;tag=1\r\nTo: <sip:bob@contoso.com>\r\n\
          Call-ID: loc\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        &limits,
    )
    .unwrap();
    let mut text = format!(
        "SIP/2.0 {status_line}\r\nFrom: <sip:a@contoso.com>;tag=1\r\nTo: <sip:bob@contoso.com>;tag=2\r\n\
         Call-ID: loc\r\nCSeq: 1 INVITE\r\n"
    );
    for line in extra {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    let now = Instant::now();
    let mut c = Collector::new(
        RequestIdentity::from_request(&invite).unwrap(),
        now,
        CollectorLimits::default(),
    );
    c.observe_response(&SipMessage::parse(text.as_bytes(), &limits).unwrap(), now)
        .unwrap();
    c.finish()
}

fn problems(result: Result<(), LocaleError>) -> Vec<String> {
    match result {
        Err(LocaleError::Invalid { problems, .. }) => problems,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn a_locale_file_is_checked_against_en_us() {
    let mut l = Localizer::new(Isolation::Off);
    let add = |l: &mut Localizer, ftl: &str| l.add_locale(source("nl", StringSet::Lync2010, ftl));

    let p = problems(add(
        &mut l,
        "lync2010-sip-486-voice-call = { $user } is in gesprek\n  .x = y\nbroken line\n",
    ));
    assert!(p.iter().any(|p| p.starts_with("syntax error")), "{p:?}");

    let p = problems(add(
        &mut l,
        "lync2010-sip-999-voice-call = Nee.\noc2007-sip-486-voice-call = Bezet.\n",
    ));
    assert_eq!(
        p,
        [
            "`lync2010-sip-999-voice-call` is not an en-US message of lync2010.ftl",
            "`oc2007-sip-486-voice-call` is not an en-US message of lync2010.ftl",
        ]
    );

    let p = problems(add(
        &mut l,
        "lync2010-sip-486-voice-call = Bezet.\n    .info = Extra.\n",
    ));
    assert_eq!(p, ["`lync2010-sip-486-voice-call` must have a value and no .info like en-US, and no other attribute"]);

    let p = problems(add(
        &mut l,
        "lync2010-sip-486-voice-call = { $gebruiker } is in gesprek.\n",
    ));
    assert_eq!(p.len(), 1);
    assert!(
        p[0].starts_with("`lync2010-sip-486-voice-call` does not format"),
        "{p:?}"
    );

    let p = problems(add(
        &mut l,
        "lync2010-generic-other-any = Fout.\n    .info = Zie { -product-name }.\n",
    ));
    assert!(
        p[0].starts_with("`lync2010-generic-other-any` does not format"),
        "{p:?}"
    );

    let p = problems(add(
        &mut l,
        "lync2010-sip-486-voice-call = A\nlync2010-sip-486-voice-call = B\n",
    ));
    assert!(
        p.iter().any(|p| p.contains("lync2010-sip-486-voice-call")),
        "{p:?}"
    );

    // None of the refused files was kept.
    assert_eq!(l.locales().len(), 1);

    add(
        &mut l,
        "lync2010-sip-486-voice-call = { $user } is in gesprek.\n",
    )
    .unwrap();
    assert_eq!(
        l.add_locale(source("nl", StringSet::Lync2010, "")),
        Err(LocaleError::Duplicate {
            locale: "nl".into(),
            set: StringSet::Lync2010
        })
    );
    assert!(matches!(
        l.add_locale(source("en-US", StringSet::Communicator2007, "")),
        Err(LocaleError::ReferenceLocale { .. })
    ));
    let chain = l.negotiate(&[langid("nl")]);
    let r = l
        .render(
            &chain,
            &sip(StringSet::Lync2010, 486, Action::Call),
            "486",
            &BOB,
        )
        .unwrap();
    assert_eq!(r.message.as_deref(), Some("Bob is in gesprek."));
}

#[test]
fn an_info_only_message_must_stay_info_only() {
    let mut l = Localizer::new(Isolation::Off);
    let ftl = "oc2007-sip-486-voice-transfer = Overdracht mislukt.\n";
    let p = problems(l.add_locale(source("nl", StringSet::Communicator2007, ftl)));
    assert_eq!(p, ["`oc2007-sip-486-voice-transfer` must have no value and an .info like en-US, and no other attribute"]);
    let ftl = "oc2007-sip-486-voice-transfer =\n    .info = Niet doorverbonden: { $user } is in gesprek.\n";
    l.add_locale(source("nl", StringSet::Communicator2007, ftl))
        .unwrap();
}

#[cfg(feature = "ua")]
mod directory {
    use super::*;
    use ocer::ua::locales::{localizer_from_dir, read_locale_dir, LocaleDirError};
    use std::path::Path;

    fn fixtures() -> &'static Path {
        Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/locales"
        ))
    }

    #[test]
    fn a_directory_of_locales_loads() {
        let sources = read_locale_dir(fixtures()).unwrap();
        let found: Vec<(String, StringSet)> = sources
            .iter()
            .map(|s| (s.locale.to_string(), s.set))
            .collect();
        assert_eq!(
            found,
            [
                ("de".into(), StringSet::Lync2010),
                ("de".into(), StringSet::Communicator2007),
                ("fr".into(), StringSet::Lync2010),
            ]
        );
        assert_eq!(sources[2].ftl, FR_LYNC);
        let l = localizer_from_dir(fixtures(), Isolation::Off).unwrap();
        let chain = l.negotiate(&[langid("de")]);
        let r = l
            .render(
                &chain,
                &sip(StringSet::Lync2010, 486, Action::Call),
                "486",
                &BOB,
            )
            .unwrap();
        assert_eq!(r.locale.to_string(), "de");
    }

    #[test]
    fn the_repositorys_own_locales_directory_skips_en_us() {
        // en-US is built in; what is left is the en-XA pseudo-locale, and it
        // loads against en-US without a problem.
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../locales"));
        let sources = read_locale_dir(dir).unwrap();
        let found: Vec<(String, StringSet)> = sources
            .iter()
            .map(|s| (s.locale.to_string(), s.set))
            .collect();
        assert_eq!(
            found,
            [
                ("en-XA".to_owned(), StringSet::Lync2010),
                ("en-XA".to_owned(), StringSet::Communicator2007)
            ]
        );
        assert!(Localizer::new(Isolation::Off).with_locales(sources).is_ok());
    }

    #[test]
    fn bad_directories_are_reported() {
        let missing = fixtures().join("no-such-dir");
        assert!(matches!(
            read_locale_dir(&missing),
            Err(LocaleDirError::Io { .. })
        ));

        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        std::fs::create_dir_all(root.join("not a tag")).unwrap();
        let result = read_locale_dir(root);
        assert!(
            matches!(result, Err(LocaleDirError::NotALocale { .. })),
            "{result:?}"
        );

        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        std::fs::create_dir_all(root.join("nl")).unwrap();
        std::fs::write(
            root.join("nl/lync2010.ftl"),
            "lync2010-nope-voice-call = x\n",
        )
        .unwrap();
        let result = localizer_from_dir(root, Isolation::Off);
        assert!(
            matches!(
                result,
                Err(LocaleDirError::Locale(LocaleError::Invalid { .. }))
            ),
            "{result:?}"
        );
    }
}
