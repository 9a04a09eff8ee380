//! The dialog an answered INVITE creates (RFC 3261 §12.1.2), and the
//! requests sent in it: the ACK for the 2xx (§13.2.2.4) and BYE (§15.1.1).

use bytes::Bytes;
use ezk_sip_types::{Method, Name};

use super::failure::LocalFailure;
use super::request::{parse_uri, split_values, uri_in, RequestSpec};
use crate::sip::{to_tag_of, RequestIdentity, SipMessage};

/// A UAC dialog.
#[derive(Debug, Clone)]
pub(crate) struct Dialog {
    pub(crate) call_id: String,
    /// Our From, with our tag, as the INVITE sent it.
    from: String,
    /// The remote's To, with its tag, as the 2xx sent it.
    to: String,
    pub(crate) local_tag: Option<String>,
    pub(crate) remote_tag: Option<String>,
    /// Where in-dialog requests go: the 2xx's Contact.
    remote_target: String,
    /// The 2xx's Record-Route, reversed.
    route_set: Vec<String>,
    /// The CSeq of the last request we sent in the dialog.
    local_cseq: u32,
    user_agent: Option<String>,
}

impl Dialog {
    /// The dialog of `invite`'s 2xx `response`; `target` stands in for a
    /// missing or unusable Contact.
    pub(crate) fn from_2xx(
        invite: &SipMessage,
        response: &SipMessage,
        target: &str,
        cseq: u32,
    ) -> Dialog {
        let header = |message: &SipMessage, name: &Name| {
            message.header_value(name).unwrap_or_default().to_owned()
        };
        let remote_target = response
            .header_values(&Name::CONTACT)
            .flat_map(split_values)
            .map(uri_in)
            .map(without_headers)
            .find(|uri| parse_uri(uri).is_ok())
            .unwrap_or(target)
            .to_owned();
        let mut route_set: Vec<String> = response
            .header_values(&Name::RECORD_ROUTE)
            .flat_map(split_values)
            .map(str::to_owned)
            .collect();
        route_set.reverse();
        Dialog {
            call_id: header(invite, &Name::CALL_ID).trim().to_owned(),
            from: header(invite, &Name::FROM),
            to: header(response, &Name::TO),
            local_tag: RequestIdentity::from_request(invite)
                .ok()
                .and_then(|identity| identity.from_tag),
            remote_tag: to_tag_of(response),
            remote_target,
            route_set,
            local_cseq: cseq,
            user_agent: invite.header_value(&Name::USER_AGENT).map(str::to_owned),
        }
    }

    /// A request of `method` in the dialog with CSeq `cseq`.
    pub(crate) fn request(&self, method: Method, cseq: u32) -> Result<SipMessage, LocalFailure> {
        RequestSpec {
            method,
            uri: &self.remote_target,
            from: &self.from,
            to: &self.to,
            call_id: &self.call_id,
            cseq,
            contact: None,
            routes: &self.route_set,
            user_agent: self.user_agent.as_deref(),
            extra: &[],
            content_type: None,
            body: Bytes::new(),
        }
        .build()
    }

    /// The ACK for the 2xx: the INVITE's CSeq number, method ACK.
    pub(crate) fn ack(&self, invite_cseq: u32) -> Result<SipMessage, LocalFailure> {
        self.request(Method::ACK, invite_cseq)
    }

    /// The CSeq for the next request (one above the last).
    pub(crate) fn next_cseq(&mut self) -> u32 {
        self.local_cseq = self.local_cseq.saturating_add(1);
        self.local_cseq
    }

    /// Records that a request went out with CSeq `cseq` (a resend after a
    /// challenge uses one more than [`next_cseq`](Self::next_cseq) gave).
    pub(crate) fn sent_cseq(&mut self, cseq: u32) {
        self.local_cseq = self.local_cseq.max(cseq);
    }

    /// Whether `request` (from the server) belongs to this dialog: same
    /// Call-ID, its From tag the remote tag and its To tag ours.
    pub(crate) fn matches(&self, request: &SipMessage) -> bool {
        let Ok(identity) = RequestIdentity::from_request(request) else {
            return false;
        };
        identity.call_id == self.call_id
            && identity.to_tag == self.local_tag
            && (self.remote_tag.is_none() || identity.from_tag == self.remote_tag)
    }
}

/// `uri` without its headers component (`?X-Foo=bar`): RFC 3261 §19.1.5
/// forbids them in a Request-URI, and §12.1.2 makes the Contact the remote
/// target, so they come off before it is used. A `?` in the user part
/// (allowed there, §25.1 `user-unreserved`) is not the start of headers.
pub(crate) fn without_headers(uri: &str) -> &str {
    let host_from = uri
        .find('@')
        .map_or_else(|| uri.find(':').map_or(0, |c| c + 1), |at| at + 1);
    match uri.get(host_from..).and_then(|rest| rest.find('?')) {
        Some(q) => uri.get(..host_from + q).unwrap_or(uri),
        None => uri,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::FramingLimits;

    fn parse(text: &str) -> SipMessage {
        SipMessage::parse(text.as_bytes(), &FramingLimits::default()).unwrap()
    }

    #[test]
    fn a_dialog_from_a_2xx_and_its_requests() {
        let invite = parse(
            "INVITE sip:bob@contoso.com SIP/2.0\r\nFrom: <sip:alice@contoso.com>;tag=a1\r\n\
             To: <sip:bob@contoso.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        );
        let ok = parse(
            "SIP/2.0 200 OK\r\nFrom: <sip:alice@contoso.com>;tag=a1\r\nTo: <sip:bob@contoso.com>;tag=b2\r\n\
             Call-ID: c1\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@192.0.2.5:5061;transport=tls>\r\n\
             Record-Route: <sip:p1.contoso.com;lr>, <sip:p2.contoso.com;lr>\r\nContent-Length: 0\r\n\r\n",
        );
        let mut dialog = Dialog::from_2xx(&invite, &ok, "sip:bob@contoso.com", 1);
        let ack = dialog.ack(1).unwrap().to_string();
        assert!(
            ack.starts_with("ACK sip:bob@192.0.2.5:5061;transport=tls SIP/2.0\r\n"),
            "{ack}"
        );
        assert!(ack.contains("CSeq: 1 ACK\r\n"));
        assert!(ack.contains("To: <sip:bob@contoso.com>;tag=b2\r\n"));
        let routes: Vec<_> = ack.lines().filter(|l| l.starts_with("Route:")).collect();
        assert_eq!(
            routes,
            [
                "Route: <sip:p2.contoso.com;lr>",
                "Route: <sip:p1.contoso.com;lr>"
            ]
        );
        let cseq = dialog.next_cseq();
        let bye = dialog.request(Method::BYE, cseq).unwrap().to_string();
        assert!(bye.contains("CSeq: 2 BYE\r\n"));

        let server_bye = parse(
            "BYE sip:alice@127.0.0.1 SIP/2.0\r\nFrom: <sip:bob@contoso.com>;tag=b2\r\n\
             To: <sip:alice@contoso.com>;tag=a1\r\nCall-ID: c1\r\nCSeq: 9 BYE\r\nContent-Length: 0\r\n\r\n",
        );
        assert!(dialog.matches(&server_bye));
        let other = parse(
            "BYE sip:alice@127.0.0.1 SIP/2.0\r\nFrom: <sip:bob@contoso.com>;tag=zz\r\n\
             To: <sip:alice@contoso.com>;tag=a1\r\nCall-ID: c1\r\nCSeq: 9 BYE\r\nContent-Length: 0\r\n\r\n",
        );
        assert!(!dialog.matches(&other));
    }

    /// Issue 17 item 10: a 2xx whose Contact carries URI headers. They are
    /// not copied into the ACK's or the BYE's Request-URI (RFC 3261 §19.1.5).
    #[test]
    fn contact_uri_headers_stay_out_of_the_request_uri() {
        let invite = parse(
            "INVITE sip:bob@contoso.com SIP/2.0\r\nFrom: <sip:alice@contoso.com>;tag=a1\r\n\
             To: <sip:bob@contoso.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        );
        let ok = parse(
            "SIP/2.0 200 OK\r\nFrom: <sip:alice@contoso.com>;tag=a1\r\nTo: <sip:bob@contoso.com>;tag=b2\r\n\
             Call-ID: c1\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:bob@192.0.2.5:5061;transport=tls?X-Inject=evil&Subject=x>\r\n\
             Content-Length: 0\r\n\r\n",
        );
        let mut dialog = Dialog::from_2xx(&invite, &ok, "sip:bob@contoso.com", 1);
        let ack = dialog.ack(1).unwrap().to_string();
        assert!(
            ack.starts_with("ACK sip:bob@192.0.2.5:5061;transport=tls SIP/2.0\r\n"),
            "{ack}"
        );
        let cseq = dialog.next_cseq();
        let bye = dialog.request(Method::BYE, cseq).unwrap().to_string();
        assert!(
            bye.starts_with("BYE sip:bob@192.0.2.5:5061;transport=tls SIP/2.0\r\n"),
            "{bye}"
        );
        assert!(!bye.contains("X-Inject"), "{bye}");
        assert_eq!(without_headers("sip:a?b@host?h=1"), "sip:a?b@host");
        assert_eq!(without_headers("sip:host;lr?h=1"), "sip:host;lr");
        assert_eq!(without_headers("sips:host"), "sips:host");
    }
}
