//! The command line (clap, derive), and the commands the softphone
//! understands both as a one-shot argument list and as interactive lines.

use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory as _, Parser};
use ocer::display::{Action, LanguageIdentifier, Mode, StringSet};
use ocer::ua::transport::TransportKind;
use ocer::ua::AuthMode;

/// A SIP client for Lync / Skype for Business servers that shows MS-OCER
/// client error reporting at work. Without --server it runs the demo: an
/// embedded server on loopback and the spec's 4.1 flow.
#[derive(Debug, Parser)]
#[command(
    name = "softphone",
    version,
    after_help = "\
With --server and no COMMAND, commands are read from stdin, one per line, and
run in order; the softphone registers first. A COMMAND on the command line
runs once (after registering) and sets the exit code: 0 when it succeeded,
1 when it failed. Bad arguments: one line on stderr and exit code 2.

commands:
  register                              register (digest with --password)
  call URI [--mode MODE] [--action ACTION] [--hold SECONDS]
                                        an INVITE; once established, hang up after
                                        --hold seconds (default 0)
  im URI TEXT...                        an instant message (MESSAGE)
  join URI [--hold SECONDS]             join a meeting: INVITE to a conference URI
  share URI [--hold SECONDS]            start sharing: INVITE in sharing mode
  hangup                                (interactive) end the established call
  quit                                  (interactive) wait for what runs, unregister, exit

MODE: im, voice (default), conference, sharing, application-sharing, other.
ACTION: send-message, call, join, share, ... (locales/README.md); default: the
mode's primary action."
)]
struct Cli {
    /// Run the demo (the default without --server).
    #[arg(long)]
    demo: bool,
    /// The registrar / proxy, HOST:PORT (a Lync or Skype for Business pool);
    /// without it the pool is found by DNS from the AOR's domain
    /// (_sipinternaltls._tcp, _sipinternal._tcp, _sip._tls SRV, then
    /// sipinternal. / sip. hosts).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
    server: Option<String>,
    /// udp, tcp or tls (with --server; a discovered pool has its own).
    #[arg(long, value_name = "T", value_parser = parse_transport)]
    transport: Option<TransportKind>,
    /// Your address of record, sip:alice@contoso.com.
    #[arg(long, value_name = "AOR", value_parser = parse_aor)]
    user: Option<String>,
    /// The password (else the OCER_PASSWORD environment variable, which
    /// stays out of the process list).
    #[arg(long, value_name = "SECRET")]
    password: Option<String>,
    /// The user name, if not the AOR's user part (DOMAIN\\user for NTLM).
    #[arg(long, value_name = "NAME")]
    auth_user: Option<String>,
    /// Force one scheme: ntlm, digest or auto (default: what the server
    /// offers, NTLM preferred).
    #[arg(long, value_name = "SCHEME", value_parser = parse_auth)]
    auth: Option<AuthMode>,
    /// PEM file of the CA certificates to trust (default: the system's roots).
    #[arg(long, value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    /// The certificate name to expect (default: HOST, or a discovered
    /// pool's SRV target name).
    #[arg(long, value_name = "NAME")]
    tls_name: Option<String>,
    /// Without --server: the DNS server to ask for the pool, IP:PORT
    /// (default: the system's resolver).
    #[arg(long, value_name = "IP:PORT", conflicts_with = "server")]
    dns_server: Option<std::net::SocketAddr>,
    /// Whose error strings: lync2010 (default) or communicator2007.
    #[arg(long, value_name = "SET")]
    set: Option<StringSet>,
    /// Preferred language, repeatable or comma-separated (default en-US; en-XA is the pseudo-locale).
    #[arg(long, value_name = "TAG", value_delimiter = ',', value_parser = parse_locale)]
    locale: Vec<LanguageIdentifier>,
    /// An app's own locales: DIR/<tag>/lync2010.ftl, communicator2007.ftl.
    #[arg(long, value_name = "DIR")]
    locales_dir: Option<PathBuf>,
    /// Do not send reportError documents (MS-OCER SERVICE).
    #[arg(long)]
    no_report: bool,
    /// Machine-readable events, one JSON object per line.
    #[arg(long)]
    json: bool,
    /// The SIP trace on stderr (tracing target ocer::wire): every message sent
    /// and received, credentials masked. Goes with any invocation.
    #[arg(long)]
    trace: bool,
    /// The one-shot command's mode.
    #[arg(long, value_name = "MODE", requires = "command")]
    mode: Option<String>,
    /// The one-shot command's action.
    #[arg(long, value_name = "ACTION", requires = "command")]
    action: Option<String>,
    /// How long a one-shot call stays up, in seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        requires = "command",
        allow_hyphen_values = true
    )]
    hold: Option<String>,
    /// Print a completion script for this shell.
    #[arg(long, value_name = "SHELL", exclusive = true)]
    completions: Option<clap_complete::Shell>,
    /// A one-shot command and its arguments (see below).
    #[arg(value_name = "COMMAND")]
    command: Vec<String>,
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // one per process, parsed once
pub(crate) enum Invocation {
    /// `--help`, `--version`, `--completions`: this text, on stdout.
    Print(String),
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
    /// An app's own locales.
    pub(crate) locales_dir: Option<PathBuf>,
}

impl Default for DemoArgs {
    fn default() -> Self {
        DemoArgs {
            transport: TransportKind::Tcp,
            set: StringSet::Lync2010,
            locales: Vec::new(),
            locales_dir: None,
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
    /// The password given on the command line (`OCER_PASSWORD` is read
    /// where the user agent is built).
    pub(crate) password: Option<String>,
    /// CA certificates to trust instead of the system's.
    pub(crate) tls_ca: Option<PathBuf>,
    /// The name the server's certificate must carry.
    pub(crate) tls_name: Option<String>,
    /// The DNS server discovery asks (`None`: the system's resolver).
    pub(crate) dns_server: Option<std::net::SocketAddr>,
    /// Whose strings.
    pub(crate) set: StringSet,
    /// Preferred languages, best first.
    pub(crate) locales: Vec<LanguageIdentifier>,
    /// An app's own locales.
    pub(crate) locales_dir: Option<PathBuf>,
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

/// Parses the arguments after the program name. Errors are one line.
pub(crate) fn parse(args: &[String]) -> Result<Invocation, String> {
    use clap::error::ErrorKind;
    let cli = match Cli::try_parse_from(
        std::iter::once("softphone".to_owned()).chain(args.iter().cloned()),
    ) {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            return Ok(Invocation::Print(e.render().to_string()))
        }
        Err(e) => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("bad arguments");
            return Err(first.trim_start_matches("error: ").to_owned());
        }
    };
    if let Some(shell) = cli.completions {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "softphone", &mut out);
        return Ok(Invocation::Print(
            String::from_utf8_lossy(&out).into_owned(),
        ));
    }
    let server_only = [
        cli.user.as_ref().map(|_| "--user"),
        cli.password.as_ref().map(|_| "--password"),
        cli.auth_user.as_ref().map(|_| "--auth-user"),
        cli.auth.as_ref().map(|_| "--auth"),
        cli.tls_ca.as_ref().map(|_| "--tls-ca"),
        cli.tls_name.as_ref().map(|_| "--tls-name"),
        cli.dns_server.as_ref().map(|_| "--dns-server"),
        cli.no_report.then_some("--no-report"),
        cli.json.then_some("--json"),
        cli.command.first().map(|_| "a command"),
    ];
    // `--set` / `--locale` / `--transport` alone: the demo in that language.
    let implied_demo = cli.server.is_none() && server_only.iter().all(Option::is_none);
    if cli.demo || implied_demo {
        if let Some(extra) = cli
            .server
            .as_ref()
            .map(|_| "--server")
            .into_iter()
            .chain(server_only.into_iter().flatten())
            .next()
        {
            return Err(format!(
                "--demo takes --transport, --set, --locale and --locales-dir, not {extra}"
            ));
        }
        let transport = match cli.transport {
            None | Some(TransportKind::Tcp) => TransportKind::Tcp,
            Some(TransportKind::Udp) => TransportKind::Udp,
            Some(_) => return Err("the demo server speaks tcp and udp, not tls".into()),
        };
        return Ok(Invocation::Demo(DemoArgs {
            transport,
            set: cli.set.unwrap_or(StringSet::Lync2010),
            locales: cli.locale,
            locales_dir: cli.locales_dir,
        }));
    }
    let command = if cli.command.is_empty() {
        None
    } else {
        let mut words = cli.command.clone();
        for (flag, value) in [
            ("--mode", &cli.mode),
            ("--action", &cli.action),
            ("--hold", &cli.hold),
        ] {
            if let Some(value) = value {
                words.push(flag.to_owned());
                words.push(value.clone());
            }
        }
        match parse_command(&words)? {
            Command::Hangup | Command::Quit | Command::Help => {
                return Err(format!(
                    "{} is an interactive command; one-shot commands are register, call, im, join, share",
                    cli.command.first().map_or("", String::as_str)
                ))
            }
            command => Some(command),
        }
    };
    // A discovered pool is reached over TLS first (_sipinternaltls._tcp).
    if cli.tls_ca.is_some() && cli.server.is_some() && cli.transport != Some(TransportKind::Tls) {
        return Err("--tls-ca needs --transport tls".into());
    }
    let transport = match (&cli.server, cli.transport) {
        (Some(_), None) => return Err("--transport udp|tcp|tls is needed with --server".into()),
        (None, Some(_)) => {
            return Err("--transport goes with --server (a discovered pool has its own)".into())
        }
        (_, Some(transport)) => transport,
        (None, None) => TransportKind::Tls,
    };
    Ok(Invocation::Server(ServerArgs {
        server: cli.server,
        transport,
        auth: cli.auth.unwrap_or_default(),
        user: cli.user.ok_or("--user sip:USER@DOMAIN is needed")?,
        auth_user: cli.auth_user,
        password: cli.password,
        tls_ca: cli.tls_ca,
        tls_name: cli.tls_name,
        dns_server: cli.dns_server,
        set: cli.set.unwrap_or(StringSet::Lync2010),
        locales: cli.locale,
        locales_dir: cli.locales_dir,
        report: !cli.no_report,
        json: cli.json,
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

fn parse_auth(text: &str) -> Result<AuthMode, String> {
    match text {
        "ntlm" => Ok(AuthMode::Ntlm),
        "digest" => Ok(AuthMode::Digest),
        "auto" => Ok(AuthMode::Auto),
        other => Err(format!("--auth takes ntlm, digest or auto, not {other}")),
    }
}

/// Takes `--trace` out of `args` before parsing: the trace is installed
/// before anything else runs, whatever the invocation; whether it was there.
pub(crate) fn take_trace(args: &mut Vec<String>) -> bool {
    let before = args.len();
    args.retain(|a| a != "--trace");
    args.len() != before
}

fn parse_transport(text: &str) -> Result<TransportKind, String> {
    match text.to_ascii_lowercase().as_str() {
        "udp" => Ok(TransportKind::Udp),
        "tcp" => Ok(TransportKind::Tcp),
        "tls" => Ok(TransportKind::Tls),
        _ => Err(format!("--transport is udp, tcp or tls, not {text:?}")),
    }
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

fn parse_host_port(text: &str) -> Result<String, String> {
    check_host_port(text).map(|()| text.to_owned())
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
        assert!(
            matches!(parse(&args("--help")), Ok(Invocation::Print(h)) if h.contains("--trace"))
        );
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
        assert!(
            matches!(parse(&args("--help")), Ok(Invocation::Print(h)) if h.contains("--locales-dir"))
        );
        assert!(matches!(
            parse(&args(&format!("{BASE} -h"))),
            Ok(Invocation::Print(_))
        ));
        assert!(
            matches!(parse(&args("--completions zsh")), Ok(Invocation::Print(c)) if c.contains("softphone"))
        );
        Cli::command().debug_assert();
        assert_eq!(
            parse(&args(
                "--demo --transport udp --set communicator2007 --locale fr-FR,de"
            )),
            Ok(Invocation::Demo(DemoArgs {
                transport: TransportKind::Udp,
                set: StringSet::Communicator2007,
                locales: vec!["fr-FR".parse().unwrap(), "de".parse().unwrap()],
                locales_dir: None,
            }))
        );
    }

    #[test]
    fn set_and_locale_without_server_imply_the_demo() {
        assert_eq!(
            parse(&args("--set communicator2007")),
            Ok(Invocation::Demo(DemoArgs {
                set: StringSet::Communicator2007,
                ..DemoArgs::default()
            }))
        );
        assert!(matches!(
            parse(&args("--locale en-XA --locales-dir my-locales")),
            Ok(Invocation::Demo(DemoArgs { locales, locales_dir: Some(_), .. })) if locales.len() == 1
        ));
        // With --user it is a sign-in to a pool found by DNS, not the demo.
        assert!(matches!(
            parse(&args("--set communicator2007 --user sip:a@b")),
            Ok(Invocation::Server(ServerArgs { server: None, .. }))
        ));
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
            ("--server", "a value is required for '--server"),
            (
                "--transport tcp --user sip:a@b",
                "--transport goes with --server",
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
                "--transport udp|tcp|tls is needed with --server",
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
                "unexpected argument '--frobnicate'",
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
                "unexpected argument '--ring'",
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
