//! # ocer
//!
//! A SIP client SDK for Lync / Skype for Business–style servers that implements
//! **[MS-OCER] Client Error Reporting**.
//!
//! (Overview written at integration time.)

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod diag;
pub mod report;
pub mod sip;

#[cfg(feature = "ua")]
pub mod ua;
