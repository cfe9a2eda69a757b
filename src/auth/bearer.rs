//! Where a request carries its token: `Authorization: Bearer <token>`, or for WebSockets, which
//! browsers cannot give headers, `?token=`. The one reader for the API, the widget, the
//! consoles' sockets and /metrics.

use axum::http::{header, HeaderMap};

/// The token of `Authorization: Bearer <token>` (the scheme in any case), if there is one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The `token` parameter of a query string: how a browser's WebSocket presents its token.
pub fn query_token(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn a_bearer_token_is_read_in_any_case_and_nothing_else_is() {
        assert_eq!(
            bearer_token(&with_authorization("Bearer sbs_abc")),
            Some("sbs_abc")
        );
        assert_eq!(
            bearer_token(&with_authorization("bearer  sbs_abc ")),
            Some("sbs_abc")
        );
        assert_eq!(bearer_token(&with_authorization("Basic dXNlcg==")), None);
        assert_eq!(bearer_token(&with_authorization("Bearer ")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn a_socket_token_comes_from_the_query() {
        assert_eq!(
            query_token(Some("after=3&token=wv1.a%2Bb")).as_deref(),
            Some("wv1.a+b")
        );
        assert_eq!(query_token(Some("token=")), None);
        assert_eq!(query_token(None), None);
    }
}
