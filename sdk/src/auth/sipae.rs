//! [MS-SIPAE] SIP Authentication Extensions, client side (sans-IO): the
//! `NTLM` / `Kerberos` challenge, the security association (SA) and the
//! message signatures that Lync Server 2010 and Skype for Business require.
//!
//! The exchange, as MS-SIPAE §4.1 shows it for NTLM:
//!
//! 1. a request without credentials → `401` with
//!    `WWW-Authenticate: NTLM realm="…", targetname="…", version=3`;
//! 2. the request again with `gssapi-data=""` (connectionless NTLM has no
//!    NEGOTIATE_MESSAGE) → `401` with `gssapi-data="<CHALLENGE>"` and `opaque`;
//! 3. the request again with the AUTHENTICATE_MESSAGE → `200` carrying
//!    `Authentication-Info: NTLM rspauth="…", srand="…", snum="…"`.
//!
//! From then on every request carries `crand`, `cnum` and `response` (its
//! signature) and every response (but `100 Trying`) must carry a valid
//! `rspauth`: [`SecurityAssociation::verify_response`] refuses one that is
//! unsigned, badly signed, or reuses a server sequence number.
//!
//! The signed buffer is, per [MS-SIP] §3.1.4.2 ("The client MUST use the
//! following values in order and enclosed by angle brackets"):
//! `<scheme><crand|srand><cnum|snum><realm><targetname><Call-ID><CSeq#>
//! <CSeq method><From URL><From tag><To tag><Expires><response code>`, the
//! response code for responses only, `<>` for an absent optional value.
//!
//! The mechanism is behind [`GssapiProvider`], so Kerberos can be added as
//! another provider without touching the SA.

use std::collections::HashSet;

use base64::Engine as _;
use ezk_sip_types::Name;

use super::ntlm::{self, Challenge, ClientSecrets, NtlmCredentials, NtlmSession};
use crate::sip::SipMessage;

/// Why MS-SIPAE authentication failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipaeError {
    /// The mechanism refused a token.
    #[error(transparent)]
    Ntlm(#[from] ntlm::NtlmError),
    /// A header or parameter the exchange needs is missing or malformed.
    #[error("MS-SIPAE: {0}")]
    Malformed(&'static str),
    /// A response after the SA carries no signature for it.
    #[error("response is not signed by the security association")]
    Unsigned,
    /// A response's `rspauth` does not verify.
    #[error("response signature does not verify")]
    BadSignature,
    /// A response reuses a server sequence number already seen.
    #[error("response replays snum {0}")]
    Replayed(u32),
    /// Signing before the SA is established.
    #[error("the security association is not established")]
    NotEstablished,
}

/// Which header pair carries the exchange: `401` (registrar) or `407` (proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenger {
    /// `WWW-Authenticate` / `Authorization` / `Authentication-Info`.
    Server,
    /// `Proxy-Authenticate` / `Proxy-Authorization` / `Proxy-Authentication-Info`.
    Proxy,
}

impl Challenger {
    fn challenge_header(self) -> Name {
        match self {
            Challenger::Server => Name::from("WWW-Authenticate"),
            Challenger::Proxy => Name::PROXY_AUTHENTICATE,
        }
    }

    /// The request header credentials go in.
    pub fn credentials_header(self) -> Name {
        match self {
            Challenger::Server => Name::AUTHORIZATION,
            Challenger::Proxy => Name::PROXY_AUTHORIZATION,
        }
    }

    fn info_header(self) -> Name {
        match self {
            Challenger::Server => Name::AUTHENTICATION_INFO,
            Challenger::Proxy => Name::from("Proxy-Authentication-Info"),
        }
    }
}

/// One authentication header value: the scheme and its parameters, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParams {
    /// `NTLM`, `Kerberos`, `Digest`, …
    pub scheme: String,
    params: Vec<(String, String)>,
}

impl AuthParams {
    /// Parses `scheme name=value, name="quoted, value", …`.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let (scheme, rest) = value
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((value, ""));
        if scheme.is_empty() {
            return None;
        }
        let mut params = Vec::new();
        let mut chars = rest.char_indices().peekable();
        let bytes = rest;
        loop {
            while chars
                .peek()
                .is_some_and(|(_, c)| c.is_ascii_whitespace() || *c == ',')
            {
                chars.next();
            }
            let Some(&(start, _)) = chars.peek() else {
                break;
            };
            let mut eq = None;
            for (i, c) in chars.by_ref() {
                if c == '=' {
                    eq = Some(i);
                    break;
                }
            }
            let eq = eq?;
            let name = bytes.get(start..eq)?.trim().to_owned();
            while chars.peek().is_some_and(|(_, c)| c.is_ascii_whitespace()) {
                chars.next();
            }
            let mut val = String::new();
            if chars.peek().is_some_and(|(_, c)| *c == '"') {
                chars.next();
                let mut escaped = false;
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    match c {
                        _ if escaped => {
                            val.push(c);
                            escaped = false;
                        }
                        '\\' => escaped = true,
                        '"' => {
                            closed = true;
                            break;
                        }
                        _ => val.push(c),
                    }
                }
                if !closed {
                    return None;
                }
            } else {
                while let Some(&(_, c)) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    val.push(c);
                    chars.next();
                }
                val = val.trim().to_owned();
            }
            params.push((name, val));
        }
        Some(Self {
            scheme: scheme.to_owned(),
            params,
        })
    }

    /// The value of parameter `name` (case-insensitive name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the scheme is `scheme` (case-insensitive).
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }
}

/// The MS-SIPAE challenges of a 401/407: every `NTLM` / `Kerberos` /
/// `TLS-DSK` value, with which header it came in.
pub fn challenges(response: &SipMessage) -> Vec<(Challenger, AuthParams)> {
    let mut out = Vec::new();
    for challenger in [Challenger::Server, Challenger::Proxy] {
        for value in response.header_values(&challenger.challenge_header()) {
            if let Some(params) = AuthParams::parse(value) {
                out.push((challenger, params));
            }
        }
    }
    out
}

/// A security mechanism that produces `gssapi-data` and signs: NTLM today,
/// Kerberos later (behind a feature), without changing the SA.
pub trait GssapiProvider: Send + std::fmt::Debug {
    /// The scheme name as MS-SIPAE writes it (`NTLM`, `Kerberos`).
    fn scheme(&self) -> &'static str;
    /// The next token: `None` asks for the first one (empty for
    /// connectionless NTLM), `Some` is the server's `gssapi-data`.
    fn step(&mut self, server_token: Option<&[u8]>) -> Result<Vec<u8>, SipaeError>;
    /// Whether the context is established (signing is possible).
    fn is_established(&self) -> bool;
    /// MakeSignature.
    fn make_signature(&mut self, seq: u32, data: &[u8]) -> Result<Vec<u8>, SipaeError>;
    /// VerifySignature.
    fn verify_signature(
        &mut self,
        seq: u32,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), SipaeError>;
}

/// Connectionless NTLMv2 as a [`GssapiProvider`].
pub struct NtlmProvider {
    credentials: NtlmCredentials,
    secrets: ClientSecrets,
    workstation: String,
    session: Option<NtlmSession>,
}

impl std::fmt::Debug for NtlmProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtlmProvider")
            .field("credentials", &self.credentials)
            .field("established", &self.session.is_some())
            .finish_non_exhaustive()
    }
}

impl NtlmProvider {
    /// A provider for `credentials`, with fresh random `secrets`.
    pub fn new(credentials: NtlmCredentials, secrets: ClientSecrets, workstation: &str) -> Self {
        Self {
            credentials,
            secrets,
            workstation: workstation.to_owned(),
            session: None,
        }
    }
}

impl GssapiProvider for NtlmProvider {
    fn scheme(&self) -> &'static str {
        "NTLM"
    }

    fn step(&mut self, server_token: Option<&[u8]>) -> Result<Vec<u8>, SipaeError> {
        let Some(token) = server_token else {
            return Ok(Vec::new());
        };
        let challenge = Challenge::parse(token)?;
        let done = ntlm::authenticate(
            &self.credentials,
            &challenge,
            &self.secrets,
            &self.workstation,
        )?;
        self.session = Some(done.session);
        Ok(done.message)
    }

    fn is_established(&self) -> bool {
        self.session.is_some()
    }

    fn make_signature(&mut self, seq: u32, data: &[u8]) -> Result<Vec<u8>, SipaeError> {
        let session = self.session.as_mut().ok_or(SipaeError::NotEstablished)?;
        Ok(session.make_signature(seq, data).to_vec())
    }

    fn verify_signature(
        &mut self,
        seq: u32,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), SipaeError> {
        let session = self.session.as_mut().ok_or(SipaeError::NotEstablished)?;
        session
            .verify_signature(seq, data, signature)
            .map_err(|_| SipaeError::BadSignature)
    }
}

/// The fields of a message that its MS-SIPAE signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedFields {
    /// Call-ID.
    pub call_id: String,
    /// CSeq number, as written.
    pub cseq_num: String,
    /// CSeq method.
    pub cseq_method: String,
    /// The URI of From.
    pub from_url: String,
    /// The tag of From ("" if none).
    pub from_tag: String,
    /// The tag of To ("" if none).
    pub to_tag: String,
    /// Expires ("" if none).
    pub expires: String,
    /// The status code, responses only.
    pub response_code: Option<u16>,
}

fn uri_of(value: &str) -> &str {
    let value = value.trim();
    match (value.find('<'), value.find('>')) {
        (Some(s), Some(e)) if s < e => value.get(s + 1..e).unwrap_or(value),
        _ => value.split(';').next().unwrap_or(value).trim(),
    }
}

fn tag_of(value: &str) -> &str {
    let params = match value.rfind('>') {
        Some(end) => value.get(end + 1..).unwrap_or(""),
        None => value.split_once(';').map_or("", |(_, p)| p),
    };
    params
        .split(';')
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim().eq_ignore_ascii_case("tag").then(|| v.trim())
        })
        .unwrap_or("")
}

impl SignedFields {
    /// Takes the fields from `message`.
    pub fn of(message: &SipMessage) -> Result<Self, SipaeError> {
        let call_id = message
            .header_value(&Name::CALL_ID)
            .ok_or(SipaeError::Malformed("no Call-ID"))?
            .trim();
        let cseq = message
            .header_value(&Name::CSEQ)
            .ok_or(SipaeError::Malformed("no CSeq"))?;
        let (num, method) = cseq
            .trim()
            .split_once(char::is_whitespace)
            .ok_or(SipaeError::Malformed("bad CSeq"))?;
        let from = message
            .header_value(&Name::FROM)
            .ok_or(SipaeError::Malformed("no From"))?;
        let to = message
            .header_value(&Name::TO)
            .ok_or(SipaeError::Malformed("no To"))?;
        Ok(Self {
            call_id: call_id.to_owned(),
            cseq_num: num.trim().to_owned(),
            cseq_method: method.trim().to_owned(),
            from_url: uri_of(from).to_owned(),
            from_tag: tag_of(from).to_owned(),
            to_tag: tag_of(to).to_owned(),
            expires: message
                .header_value(&Name::EXPIRES)
                .map(|v| v.trim().to_owned())
                .unwrap_or_default(),
            response_code: message.status().map(|s| s.0),
        })
    }

    /// The buffer to sign: `<scheme><rand><num><realm><targetname>…`.
    pub fn buffer(&self, scheme: &str, rand: &str, num: &str, realm: &str, target: &str) -> String {
        let mut out = String::new();
        for part in [
            scheme,
            rand,
            num,
            realm,
            target,
            &self.call_id,
            &self.cseq_num,
            &self.cseq_method,
            &self.from_url,
            &self.from_tag,
            &self.to_tag,
            &self.expires,
        ] {
            out.push('<');
            out.push_str(part);
            out.push('>');
        }
        if let Some(code) = self.response_code {
            out.push_str(&format!("<{code}>"));
        }
        out
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A security association with one server (a `targetname`), per MS-SIPAE.
#[derive(Debug)]
pub struct SecurityAssociation {
    provider: Box<dyn GssapiProvider>,
    challenger: Challenger,
    realm: String,
    targetname: String,
    version: Option<String>,
    opaque: Option<String>,
    /// The token for the next request while the handshake runs.
    pending: Option<Vec<u8>>,
    cnum: u32,
    seen_snum: HashSet<u32>,
}

impl SecurityAssociation {
    /// Starts an SA from a challenge without `gssapi-data` (the server's
    /// offer); the next request carries the provider's first token.
    pub fn start(
        mut provider: Box<dyn GssapiProvider>,
        challenger: Challenger,
        offer: &AuthParams,
    ) -> Result<Self, SipaeError> {
        let realm = offer
            .get("realm")
            .ok_or(SipaeError::Malformed("challenge without realm"))?;
        let targetname = offer
            .get("targetname")
            .ok_or(SipaeError::Malformed("challenge without targetname"))?;
        let first = provider.step(None)?;
        let mut sa = Self {
            provider,
            challenger,
            realm: realm.to_owned(),
            targetname: targetname.to_owned(),
            version: offer.get("version").map(str::to_owned),
            opaque: None,
            pending: Some(first),
            cnum: 0,
            seen_snum: HashSet::new(),
        };
        // A first challenge may already carry the server's token.
        if offer.get("gssapi-data").is_some_and(|d| !d.is_empty()) {
            sa.on_challenge(offer)?;
        }
        Ok(sa)
    }

    /// The scheme.
    pub fn scheme(&self) -> &'static str {
        self.provider.scheme()
    }

    /// The targetname of the server this SA is with.
    pub fn targetname(&self) -> &str {
        &self.targetname
    }

    /// Whether requests are now signed.
    pub fn is_established(&self) -> bool {
        self.pending.is_none() && self.provider.is_established()
    }

    /// Whether `offer` continues this SA's handshake (same scheme and
    /// targetname, with a server token).
    pub fn continues(&self, offer: &AuthParams) -> bool {
        offer.is(self.scheme())
            && offer.get("targetname") == Some(self.targetname.as_str())
            && offer.get("gssapi-data").is_some_and(|d| !d.is_empty())
            && !self.is_established()
    }

    /// Takes in a challenge carrying the server's `gssapi-data` and `opaque`.
    pub fn on_challenge(&mut self, offer: &AuthParams) -> Result<(), SipaeError> {
        let data = offer
            .get("gssapi-data")
            .ok_or(SipaeError::Malformed("challenge without gssapi-data"))?;
        let token = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|_| SipaeError::Malformed("gssapi-data is not base64"))?;
        if let Some(opaque) = offer.get("opaque") {
            self.opaque = Some(opaque.to_owned());
        }
        self.pending = Some(self.provider.step(Some(&token))?);
        Ok(())
    }

    /// The header value for the next request: the handshake token, or the
    /// signature (`crand` is the caller's random salt, `cnum` is counted here).
    /// Returns the header name and value.
    pub fn authorize(
        &mut self,
        request: &SipMessage,
        crand: u32,
    ) -> Result<(Name, String), SipaeError> {
        let scheme = self.scheme();
        let mut value = format!(
            "{scheme} qop=\"auth\"{}, realm=\"{}\", targetname=\"{}\"",
            self.opaque
                .as_ref()
                .map(|o| format!(", opaque=\"{o}\""))
                .unwrap_or_default(),
            self.realm,
            self.targetname
        );
        if let Some(token) = self.pending.take() {
            value.push_str(&format!(
                ", gssapi-data=\"{}\"",
                base64::engine::general_purpose::STANDARD.encode(&token)
            ));
            if let Some(version) = &self.version {
                value.push_str(&format!(", version={version}"));
            }
        } else {
            if !self.provider.is_established() {
                return Err(SipaeError::NotEstablished);
            }
            self.cnum = self.cnum.wrapping_add(1);
            let crand = format!("{crand:08x}");
            let cnum = self.cnum.to_string();
            let buffer = SignedFields::of(request)?.buffer(
                scheme,
                &crand,
                &cnum,
                &self.realm,
                &self.targetname,
            );
            let signature = self.provider.make_signature(self.cnum, buffer.as_bytes())?;
            value.push_str(&format!(
                ", crand=\"{crand}\", cnum=\"{cnum}\", response=\"{}\"",
                hex(&signature)
            ));
        }
        Ok((self.challenger.credentials_header(), value))
    }

    /// Checks a response once the SA is established: `100 Trying` is
    /// hop-by-hop and passes; anything else must carry a valid `rspauth`
    /// for this SA with a fresh `snum`.
    pub fn verify_response(&mut self, response: &SipMessage) -> Result<(), SipaeError> {
        if !self.is_established() || response.status().is_some_and(|s| s.0 == 100) {
            return Ok(());
        }
        let scheme = self.scheme();
        let info = response
            .header_values(&self.challenger.info_header())
            .filter_map(AuthParams::parse)
            .find(|p| p.is(scheme) && p.get("targetname").is_none_or(|t| t == self.targetname))
            .ok_or(SipaeError::Unsigned)?;
        let (Some(rspauth), Some(srand), Some(snum)) =
            (info.get("rspauth"), info.get("srand"), info.get("snum"))
        else {
            return Err(SipaeError::Unsigned);
        };
        let seq: u32 = snum.parse().map_err(|_| SipaeError::BadSignature)?;
        if self.seen_snum.contains(&seq) {
            return Err(SipaeError::Replayed(seq));
        }
        let signature = unhex(rspauth).ok_or(SipaeError::BadSignature)?;
        let buffer =
            SignedFields::of(response)?.buffer(scheme, srand, snum, &self.realm, &self.targetname);
        self.provider
            .verify_signature(seq, buffer.as_bytes(), &signature)?;
        self.seen_snum.insert(seq);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::ntlm::{Side, CLIENT_FLAGS};
    use crate::sip::FramingLimits;

    fn parse(s: &str) -> SipMessage {
        SipMessage::parse(
            s.replace('\n', "\r\n").as_bytes(),
            &FramingLimits::default(),
        )
        .unwrap()
    }

    #[test]
    fn ms_sipae_4_1_challenge_is_parsed() {
        let r = parse(
            "SIP/2.0 401 Unauthorized\n\
             WWW-Authenticate: NTLM realm=\"SIP Communications Service\", targetname=\"server.contoso.com\", version=3\n\
             WWW-Authenticate: Kerberos realm=\"SIP Communications Service\", targetname=\"sip/server.contoso.com\", version=3\n\
             Content-Length: 0\n\n",
        );
        let c = challenges(&r);
        assert_eq!(c.len(), 2);
        assert!(c[0].1.is("ntlm"));
        assert_eq!(c[0].1.get("realm"), Some("SIP Communications Service"));
        assert_eq!(c[0].1.get("targetname"), Some("server.contoso.com"));
        assert_eq!(c[0].1.get("version"), Some("3"));
        assert_eq!(c[1].1.get("targetname"), Some("sip/server.contoso.com"));
        assert!(AuthParams::parse("NTLM realm=\"unterminated").is_none());
    }

    #[test]
    fn signature_buffer_follows_ms_sip_3_1_4_2() {
        let req = parse(
            "REGISTER sip:contoso.com SIP/2.0\n\
             From: <sip:alice@contoso.com>;tag=4a2b44d131;epid=8248ca9ebb\n\
             To: <sip:alice@contoso.com>\n\
             Call-ID: d5f2b95d5be64c2cbfb38aa5d3a87ae7\n\
             CSeq: 171 REGISTER\n\
             Expires: 3600\n\
             Content-Length: 0\n\n",
        );
        let f = SignedFields::of(&req).unwrap();
        assert_eq!(
            f.buffer(
                "NTLM",
                "0b6ad1c5",
                "1",
                "SIP Communications Service",
                "server.contoso.com"
            ),
            "<NTLM><0b6ad1c5><1><SIP Communications Service><server.contoso.com>\
             <d5f2b95d5be64c2cbfb38aa5d3a87ae7><171><REGISTER><sip:alice@contoso.com>\
             <4a2b44d131><><3600>"
        );
        let resp = parse(
            "SIP/2.0 504 Server Time-out\n\
             From: \"Alice\" <sip:alice@contoso.com>;tag=aa\n\
             To: <sip:bob@contoso.com>;tag=bb\n\
             Call-ID: c\nCSeq: 1 INVITE\nContent-Length: 0\n\n",
        );
        assert_eq!(
            SignedFields::of(&resp)
                .unwrap()
                .buffer("NTLM", "s", "2", "r", "t"),
            "<NTLM><s><2><r><t><c><1><INVITE><sip:alice@contoso.com><aa><bb><><504>"
        );
    }

    /// A server side for the unit test, on the same NTLM code (the
    /// independent peer is the pyspnego registrar in tests/).
    fn server_sign(session: &mut NtlmSession, response: &SipMessage, snum: u32) -> String {
        let buffer =
            SignedFields::of(response)
                .unwrap()
                .buffer("NTLM", "5eed", &snum.to_string(), "R", "T");
        format!(
            "NTLM rspauth=\"{}\", srand=\"5eed\", snum=\"{snum}\", targetname=\"T\", realm=\"R\", qop=\"auth\"",
            hex(&session.make_signature(snum, buffer.as_bytes()))
        )
    }

    #[derive(Debug)]
    struct KeyedProvider(Option<NtlmSession>);
    impl GssapiProvider for KeyedProvider {
        fn scheme(&self) -> &'static str {
            "NTLM"
        }
        fn step(&mut self, t: Option<&[u8]>) -> Result<Vec<u8>, SipaeError> {
            if t.is_some() {
                self.0 = Some(NtlmSession::from_key(CLIENT_FLAGS, &[7; 16], Side::Client));
            }
            Ok(b"tok".to_vec())
        }
        fn is_established(&self) -> bool {
            self.0.is_some()
        }
        fn make_signature(&mut self, s: u32, d: &[u8]) -> Result<Vec<u8>, SipaeError> {
            Ok(self.0.as_mut().unwrap().make_signature(s, d).to_vec())
        }
        fn verify_signature(&mut self, s: u32, d: &[u8], g: &[u8]) -> Result<(), SipaeError> {
            self.0
                .as_mut()
                .unwrap()
                .verify_signature(s, d, g)
                .map_err(|_| SipaeError::BadSignature)
        }
    }

    #[test]
    fn sa_signs_requests_and_refuses_bad_responses() {
        let offer = AuthParams::parse("NTLM realm=\"R\", targetname=\"T\", version=3").unwrap();
        let mut sa =
            SecurityAssociation::start(Box::new(KeyedProvider(None)), Challenger::Server, &offer)
                .unwrap();
        let req = parse(
            "REGISTER sip:c SIP/2.0\nFrom: <sip:a@c>;tag=1\nTo: <sip:a@c>\nCall-ID: x\nCSeq: 1 REGISTER\nContent-Length: 0\n\n",
        );
        let (name, first) = sa.authorize(&req, 1).unwrap();
        assert_eq!(name, Name::AUTHORIZATION);
        assert!(first.contains("gssapi-data=\"dG9r\"") && first.contains("version=3"));
        let challenge = AuthParams::parse(
            "NTLM realm=\"R\", targetname=\"T\", opaque=\"ACDC1234\", gssapi-data=\"dG9r\", version=3",
        )
        .unwrap();
        assert!(sa.continues(&challenge));
        sa.on_challenge(&challenge).unwrap();
        let (_, second) = sa.authorize(&req, 1).unwrap();
        assert!(second.contains("opaque=\"ACDC1234\"") && second.contains("gssapi-data"));
        assert!(sa.is_established());
        let (_, signed) = sa.authorize(&req, 0x0b6a_d1c5).unwrap();
        assert!(signed.contains("crand=\"0b6ad1c5\", cnum=\"1\", response=\"01000000"));

        let mut server = NtlmSession::from_key(CLIENT_FLAGS, &[7; 16], Side::Server);
        let ok = "SIP/2.0 200 OK\nFrom: <sip:a@c>;tag=1\nTo: <sip:a@c>;tag=2\nCall-ID: x\nCSeq: 3 REGISTER\nContent-Length: 0\n\n";
        let mut resp = parse(ok);
        let info = server_sign(&mut server, &resp, 1);
        resp.headers.insert(Name::AUTHENTICATION_INFO, info.clone());
        sa.verify_response(&resp).unwrap();
        assert_eq!(sa.verify_response(&resp), Err(SipaeError::Replayed(1)));
        assert_eq!(sa.verify_response(&parse(ok)), Err(SipaeError::Unsigned));
        let mut tampered = parse(&ok.replace("tag=2", "tag=3"));
        let info2 = server_sign(&mut server, &parse(ok), 2);
        tampered.headers.insert(Name::AUTHENTICATION_INFO, info2);
        assert_eq!(sa.verify_response(&tampered), Err(SipaeError::BadSignature));
        assert!(sa
            .verify_response(&parse(&ok.replace("200 OK", "100 Trying")))
            .is_ok());
    }
}
