//! Authentication for signing in to a Lync / Skype for Business pool
//! (sans-IO): NTLM ([MS-NLMP]) and the SIP side of it, [MS-SIPAE].

pub mod ntlm;
pub mod sipae;
