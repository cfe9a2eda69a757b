//! Who a visitor session is for, decided before anything is written: whether the browser's
//! stored visitor token may be continued, and which contact identities the session claims. Only
//! verified facts claim identities; what a visitor types is theirs alone and never matches
//! anyone (see `Unverified`).

use switchboard_connector_core::Identity;

use super::identity::VerifiedIdentity;
use super::VisitorClaims;
use crate::domain::Id;

/// Anonymous browsers of one inbox: a random id the widget keeps.
pub fn visitor_identity(inbox_id: Id, visitor_id: &str) -> Identity {
    Identity::new(format!("web_chat:{inbox_id}"), visitor_id)
}

/// People the host site vouched for, shared by all of that person's devices.
pub fn verified_identity(inbox_id: Id, identifier: &str) -> Identity {
    Identity::new(format!("site:{inbox_id}"), identifier)
}

/// A stored token is continued only by the same person: the same verified identifier, or an
/// anonymous visitor again. A token of someone verified is never handed to someone else (a
/// shared browser), nor to an anonymous visitor after that person signed out; and anonymous
/// history is not carried into a verified identity, since on a shared browser it may be someone
/// else's.
pub fn continues(previous: &VisitorClaims, verified: Option<&VerifiedIdentity>) -> bool {
    previous.verified.as_deref() == verified.map(|v| v.identifier.as_str())
}

/// The identities a session claims, strongest first: the verified identifier alone (and the
/// email the site signed, which joins that person's other channels), or the browser's id.
pub fn claimed_identities(
    inbox_id: Id,
    visitor_id: &str,
    verified: Option<&VerifiedIdentity>,
) -> Vec<Identity> {
    match verified {
        Some(who) => {
            let mut identities = vec![verified_identity(inbox_id, &who.identifier)];
            if let Some(email) = who.email.as_deref().filter(|e| !e.trim().is_empty()) {
                identities.push(Identity::email(email));
            }
            identities
        }
        None => vec![visitor_identity(inbox_id, visitor_id)],
    }
}

/// The identities of a visitor already in session (its token's claims).
pub fn session_identities(claims: &VisitorClaims) -> Vec<Identity> {
    vec![match &claims.verified {
        Some(identifier) => verified_identity(claims.inbox_id, identifier),
        None => visitor_identity(claims.inbox_id, &claims.visitor_id),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(verified: Option<&str>) -> VisitorClaims {
        VisitorClaims {
            workspace_id: 1,
            inbox_id: 2,
            contact_id: 3,
            visitor_id: "browser".into(),
            verified: verified.map(String::from),
            issued_at: 0,
            expires_at: None,
        }
    }

    fn who(identifier: &str, email: Option<&str>) -> VerifiedIdentity {
        VerifiedIdentity {
            identifier: identifier.into(),
            name: None,
            email: email.map(String::from),
            expires_at: None,
        }
    }

    #[test]
    fn only_the_same_person_continues_a_stored_token() {
        let alice = who("alice", None);
        let bob = who("bob", None);
        assert!(continues(&token(Some("alice")), Some(&alice)));
        assert!(continues(&token(None), None));
        assert!(
            !continues(&token(Some("alice")), Some(&bob)),
            "shared browser"
        );
        assert!(
            !continues(&token(Some("alice")), None),
            "after Alice signed out"
        );
        assert!(
            !continues(&token(None), Some(&alice)),
            "anonymous history stays anonymous"
        );
    }

    #[test]
    fn a_verified_session_claims_what_the_site_signed_and_nothing_typed() {
        assert_eq!(
            claimed_identities(2, "browser", Some(&who("u1", Some(" Dana@Example.org")))),
            vec![
                Identity::new("site:2", "u1"),
                Identity::new("email", "dana@example.org")
            ]
        );
        assert_eq!(
            claimed_identities(2, "browser", Some(&who("u1", None))),
            vec![Identity::new("site:2", "u1")]
        );
        assert_eq!(
            claimed_identities(2, "browser", None),
            vec![Identity::new("web_chat:2", "browser")]
        );
        assert_eq!(
            session_identities(&token(Some("u1"))),
            vec![Identity::new("site:2", "u1")]
        );
        assert_eq!(
            session_identities(&token(None)),
            vec![Identity::new("web_chat:2", "browser")]
        );
    }
}
