//! The command line, and the commands the softphone understands both as a
//! one-shot argument list and as interactive lines.
//!
//! Hand-rolled: a dozen options do not need a parser crate, and the errors
//! can name the spec's ids (`voice`, `call`, `lync2010`) exactly.

use std::path::PathBuf;
use std::time::Duration;

use ocer::display::{Action, LanguageIdentifier, Mode, StringSet};
use ocer::ua::transport::TransportKind;
use ocer::ua::AuthMode;

/// `--help`.
pub(crate) const USAGE: &str = "\
usage: softphone                       the demo: an embedded server on loopback, MS-OCER §4.1
       softphone --demo [--transport tcp|udp] [--set SET] [--locale TAG]...
       softphone [--server HOST:PORT --transport udp|tcp|tls] --user sip:USER@DOMAIN
                 [--password SECRET] [--auth-user NAME] [--auth ntlm|digest]
                 [--tls-ca FILE] [--tls-name NAME]
                 [--set SET] [--locale TAG]... [--no-report] [--json] [COMMAND]
       any of them with --trace: every SIP message sent and received on stderr

With --server and no COMMAND, commands are read from stdin, one per line.
A COMMAND on the command line runs once (after registering) and sets the
exit code: 0 when it succeeded, 1 when it failed.

commands:
  register                              register (digest with --password)
  call URI [--mode MODE] [--action ACTION] [--hold SECONDS]
                                        an INVITE; once established, hang up after
                                        --hold seconds (default 0)
  im URI TEXT...                        an instant message (MESSAGE)
  join URI [--hold SECONDS]             join a meeting: INVITE to a conference URI
  share URI [--hold SECONDS]            start sharing: INVITE in sharing mode
  hangup                                (interactive) end the established call
  quit                                  (interactive) unregister and exit

options:
  --server HOST:PORT     the registrar / proxy (a Lync or Skype for Business pool);
                         without it the pool is found by DNS from the AOR's domain
                         (_sipinternaltls._tcp, _sipinternal._tcp, _sip._tls SRV,
                         then sipinternal. / sip. hosts)
  --transport T          udp, tcp or tls (with --server)
  --user AOR             your address of record, sip:alice@contoso.com
  --password SECRET      password (else the OCER_PASSWORD environment variable);
                         --auth-user NAME if the user name is not the AOR's user
                         part (DOMAIN\\user for NTLM)
  --auth ntlm|digest     force one scheme (default: what the server offers, NTLM
                         preferred)
  --tls-ca FILE          PEM file of the CA certificates to trust (default: the
                         system's roots); --tls-name NAME: the certificate name
                         to expect (default: HOST)
  --set SET              whose error strings: lync2010 (default) or communicator2007
  --locale TAG           preferred language, repeatable (default en-US)
  --no-report            do not send reportError documents (MS-OCER SERVICE)
  --json                 machine-readable events, one JSON object per line
  --trace                the SIP trace on stderr (tracing target ocer::wire):
                         every message sent and received, credentials masked
  MODE                   im, voice (default), conference, sharing, application-sharing, other
  ACTION                 send-message, call, join, share, ... (locales/README.md);
                         default: the mode's primary action

Bad arguments: a message on stderr and exit code 2.";

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Invocation {
    /// `--help` / `-h`.
    Help,
    /// No arguments, or `--demo`.
    Demo(DemoArgs),
    /// `--server …`.
    Server(ServerArgs),
}

/// The demo's options.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DemoArgs {
    /// TCP or UDP to the embedded server.
    pub(crate) transport: TransportKind,
    /// Whose strings.
    pub(crate) set: StringSet,
    /// Preferred languages, best first.
    pub(crate) locales: Vec<LanguageIdentifier>,
}

impl Default for DemoArgs {
    fn default() -> Self {
        DemoArgs {
            transport: TransportKind::Tcp,
            set: StringSet::Lync2010,
            locales: Vec::new(),
        }
    }
}

/// Talking to a real server.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ServerArgs {
    /// `HOST:PORT`, resolved when the softphone starts; `None`: discovered
    /// by DNS from the AOR's domain.
    pub(crate) server: Option<String>,
    /// The transport (with `server`; a discovered target has its own).
    pub(crate) transport: TransportKind,
    /// Which authentication scheme.
    pub(crate) auth: AuthMode,
    /// The address of record.
    pub(crate) user: String,
    /// The digest user name (default: the AOR's user part).
    pub(crate) auth_user: Option<String>,
    /// The digest password.
    pub(crate) password: Option<String>,
    /// CA certificates to trust instead of the system's.
    pub(crate) tls_ca: Option<PathBuf>,
    /// The name the server's certificate must carry.
    pub(crate) tls_name: Option<String>,
    /// Whose strings.
    pub(crate) set: StringSet,
    /// Preferred languages, best first.
    pub(crate) locales: Vec<LanguageIdentifier>,
    /// Send reportError documents.
    pub(crate) report: bool,
    /// One JSON object per event instead of text.
    pub(crate) json: bool,
    /// One-shot; `None`: interactive.
    pub(crate) command: Option<Command>,
}

impl ServerArgs {
    /// The digest user name: `--auth-user`, or the AOR's user part.
    pub(crate) fn auth_user(&self) -> String {
        self.auth_user.clone().unwrap_or_else(|| {
            let rest = self.user.split_once(':').map_or(&*self.user, |(_, r)| r);
            rest.split_once('@').map_or(rest, |(u, _)| u).to_owned()
        })
    }

    /// The host part of `--server`: the TLS name to expect by default.
    pub(crate) fn server_host(&self) -> &str {
        let server = self.server.as_deref().unwrap_or_default();
        let host = server.rsplit_once(':').map_or(server, |(h, _)| h);
        host.trim_start_matches('[').trim_end_matches(']')
    }
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Command {
    /// REGISTER.
    Register,
    /// An INVITE in `mode` for `action`; once established, held for `hold`
    /// (one-shot) and then hung up. Join and share are calls in conference
    /// and sharing mode.
    Call {
        /// The callee, or the conference or sharing target.
        target: String,
        /// The user's mode.
        mode: Mode,
        /// The user's action.
        action: Action,
        /// How long a one-shot call stays up.
        hold: Duration,
    },
    /// A MESSAGE.
    Im {
        /// The recipient.
        target: String,
        /// The text.
        text: String,
    },
    /// BYE for the established call (interactive).
    Hangup,
    /// Leave (interactive).
    Quit,
    /// The command list (interactive).
    Help,
}

impl Command {
    /// The name the user typed, for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Register => "register",
            Command::Call {
                mode: Mode::Conference,
                ..
            } => "join",
            Command::Call {
                mode: Mode::Sharing | Mode::ApplicationSharing,
                ..
            } => "share",
            Command::Call { .. } => "call",
            Command::Im { .. } => "im",
            Command::Hangup => "hangup",
            Command::Quit => "quit",
            Command::Help => "help",
        }
    }
}

/// Takes `--trace` out of `args` (it goes with any invocation); whether it
/// was there.
pub(crate) fn take_trace(args: &mut Vec<String>) -> bool {
    let before = args.len();
    args.retain(|a| a != "--trace");
    args.len() != before
}

/// Parses the arguments after the program name.
pub(crate) fn parse(args: &[String]) -> Result<Invocation, String> {
    if args.is_empty() {
        return Ok(Invocation::Demo(DemoArgs::default()));
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Invocation::Help);
    }
    let mut demo = false;
    let mut server = None;
    let mut transport = None;
    let mut user = None;
    let mut auth_user = None;
    let mut password = None;
    let mut auth = AuthMode::Auto;
    let mut tls_ca = None;
    let mut tls_name = None;
    let mut set = None;
    let mut locales = Vec::new();
    let mut report = true;
    let mut json = false;
    let mut command_words: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .filter(|v| !v.starts_with("--"))
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--demo" => demo = true,
            "--server" => server = Some(value("--server")?),
            "--transport" => transport = Some(parse_transport(&value("--transport")?)?),
            "--user" => user = Some(parse_aor(&value("--user")?)?),
            "--auth-user" => auth_user = Some(value("--auth-user")?),
            "--password" => password = Some(value("--password")?),
            "--auth" => {
                auth = match value("--auth")?.as_str() {
                    "ntlm" => AuthMode::Ntlm,
                    "digest" => AuthMode::Digest,
                    "auto" => AuthMode::Auto,
                    other => return Err(format!("--auth takes ntlm, digest or auto, not {other}")),
                }
            }
            "--tls-ca" => tls_ca = Some(PathBuf::from(value("--tls-ca")?)),
            "--tls-name" => tls_name = Some(value("--tls-name")?),
            "--set" => set = Some(parse_set(&value("--set")?)?),
            "--locale" => {
                for tag in value("--locale")?.split(',') {
                    locales.push(parse_locale(tag)?);
                }
            }
            "--no-report" => report = false,
            "--json" => json = true,
            // The command's own options; checked by `parse_command`.
            "--mode" | "--action" | "--hold" if !command_words.is_empty() => {
                command_words.push(arg.clone());
                command_words.push(value(arg)?);
            }
            flag if flag.starts_with("--") && !command_words.is_empty() => {
                return Err(format!("unknown option {flag}"));
            }
            flag if flag.starts_with('-') && flag.len() > 1 && command_words.is_empty() => {
                return Err(format!("unknown option {flag}"));
            }
            word => command_words.push(word.to_owned()),
        }
    }
    if demo {
        if let Some(extra) = [
            server.as_ref().map(|_| "--server"),
            user.as_ref().map(|_| "--user"),
            password.as_ref().map(|_| "--password"),
            auth_user.as_ref().map(|_| "--auth-user"),
            tls_ca.as_ref().map(|_| "--tls-ca"),
            tls_name.as_ref().map(|_| "--tls-name"),
            (!report).then_some("--no-report"),
            json.then_some("--json"),
            command_words.first().map(|_| "a command"),
        ]
        .into_iter()
        .flatten()
        .next()
        {
            return Err(format!(
                "--demo takes --transport, --set and --locale, not {extra}"
            ));
        }
        let transport = match transport {
            None | Some(TransportKind::Tcp) => TransportKind::Tcp,
            Some(TransportKind::Udp) => TransportKind::Udp,
            Some(_) => return Err("the demo server speaks tcp and udp, not tls".into()),
        };
        return Ok(Invocation::Demo(DemoArgs {
            transport,
            set: set.unwrap_or(StringSet::Lync2010),
            locales,
        }));
    }
    if let Some(server) = &server {
        check_host_port(server)?;
    }
    let command = if command_words.is_empty() {
        None
    } else {
        match parse_command(&command_words)? {
            Command::Hangup | Command::Quit | Command::Help => {
                return Err(format!(
                    "{} is an interactive command; one-shot commands are register, call, im, join, share",
                    command_words.first().map_or("", String::as_str)
                ))
            }
            command => Some(command),
        }
    };
    if tls_ca.is_some() && transport != Some(TransportKind::Tls) {
        return Err("--tls-ca needs --transport tls".into());
    }
    let transport = match (&server, transport) {
        (Some(_), None) => return Err("--transport udp|tcp|tls is needed with --server".into()),
        (None, Some(_)) => {
            return Err("--transport goes with --server (a discovered pool has its own)".into())
        }
        (_, Some(t)) => t,
        (None, None) => TransportKind::Tls,
    };
    Ok(Invocation::Server(ServerArgs {
        server,
        transport,
        auth,
        user: user.ok_or("--user sip:USER@DOMAIN is needed")?,
        auth_user,
        password,
        tls_ca,
        tls_name,
        set: set.unwrap_or(StringSet::Lync2010),
        locales,
        report,
        json,
        command,
    }))
}

/// Parses one command: `words` as typed (`call sip:bob@contoso.com --mode voice`).
pub(crate) fn parse_command(words: &[String]) -> Result<Command, String> {
    let Some((name, rest)) = words.split_first() else {
        return Err("no command".into());
    };
    let mut positional = Vec::new();
    let (mut mode, mut action, mut hold) = (None, None, Duration::ZERO);
    let mut it = rest.iter();
    while let Some(word) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match word.as_str() {
            "--mode" => {
                mode = Some(
                    value("--mode")?
                        .parse::<Mode>()
                        .map_err(|e| e.to_string())?,
                )
            }
            "--action" => {
                action = Some(
                    value("--action")?
                        .parse::<Action>()
                        .map_err(|e| e.to_string())?,
                )
            }
            "--hold" => hold = parse_seconds(&value("--hold")?)?,
            flag if flag.starts_with("--") => {
                return Err(format!("{name}: unknown option {flag}"));
            }
            other => positional.push(other.to_owned()),
        }
    }
    let takes_options = matches!(name.as_str(), "call");
    if !takes_options && (mode.is_some() || action.is_some()) {
        return Err(format!("{name} takes no --mode or --action"));
    }
    let is_call = matches!(name.as_str(), "call" | "join" | "share");
    if !is_call && !hold.is_zero() {
        return Err(format!("{name} takes no --hold"));
    }
    let one_target = |what: &str| -> Result<String, String> {
        match positional.as_slice() {
            [target] => parse_uri(target),
            [] => Err(format!("{name} needs {what}")),
            _ => Err(format!("{name} takes one {what}")),
        }
    };
    let none = |command: Command| {
        if positional.is_empty() {
            Ok(command)
        } else {
            Err(format!("{name} takes no arguments"))
        }
    };
    match name.as_str() {
        "register" => none(Command::Register),
        "hangup" => none(Command::Hangup),
        "quit" | "exit" => none(Command::Quit),
        "help" => none(Command::Help),
        "call" => {
            let mode = mode.unwrap_or(Mode::Voice);
            Ok(Command::Call {
                target: one_target("a URI to call")?,
                mode,
                action: action.unwrap_or(mode.primary_action()),
                hold,
            })
        }
        "join" => Ok(Command::Call {
            target: one_target("a conference URI")?,
            mode: Mode::Conference,
            action: Action::Join,
            hold,
        }),
        "share" => Ok(Command::Call {
            target: one_target("a URI to share with")?,
            mode: Mode::Sharing,
            action: Action::Share,
            hold,
        }),
        "im" => {
            let Some((target, text)) = positional.split_first() else {
                return Err("im needs a URI and a message".into());
            };
            if text.is_empty() {
                return Err("im needs a message after the URI".into());
            }
            Ok(Command::Im {
                target: parse_uri(target)?,
                text: text.join(" "),
            })
        }
        other => Err(format!(
            "unknown command {other:?} (register, call, im, join, share, hangup, quit)"
        )),
    }
}

fn parse_transport(text: &str) -> Result<TransportKind, String> {
    match text.to_ascii_lowercase().as_str() {
        "udp" => Ok(TransportKind::Udp),
        "tcp" => Ok(TransportKind::Tcp),
        "tls" => Ok(TransportKind::Tls),
        _ => Err(format!("--transport is udp, tcp or tls, not {text:?}")),
    }
}

fn parse_set(text: &str) -> Result<StringSet, String> {
    text.parse::<StringSet>().map_err(|e| e.to_string())
}

fn parse_locale(tag: &str) -> Result<LanguageIdentifier, String> {
    tag.trim()
        .parse::<LanguageIdentifier>()
        .map_err(|_| format!("--locale: not a language tag: {tag:?}"))
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("--hold takes seconds (0 to 86400), not {text:?}"))
}

/// A `sip:` or `sips:` URI with a host.
fn parse_uri(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("sip:")
        .or_else(|| text.strip_prefix("sips:"))
        .ok_or_else(|| format!("not a sip: URI: {text:?}"))?;
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    if host.is_empty() || host.starts_with(';') || rest.contains(char::is_whitespace) {
        return Err(format!("not a sip: URI: {text:?}"));
    }
    Ok(text.to_owned())
}

/// An address of record: `sip:user@domain`.
fn parse_aor(text: &str) -> Result<String, String> {
    let uri = parse_uri(text).map_err(|_| format!("--user takes sip:USER@DOMAIN, not {text:?}"))?;
    if !uri.contains('@') {
        return Err(format!("--user takes sip:USER@DOMAIN, not {text:?}"));
    }
    Ok(uri)
}

fn check_host_port(text: &str) -> Result<(), String> {
    let bad = || format!("--server takes HOST:PORT, not {text:?}");
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(bad());
    }
    // An IPv6 literal needs its brackets, or the port cannot be told apart.
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn trace_goes_with_any_invocation() {
        let mut with = args("--demo --trace --transport udp");
        assert!(take_trace(&mut with));
        assert_eq!(with, args("--demo --transport udp"));
        assert!(matches!(parse(&with), Ok(Invocation::Demo(_))));
        let mut without = args("--demo");
        assert!(!take_trace(&mut without));
        assert!(USAGE.contains("--trace"));
    }

    fn server(line: &str) -> ServerArgs {
        match parse(&args(line)) {
            Ok(Invocation::Server(server)) => server,
            other => panic!("{line}: {other:?}"),
        }
    }

    const BASE: &str =
        "--server pool.contoso.com:5061 --transport tls --user sip:alice@contoso.com";

    #[test]
    fn no_arguments_is_the_demo_and_help_is_help() {
        assert_eq!(parse(&[]), Ok(Invocation::Demo(DemoArgs::default())));
        assert_eq!(parse(&args("--help")), Ok(Invocation::Help));
        assert_eq!(parse(&args(&format!("{BASE} -h"))), Ok(Invocation::Help));
        assert_eq!(
            parse(&args(
                "--demo --transport udp --set communicator2007 --locale fr-FR,de"
            )),
            Ok(Invocation::Demo(DemoArgs {
                transport: TransportKind::Udp,
                set: StringSet::Communicator2007,
                locales: vec!["fr-FR".parse().unwrap(), "de".parse().unwrap()],
            }))
        );
    }

    #[test]
    fn the_server_options_and_their_defaults() {
        let s = server(BASE);
        assert_eq!(s.server.as_deref(), Some("pool.contoso.com:5061"));
        assert_eq!(s.auth, AuthMode::Auto);
        assert_eq!(server(&format!("{BASE} --auth ntlm")).auth, AuthMode::Ntlm);
        // Without --server the pool is discovered; --transport goes with it.
        let discovered = server("--user sip:alice@contoso.com --auth digest");
        assert_eq!(discovered.server, None);
        assert_eq!(discovered.auth, AuthMode::Digest);
        assert_eq!(s.server_host(), "pool.contoso.com");
        assert_eq!(s.transport, TransportKind::Tls);
        assert_eq!(s.auth_user(), "alice");
        assert_eq!(
            (s.set, s.report, s.json, s.command),
            (StringSet::Lync2010, true, false, None)
        );
        assert!(s.locales.is_empty());

        let s = server(&format!(
            "{BASE} --password pw --auth-user CONTOSO\\alice --tls-ca ca.pem --tls-name sip.contoso.com \
             --set oc2007 --locale fr-FR --locale de-DE --no-report --json register"
        ));
        assert_eq!(s.password.as_deref(), Some("pw"));
        assert_eq!(s.auth_user(), "CONTOSO\\alice");
        assert_eq!(s.tls_ca, Some(PathBuf::from("ca.pem")));
        assert_eq!(s.tls_name.as_deref(), Some("sip.contoso.com"));
        assert_eq!(s.set, StringSet::Communicator2007);
        assert_eq!(s.locales.len(), 2);
        assert!(!s.report && s.json);
        assert_eq!(s.command, Some(Command::Register));
        assert_eq!(
            server("--server [::1]:5060 --transport udp --user sip:a@b").server_host(),
            "::1"
        );
    }

    #[test]
    fn one_shot_commands() {
        let s = server(&format!(
            "{BASE} call sip:bob@contoso.com --mode voice --action call --json"
        ));
        assert!(s.json);
        assert_eq!(
            s.command,
            Some(Command::Call {
                target: "sip:bob@contoso.com".into(),
                mode: Mode::Voice,
                action: Action::Call,
                hold: Duration::ZERO,
            })
        );
        let s = server(&format!(
            "{BASE} call sip:bob@contoso.com --mode im --hold 2.5"
        ));
        assert!(matches!(
            s.command,
            Some(Command::Call { mode: Mode::Im, action: Action::SendMessage, hold, .. })
                if hold == Duration::from_millis(2500)
        ));
        let s = server(&format!("{BASE} im sip:bob@contoso.com are you there?"));
        assert_eq!(
            s.command,
            Some(Command::Im {
                target: "sip:bob@contoso.com".into(),
                text: "are you there?".into()
            })
        );
        let s = server(&format!(
            "{BASE} join sip:bob@contoso.com;gruu;opaque=app:conf:focus:id:X"
        ));
        assert!(matches!(
            s.command,
            Some(Command::Call {
                mode: Mode::Conference,
                action: Action::Join,
                ..
            })
        ));
        let s = server(&format!("{BASE} share sip:bob@contoso.com"));
        assert_eq!(s.command.as_ref().map(Command::name), Some("share"));
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        let cases = [
            ("--server", "--server needs a value"),
            (
                "--transport tcp --user sip:a@b",
                "--transport goes with --server",
            ),
            (
                "--server h:5060 --user sip:a@b",
                "--transport udp|tcp|tls is needed with --server",
            ),
            (
                "--user sip:a@b --auth kerberos",
                "--auth takes ntlm, digest or auto",
            ),
            (
                "--server host --transport tcp --user sip:a@b",
                "--server takes HOST:PORT",
            ),
            (
                "--server host:0 --transport tcp --user sip:a@b",
                "--server takes HOST:PORT",
            ),
            (
                "--server ::1:5060 --transport tcp --user sip:a@b",
                "--server takes HOST:PORT",
            ),
            (
                "--server h:5060 --user sip:a@b",
                "--transport udp|tcp|tls is needed",
            ),
            (
                "--server h:5060 --transport sctp --user sip:a@b",
                "--transport is udp, tcp or tls",
            ),
            (
                "--server h:5060 --transport tcp",
                "--user sip:USER@DOMAIN is needed",
            ),
            (
                "--server h:5060 --transport tcp --user alice",
                "--user takes sip:USER@DOMAIN",
            ),
            (
                "--server h:5060 --transport tcp --user sip:contoso.com",
                "--user takes",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b --set lync",
                "unknown string set",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b --locale !!",
                "not a language tag",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b --tls-ca x.pem",
                "--tls-ca needs",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b --frobnicate",
                "unknown option",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b dial sip:b@c",
                "unknown command",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b call",
                "call needs a URI",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b call bob",
                "not a sip: URI",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b call sip:b@c sip:d@e",
                "one",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b call sip:b@c --mode video",
                "unknown mode",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b call sip:b@c --action ring",
                "unknown action",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b call sip:b@c --hold -1",
                "--hold takes",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b call sip:b@c --hold x",
                "--hold takes",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b call sip:b@c --ring",
                "unknown option",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b im sip:b@c",
                "needs a message",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b join sip:b@c --mode im",
                "no --mode",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b im sip:b@c hi --hold 1",
                "no --hold",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b register now",
                "no arguments",
            ),
            (
                "--server h:5060 --transport tcp --user sip:a@b hangup",
                "interactive command",
            ),
            ("--demo --server h:5060", "--demo takes"),
            ("--demo --transport tls", "not tls"),
            ("--demo call sip:b@c", "--demo takes"),
        ];
        for (line, expected) in cases {
            match parse(&args(line)) {
                Err(message) => assert!(message.contains(expected), "{line}: {message}"),
                Ok(parsed) => panic!("{line}: accepted as {parsed:?}"),
            }
        }
    }

    #[test]
    fn interactive_lines() {
        let line = |l: &str| parse_command(&args(l));
        assert_eq!(line("hangup"), Ok(Command::Hangup));
        assert_eq!(line("quit"), Ok(Command::Quit));
        assert_eq!(line("exit"), Ok(Command::Quit));
        assert_eq!(line("help"), Ok(Command::Help));
        assert_eq!(line("register"), Ok(Command::Register));
        assert!(line("").is_err());
        assert_eq!(
            line("call sip:bob@contoso.com").map(|c| c.name()),
            Ok("call")
        );
        assert_eq!(
            line("join sip:conf@contoso.com").map(|c| c.name()),
            Ok("join")
        );
    }
}
