//! NTLM ([MS-NLMP]) for the client side of MS-SIPAE: NTLMv2 in connectionless
//! (datagram) mode, on RustCrypto primitives.
//!
//! Sans-IO: randomness and the time come in as arguments ([`ClientSecrets`]),
//! so the module is deterministic and checked against the spec's own test
//! vectors ([MS-NLMP] §4.2.4).
//!
//! Connectionless NTLM has no NEGOTIATE_MESSAGE (MS-SIPAE: "this message is
//! not generated for datagram NTLM contexts"): the client parses the server's
//! CHALLENGE_MESSAGE ([`Challenge::parse`]), answers with an
//! AUTHENTICATE_MESSAGE ([`authenticate`]) and gets an [`NtlmSession`] whose
//! `make_signature` / `verify_signature` take the sequence number from the
//! caller (MS-SIPAE's `cnum` / `snum`), with the sealing key re-derived for
//! every message ([MS-NLMP] §3.4.3: "SealingKey' = MD5(ConcatenationOf(
//! SealingKey, SequenceNumber))").

use hmac::{Hmac, Mac};
use md4::{Digest, Md4};
use md5::Md5;
use rc4::{KeyInit, Rc4, StreamCipher};

type HmacMd5 = Hmac<Md5>;
type Rc4Key16 = Rc4<rc4::consts::U16>;

/// NegotiateFlags bits ([MS-NLMP] §2.2.2.5).
pub mod flags {
    /// NTLMSSP_NEGOTIATE_UNICODE.
    pub const UNICODE: u32 = 0x0000_0001;
    /// NTLMSSP_REQUEST_TARGET.
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    /// NTLMSSP_NEGOTIATE_SIGN.
    pub const SIGN: u32 = 0x0000_0010;
    /// NTLMSSP_NEGOTIATE_SEAL.
    pub const SEAL: u32 = 0x0000_0020;
    /// NTLMSSP_NEGOTIATE_DATAGRAM (connectionless).
    pub const DATAGRAM: u32 = 0x0000_0040;
    /// NTLMSSP_NEGOTIATE_NTLM.
    pub const NTLM: u32 = 0x0000_0200;
    /// NTLMSSP_NEGOTIATE_ALWAYS_SIGN.
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    /// NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY.
    pub const EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
    /// NTLMSSP_NEGOTIATE_IDENTIFY.
    pub const IDENTIFY: u32 = 0x0010_0000;
    /// NTLMSSP_NEGOTIATE_TARGET_INFO.
    pub const TARGET_INFO: u32 = 0x0080_0000;
    /// NTLMSSP_NEGOTIATE_VERSION.
    pub const VERSION: u32 = 0x0200_0000;
    /// NTLMSSP_NEGOTIATE_128.
    pub const NEGOTIATE_128: u32 = 0x2000_0000;
    /// NTLMSSP_NEGOTIATE_KEY_EXCH.
    pub const KEY_EXCH: u32 = 0x4000_0000;
    /// NTLMSSP_NEGOTIATE_56.
    pub const NEGOTIATE_56: u32 = 0x8000_0000;
}

/// The flags this client can honour; the AUTHENTICATE_MESSAGE carries the
/// intersection with what the CHALLENGE_MESSAGE offers.
pub const CLIENT_FLAGS: u32 = flags::UNICODE
    | flags::REQUEST_TARGET
    | flags::SIGN
    | flags::SEAL
    | flags::DATAGRAM
    | flags::NTLM
    | flags::ALWAYS_SIGN
    | flags::EXTENDED_SESSIONSECURITY
    | flags::IDENTIFY
    | flags::TARGET_INFO
    | flags::VERSION
    | flags::NEGOTIATE_128
    | flags::KEY_EXCH
    | flags::NEGOTIATE_56;

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// MsvAvTimestamp ([MS-NLMP] §2.2.2.1).
const AV_TIMESTAMP: u16 = 0x0007;
const AV_EOL: u16 = 0x0000;

/// Why an NTLM message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NtlmError {
    /// Not an NTLMSSP message of the expected type, or a field points outside it.
    #[error("malformed NTLM message: {0}")]
    Malformed(&'static str),
    /// The server did not offer what MS-SIPAE needs.
    #[error("the server's NTLM challenge does not offer {0}")]
    Unsupported(&'static str),
    /// A signature did not verify.
    #[error("NTLM signature does not verify")]
    BadSignature,
}

/// The user's credentials.
#[derive(Clone)]
pub struct NtlmCredentials {
    /// The user name (without the domain).
    pub user: String,
    /// The NetBIOS or DNS domain; empty for a UPN user name.
    pub domain: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for NtlmCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtlmCredentials")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl NtlmCredentials {
    /// Splits `DOMAIN\user`; any other form (`user`, `user@domain`) is the
    /// user name with an empty domain, which NTLMv2 accepts for a UPN.
    pub fn from_login(login: &str, password: &str) -> Self {
        let (domain, user) = login.split_once('\\').unwrap_or(("", login));
        Self {
            user: user.to_owned(),
            domain: domain.to_owned(),
            password: password.to_owned(),
        }
    }
}

/// What the client draws at random, and the time: inputs, so that the
/// module stays deterministic.
#[derive(Debug, Clone, Copy)]
pub struct ClientSecrets {
    /// The NTLMv2 client challenge.
    pub client_challenge: [u8; 8],
    /// The ExportedSessionKey when KEY_EXCH is negotiated.
    pub random_session_key: [u8; 16],
    /// Now, as a Windows FILETIME (100 ns since 1601), used when the
    /// challenge has no MsvAvTimestamp.
    pub filetime: u64,
}

/// A parsed CHALLENGE_MESSAGE ([MS-NLMP] §2.2.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// NegotiateFlags.
    pub flags: u32,
    /// ServerChallenge.
    pub server_challenge: [u8; 8],
    /// TargetInfo (the AV_PAIR list), raw.
    pub target_info: Vec<u8>,
}

fn u16_at(bytes: &[u8], at: usize) -> Result<u16, NtlmError> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or(NtlmError::Malformed("truncated"))
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, NtlmError> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(NtlmError::Malformed("truncated"))
}

/// The payload a (len, maxlen, offset) field points at.
fn field(bytes: &[u8], at: usize) -> Result<&[u8], NtlmError> {
    let len = usize::from(u16_at(bytes, at)?);
    let offset =
        usize::try_from(u32_at(bytes, at + 4)?).map_err(|_| NtlmError::Malformed("offset"))?;
    if len == 0 {
        return Ok(&[]);
    }
    offset
        .checked_add(len)
        .and_then(|end| bytes.get(offset..end))
        .ok_or(NtlmError::Malformed("a field points outside the message"))
}

impl Challenge {
    /// Parses a CHALLENGE_MESSAGE.
    pub fn parse(bytes: &[u8]) -> Result<Self, NtlmError> {
        if bytes.get(..8) != Some(SIGNATURE.as_slice()) || u32_at(bytes, 8)? != 2 {
            return Err(NtlmError::Malformed("not a CHALLENGE_MESSAGE"));
        }
        let flags = u32_at(bytes, 20)?;
        let mut server_challenge = [0u8; 8];
        server_challenge
            .copy_from_slice(bytes.get(24..32).ok_or(NtlmError::Malformed("truncated"))?);
        let target_info = if flags & flags::TARGET_INFO != 0 {
            field(bytes, 40)?.to_vec()
        } else {
            Vec::new()
        };
        Ok(Self {
            flags,
            server_challenge,
            target_info,
        })
    }

    /// The MsvAvTimestamp of the target info, if any.
    fn timestamp(&self) -> Option<u64> {
        let info = &self.target_info;
        let mut at = 0;
        while let (Ok(id), Ok(len)) = (u16_at(info, at), u16_at(info, at + 2)) {
            let value = info.get(at + 4..at + 4 + usize::from(len))?;
            match id {
                AV_EOL => return None,
                AV_TIMESTAMP if value.len() == 8 => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(value);
                    return Some(u64::from_le_bytes(b));
                }
                _ => at += 4 + usize::from(len),
            }
        }
        None
    }
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    // HMAC takes a key of any length: new_from_slice cannot fail.
    let mut mac = match <HmacMd5 as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_key(),
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cold]
fn unreachable_key() -> HmacMd5 {
    // HMAC accepts every key length; this is never reached, and if it were,
    // an all-zero key only makes authentication fail, never panic.
    <HmacMd5 as Mac>::new(&Default::default())
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = <Md5 as Digest>::new();
    for part in parts {
        Digest::update(&mut h, part);
    }
    h.finalize().into()
}

fn rc4_apply(key: &[u8; 16], data: &mut [u8]) {
    Rc4Key16::new(key.into()).apply_keystream(data);
}

/// NTOWFv2 ([MS-NLMP] §3.3.2).
pub fn ntowfv2(credentials: &NtlmCredentials) -> [u8; 16] {
    let nt_hash: [u8; 16] = <Md4 as Digest>::digest(utf16le(&credentials.password)).into();
    let identity = utf16le(&format!(
        "{}{}",
        credentials.user.to_uppercase(),
        credentials.domain
    ));
    hmac_md5(&nt_hash, &[&identity])
}

/// The NTLMv2 responses and keys ([MS-NLMP] §3.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Responses {
    /// NtChallengeResponse (NTProofStr + temp).
    pub nt_response: Vec<u8>,
    /// LmChallengeResponse.
    pub lm_response: Vec<u8>,
    /// SessionBaseKey (= KeyExchangeKey for NTLMv2).
    pub session_base_key: [u8; 16],
}

/// ComputeResponse for NTLMv2.
pub fn compute_response_v2(
    response_key: &[u8; 16],
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
    filetime: u64,
    target_info: &[u8],
) -> V2Responses {
    let mut temp = Vec::with_capacity(28 + target_info.len() + 4);
    temp.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    temp.extend_from_slice(&filetime.to_le_bytes());
    temp.extend_from_slice(client_challenge);
    temp.extend_from_slice(&[0; 4]);
    temp.extend_from_slice(target_info);
    temp.extend_from_slice(&[0; 4]);
    let nt_proof = hmac_md5(response_key, &[server_challenge, &temp]);
    let mut nt_response = nt_proof.to_vec();
    nt_response.extend_from_slice(&temp);
    let mut lm_response = hmac_md5(response_key, &[server_challenge, client_challenge]).to_vec();
    lm_response.extend_from_slice(client_challenge);
    V2Responses {
        nt_response,
        lm_response,
        session_base_key: hmac_md5(response_key, &[&nt_proof]),
    }
}

/// Which side a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Client to server.
    Client,
    /// Server to client.
    Server,
}

/// SIGNKEY with extended session security ([MS-NLMP] §3.4.5.2).
pub fn sign_key(exported_session_key: &[u8; 16], side: Side) -> [u8; 16] {
    let magic: &[u8] = match side {
        Side::Client => b"session key to client-to-server signing key magic constant\0",
        Side::Server => b"session key to server-to-client signing key magic constant\0",
    };
    md5(&[exported_session_key, magic])
}

/// SEALKEY with extended session security ([MS-NLMP] §3.4.5.3).
pub fn seal_key(negotiated: u32, exported_session_key: &[u8; 16], side: Side) -> [u8; 16] {
    let len = if negotiated & flags::NEGOTIATE_128 != 0 {
        16
    } else if negotiated & flags::NEGOTIATE_56 != 0 {
        7
    } else {
        5
    };
    let magic: &[u8] = match side {
        Side::Client => b"session key to client-to-server sealing key magic constant\0",
        Side::Server => b"session key to server-to-client sealing key magic constant\0",
    };
    md5(&[&exported_session_key[..len], magic])
}

/// The keys of one direction, and the connection-oriented RC4 state.
#[derive(Clone)]
struct Direction {
    sign_key: [u8; 16],
    seal_key: [u8; 16],
    /// Connection-oriented mode only: how many bytes of the RC4 stream the
    /// messages so far used (the `rc4` cipher cannot be cloned, so a handle
    /// is re-created and advanced; a failed verification then leaves the
    /// stream where it was).
    consumed: Option<usize>,
}

impl Direction {
    fn new(negotiated: u32, key: &[u8; 16], side: Side) -> Self {
        let seal_key = seal_key(negotiated, key, side);
        Self {
            sign_key: sign_key(key, side),
            seal_key,
            consumed: (negotiated & flags::DATAGRAM == 0).then_some(0),
        }
    }
}

/// An established NTLM security context: MakeSignature / VerifySignature
/// with extended session security ([MS-NLMP] §3.4.4.2).
#[derive(Clone)]
pub struct NtlmSession {
    negotiated: u32,
    outgoing: Direction,
    incoming: Direction,
}

impl std::fmt::Debug for NtlmSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtlmSession")
            .field("negotiated", &format_args!("{:#010x}", self.negotiated))
            .finish_non_exhaustive()
    }
}

impl NtlmSession {
    /// The context of `side` for the ExportedSessionKey `key` and the
    /// negotiated flags (the acceptor's view is `Side::Server`).
    pub fn from_key(negotiated: u32, key: &[u8; 16], side: Side) -> Self {
        let other = match side {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        };
        Self {
            negotiated,
            outgoing: Direction::new(negotiated, key, side),
            incoming: Direction::new(negotiated, key, other),
        }
    }

    /// The negotiated flags.
    pub fn negotiated(&self) -> u32 {
        self.negotiated
    }

    /// MakeSignature over `message` with sequence number `seq`: 16 bytes,
    /// version 1, checksum, sequence number.
    pub fn make_signature(&mut self, seq: u32, message: &[u8]) -> [u8; 16] {
        mac(self.negotiated, &mut self.outgoing, seq, message)
    }

    /// VerifySignature: `signature` must be what the peer's MakeSignature
    /// gives for `message` and `seq`.
    pub fn verify_signature(
        &mut self,
        seq: u32,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), NtlmError> {
        // In connection-oriented mode a failed check must not advance the
        // stream: compute on a copy and keep it only on success.
        let mut direction = self.incoming.clone();
        let expected = mac(self.negotiated, &mut direction, seq, message);
        if constant_time_eq(&expected, signature) {
            self.incoming = direction;
            Ok(())
        } else {
            Err(NtlmError::BadSignature)
        }
    }

    /// Seals (encrypts) `message` in place and signs it (GSS_WrapEx); for
    /// the connection-oriented test vectors, MS-SIPAE only signs.
    pub fn seal(&mut self, seq: u32, message: &mut [u8]) -> [u8; 16] {
        let plain = message.to_vec();
        let direction = &mut self.outgoing;
        let mut handle = handle_for(direction, seq);
        handle.apply_keystream(message);
        let sig = checksum_and_sign(self.negotiated, direction, &mut handle, seq, &plain);
        if let Some(consumed) = direction.consumed.as_mut() {
            *consumed += message.len() + used_by_checksum(self.negotiated);
        }
        sig
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The RC4 handle for a message: the running stream (connection-oriented),
/// or one re-keyed with MD5(SealingKey, SeqNum) (connectionless, §3.4.3).
fn handle_for(direction: &Direction, seq: u32) -> Rc4Key16 {
    match direction.consumed {
        Some(consumed) => {
            let mut handle = Rc4Key16::new((&direction.seal_key).into());
            let mut skip = vec![0u8; consumed];
            handle.apply_keystream(&mut skip);
            handle
        }
        None => {
            let key = md5(&[&direction.seal_key, &seq.to_le_bytes()]);
            Rc4Key16::new((&key).into())
        }
    }
}

/// RC4 bytes a signature's checksum takes from the stream.
fn used_by_checksum(negotiated: u32) -> usize {
    if negotiated & flags::KEY_EXCH != 0 {
        8
    } else {
        0
    }
}

fn checksum_and_sign(
    negotiated: u32,
    direction: &Direction,
    handle: &mut Rc4Key16,
    seq: u32,
    message: &[u8],
) -> [u8; 16] {
    let digest = hmac_md5(&direction.sign_key, &[&seq.to_le_bytes(), message]);
    let mut checksum = [0u8; 8];
    checksum.copy_from_slice(&digest[..8]);
    if negotiated & flags::KEY_EXCH != 0 {
        handle.apply_keystream(&mut checksum);
    }
    let mut sig = [0u8; 16];
    sig[..4].copy_from_slice(&1u32.to_le_bytes());
    sig[4..12].copy_from_slice(&checksum);
    sig[12..].copy_from_slice(&seq.to_le_bytes());
    sig
}

fn mac(negotiated: u32, direction: &mut Direction, seq: u32, message: &[u8]) -> [u8; 16] {
    let mut handle = handle_for(direction, seq);
    let sig = checksum_and_sign(negotiated, direction, &mut handle, seq, message);
    if let Some(consumed) = direction.consumed.as_mut() {
        *consumed += used_by_checksum(negotiated);
    }
    sig
}

/// The AUTHENTICATE_MESSAGE and the session it opens.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The AUTHENTICATE_MESSAGE to send.
    pub message: Vec<u8>,
    /// The security context for signing.
    pub session: NtlmSession,
}

/// Answers `challenge` with an NTLMv2 AUTHENTICATE_MESSAGE
/// ([MS-NLMP] §3.1.5.1.2), with extended session security and, when offered,
/// key exchange. `workstation` is the client's NetBIOS name (may be empty).
pub fn authenticate(
    credentials: &NtlmCredentials,
    challenge: &Challenge,
    secrets: &ClientSecrets,
    workstation: &str,
) -> Result<Authenticated, NtlmError> {
    let offered = challenge.flags;
    if offered & flags::UNICODE == 0 {
        return Err(NtlmError::Unsupported("Unicode"));
    }
    if offered & flags::EXTENDED_SESSIONSECURITY == 0 {
        // Without ESS there are no NTLMv2 signing keys; MS-SIPAE signs.
        return Err(NtlmError::Unsupported("extended session security"));
    }
    let negotiated = offered & CLIENT_FLAGS;
    let response_key = ntowfv2(credentials);
    let timestamp = challenge.timestamp();
    let v2 = compute_response_v2(
        &response_key,
        &challenge.server_challenge,
        &secrets.client_challenge,
        timestamp.unwrap_or(secrets.filetime),
        &challenge.target_info,
    );
    // §3.1.5.1.2: with an MsvAvTimestamp the LM response is Z(24).
    let lm_response = if timestamp.is_some() {
        vec![0u8; 24]
    } else {
        v2.lm_response
    };
    let (exported, encrypted_key) = if negotiated & flags::KEY_EXCH != 0 {
        let mut encrypted = secrets.random_session_key;
        rc4_apply(&v2.session_base_key, &mut encrypted);
        (secrets.random_session_key, encrypted.to_vec())
    } else {
        (v2.session_base_key, Vec::new())
    };

    let domain = utf16le(&credentials.domain);
    let user = utf16le(&credentials.user);
    let workstation = utf16le(workstation);
    let payloads: [&[u8]; 6] = [
        &lm_response,
        &v2.nt_response,
        &domain,
        &user,
        &workstation,
        &encrypted_key,
    ];
    const HEADER: usize = 72;
    let mut message = Vec::with_capacity(HEADER + payloads.iter().map(|p| p.len()).sum::<usize>());
    message.extend_from_slice(SIGNATURE);
    message.extend_from_slice(&3u32.to_le_bytes());
    let mut offset = HEADER;
    for payload in payloads {
        let len =
            u16::try_from(payload.len()).map_err(|_| NtlmError::Malformed("field too long"))?;
        message.extend_from_slice(&len.to_le_bytes());
        message.extend_from_slice(&len.to_le_bytes());
        message.extend_from_slice(
            &u32::try_from(offset)
                .map_err(|_| NtlmError::Malformed("message too long"))?
                .to_le_bytes(),
        );
        offset += payload.len();
    }
    message.extend_from_slice(&negotiated.to_le_bytes());
    // Version: 6.1 build 7600, NTLMSSP_REVISION_W2K3 (informational only).
    message.extend_from_slice(&[6, 1, 0xb0, 0x1d, 0, 0, 0, 0x0f]);
    for payload in payloads {
        message.extend_from_slice(payload);
    }
    Ok(Authenticated {
        message,
        session: NtlmSession::from_key(negotiated, &exported, Side::Client),
    })
}

#[cfg(test)]
mod tests {
    //! The NTLMv2 test vectors of [MS-NLMP] §4.2.4 ("NTLMv2 Authentication"):
    //! §4.2.4.1.1 NTOWFv2, §4.2.4.1.2 session base key, §4.2.4.1.3 temp,
    //! §4.2.4.2.1–2 the LMv2 and NTLMv2 responses, §4.2.4.2.3 the encrypted
    //! session key, §4.2.4.4 GSS_WrapEx; and the SIGNKEY / SEALKEY values of
    //! the same section. Transcribed from the spec (learn.microsoft.com,
    //! openspecs ms-nlmp, pages 946f54bd…, fa2bc0f0…, 7e2b35f9…, 54973495…,
    //! 4a84eb20…, 9cdb7bb2…), as also used by pyspnego's test suite.
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn creds() -> NtlmCredentials {
        NtlmCredentials {
            user: "User".into(),
            domain: "Domain".into(),
            password: "Password".into(),
        }
    }

    const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
    const CLIENT_CHALLENGE: [u8; 8] = [0xaa; 8];
    const RANDOM_SESSION_KEY: [u8; 16] = [0x55; 16];

    /// §4.2.4: MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", EOL.
    fn target_info() -> Vec<u8> {
        hex("02000c00 44006f006d00610069006e00 01000c00 5300650072007600650072 00 00000000")
    }

    #[test]
    fn ms_nlmp_4_2_4_ntowfv2() {
        assert_eq!(
            ntowfv2(&creds()).to_vec(),
            hex("0c868a403bfd7a93a3001ef22ef02e3f")
        );
    }

    #[test]
    fn ms_nlmp_4_2_4_responses_and_keys() {
        let v2 = compute_response_v2(
            &ntowfv2(&creds()),
            &SERVER_CHALLENGE,
            &CLIENT_CHALLENGE,
            0,
            &target_info(),
        );
        let mut nt = hex("68cd0ab851e51c96aabc927bebef6a1c");
        nt.extend(hex(
            "01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000 02000c00\
             44006f006d00610069006e00 01000c00 530065007200760065007200 00000000 00000000",
        ));
        assert_eq!(v2.nt_response, nt);
        assert_eq!(
            v2.lm_response,
            hex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
        );
        assert_eq!(
            v2.session_base_key.to_vec(),
            hex("8de40ccadbc14a82f15cb0ad0de95ca3")
        );
        let mut encrypted = RANDOM_SESSION_KEY;
        rc4_apply(&v2.session_base_key, &mut encrypted);
        assert_eq!(encrypted.to_vec(), hex("c5dad2544fc9799094ce1ce90bc9d03e"));
    }

    #[test]
    fn ms_nlmp_4_2_4_sign_and_seal_keys() {
        let f = flags::EXTENDED_SESSIONSECURITY | flags::NEGOTIATE_128;
        assert_eq!(
            seal_key(f, &RANDOM_SESSION_KEY, Side::Client).to_vec(),
            hex("59f600973cc4960a25480a7c196e4c58")
        );
        assert_eq!(
            seal_key(f, &RANDOM_SESSION_KEY, Side::Server).to_vec(),
            hex("9355f3a957c1583d25c4c2f11e40390e")
        );
        assert_eq!(
            sign_key(&RANDOM_SESSION_KEY, Side::Client).to_vec(),
            hex("4788dc861b4782f35d43fd98fe1a2d39")
        );
        assert_eq!(
            sign_key(&RANDOM_SESSION_KEY, Side::Server).to_vec(),
            hex("d04d6f10741041d1d246d64188d7a8ad")
        );
    }

    #[test]
    fn ms_nlmp_4_2_4_4_gss_wrapex() {
        // Connection-oriented, as in the spec's example (flags 0xe28a8233
        // without DATAGRAM): the sealed "Plaintext" and its signature.
        let negotiated = 0xe28a_8233;
        assert_eq!(negotiated & flags::DATAGRAM, 0);
        let mut session = NtlmSession::from_key(negotiated, &RANDOM_SESSION_KEY, Side::Client);
        let mut data = utf16le("Plaintext");
        let sig = session.seal(0, &mut data);
        assert_eq!(data, hex("54e50165bf1936dc996020c1811b0f06fb5f"));
        assert_eq!(sig.to_vec(), hex("010000007fb38ec5c55d497600000000"));
    }

    fn challenge_message(flags: u32, target_info: &[u8]) -> Vec<u8> {
        let mut m = SIGNATURE.to_vec();
        m.extend_from_slice(&2u32.to_le_bytes());
        m.extend_from_slice(&[0, 0, 0, 0, 56, 0, 0, 0]); // no target name
        m.extend_from_slice(&flags.to_le_bytes());
        m.extend_from_slice(&SERVER_CHALLENGE);
        m.extend_from_slice(&[0; 8]);
        let len = u16::try_from(target_info.len()).unwrap();
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&56u32.to_le_bytes());
        m.extend_from_slice(&[6, 1, 0xb0, 0x1d, 0, 0, 0, 0x0f]);
        m.extend_from_slice(target_info);
        m
    }

    #[test]
    fn authenticate_message_carries_the_spec_responses() {
        let offered = 0xe28a_8233 | flags::DATAGRAM;
        let challenge = Challenge::parse(&challenge_message(offered, &target_info())).unwrap();
        assert_eq!(challenge.server_challenge, SERVER_CHALLENGE);
        let secrets = ClientSecrets {
            client_challenge: CLIENT_CHALLENGE,
            random_session_key: RANDOM_SESSION_KEY,
            filetime: 0,
        };
        let auth = authenticate(&creds(), &challenge, &secrets, "COMPUTER").unwrap();
        let m = &auth.message;
        assert_eq!(&m[..8], SIGNATURE);
        assert_eq!(u32_at(m, 8).unwrap(), 3);
        assert_eq!(
            field(m, 12).unwrap(),
            hex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
        );
        assert_eq!(
            &field(m, 20).unwrap()[..16],
            hex("68cd0ab851e51c96aabc927bebef6a1c")
        );
        assert_eq!(field(m, 28).unwrap(), utf16le("Domain"));
        assert_eq!(field(m, 36).unwrap(), utf16le("User"));
        assert_eq!(field(m, 44).unwrap(), utf16le("COMPUTER"));
        assert_eq!(
            field(m, 52).unwrap(),
            hex("c5dad2544fc9799094ce1ce90bc9d03e")
        );
        assert_eq!(u32_at(m, 60).unwrap(), offered & CLIENT_FLAGS);
    }

    #[test]
    fn connectionless_signatures_verify_out_of_order_and_refuse_tampering() {
        let negotiated = CLIENT_FLAGS;
        let mut client = NtlmSession::from_key(negotiated, &RANDOM_SESSION_KEY, Side::Client);
        let mut server = NtlmSession::from_key(negotiated, &RANDOM_SESSION_KEY, Side::Server);
        let s1 = client.make_signature(1, b"<NTLM><a><1>");
        let s2 = client.make_signature(2, b"<NTLM><a><2>");
        // Datagram mode: each message stands alone, in any order.
        server.verify_signature(2, b"<NTLM><a><2>", &s2).unwrap();
        server.verify_signature(1, b"<NTLM><a><1>", &s1).unwrap();
        assert_eq!(
            server.verify_signature(1, b"<NTLM><b><1>", &s1),
            Err(NtlmError::BadSignature)
        );
        assert_eq!(
            server.verify_signature(3, b"<NTLM><a><2>", &s2),
            Err(NtlmError::BadSignature)
        );
        let r = server.make_signature(7, b"response");
        client.verify_signature(7, b"response", &r).unwrap();
        // A client's signature is not a server's.
        assert!(client.verify_signature(1, b"<NTLM><a><1>", &s1).is_err());
    }

    #[test]
    fn malformed_challenges_are_errors() {
        assert!(Challenge::parse(b"").is_err());
        assert!(Challenge::parse(b"NTLMSSP\0\x03\0\0\0").is_err());
        let mut m = challenge_message(0xe28a_8233, &target_info());
        m[44] = 0xff; // target info offset past the end
        assert!(Challenge::parse(&m).is_err());
        let no_ess = Challenge::parse(&challenge_message(flags::UNICODE, &[])).unwrap();
        let secrets = ClientSecrets {
            client_challenge: CLIENT_CHALLENGE,
            random_session_key: RANDOM_SESSION_KEY,
            filetime: 0,
        };
        assert_eq!(
            authenticate(&creds(), &no_ess, &secrets, "")
                .map(|_| ())
                .unwrap_err(),
            NtlmError::Unsupported("extended session security")
        );
    }

    #[test]
    fn login_forms() {
        let c = NtlmCredentials::from_login("CONTOSO\\alice", "pw");
        assert_eq!((c.domain.as_str(), c.user.as_str()), ("CONTOSO", "alice"));
        let c = NtlmCredentials::from_login("alice@contoso.com", "pw");
        assert_eq!(
            (c.domain.as_str(), c.user.as_str()),
            ("", "alice@contoso.com")
        );
    }
}
