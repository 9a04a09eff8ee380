//! Framing of SIP messages on streams and datagrams.
