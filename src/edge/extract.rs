//! Request extractors with the API's error shape: JSON bodies that fail clearly (400 for bytes
//! that are not JSON, 422 for JSON that does not fit), the caller's `Principal`, and cursors.

use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::client_address::TrustedProxies;
use super::error::ApiError;
use crate::store::{Page, Principal};

/// A JSON body. Rejections are the API's errors, with what went wrong and where.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json") || v.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| match rejection {
                axum::extract::rejection::BytesRejection::FailedToBufferBody(e)
                    if is_length_limit(&e) =>
                {
                    ApiError::PayloadTooLarge
                }
                other => ApiError::BadRequest(other.body_text()),
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_length_limit(e: &axum::extract::rejection::FailedToBufferBody) -> bool {
    matches!(
        e,
        axum::extract::rejection::FailedToBufferBody::LengthLimitError(_)
    )
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(ApiError::BadRequest(format!(
            "request body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        )));
    }
    // Every body of this API is an object. serde would also fill a struct from an array of its
    // fields in order (`[null, null]`), which nobody means and nothing documents. Bytes that are
    // not JSON at all go on to the parser below, which says where they break (400).
    let starts_as_object = bytes.trim_ascii_start().first() == Some(&b'{');
    if !starts_as_object && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        return Err(ApiError::Unprocessable(
            "invalid request: the body must be a JSON object".into(),
        ));
    }
    // Through serde_path_to_error so that a type error names the field (`contact.email: …`).
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        use serde_json::error::Category;
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            Category::Data if path == "." => {
                ApiError::Unprocessable(format!("invalid request: {inner}"))
            }
            Category::Data => {
                ApiError::Unprocessable(format!("invalid request: `{path}`: {inner}"))
            }
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::BadRequest(format!("malformed JSON: {inner}"))
            }
        }
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// The authenticated caller, put in the request by the access layer of the route table.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

/// `?limit=&cursor=` on every listing.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// How many items, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Result<Page, ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::BadRequest(
                "`limit` must be between 1 and 200".into(),
            ));
        }
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(Page { after, limit })
    }
}

pub fn encode_cursor(key: (i64, i64)) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}:{}", key.0, key.1))
}

fn decode_cursor(raw: &str) -> Result<(i64, i64), ApiError> {
    let bad = || ApiError::BadRequest("`cursor` is not one this API gave out".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (a, b) = text.split_once(':').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
}

/// A page of results and where the next one starts.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    pub fn new(data: Vec<T>, limit: i64, key: impl Fn(&T) -> (i64, i64)) -> Self {
        let next_cursor = (data.len() as i64 == limit)
            .then(|| data.last().map(|last| encode_cursor(key(last))))
            .flatten();
        Paged { data, next_cursor }
    }
}

/// Path and query parameters with the API's error shape instead of axum's plain-text rejections.
pub struct ApiPath<T>(pub T);
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// The client's address: as the socket saw it, or, from a trusted reverse proxy, the address it
/// forwarded for (see `client_address`).
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    TrustedProxies: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let proxies = TrustedProxies::from_ref(state);
        Ok(ClientIp(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| proxies.client(c.0.ip(), &parts.headers)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
    }

    #[test]
    fn bad_bodies_get_the_right_status() {
        let status = |bytes: &[u8]| parse_json::<Body>(bytes).unwrap_err().status().as_u16();
        assert_eq!(status(b"{\"name\": "), 400);
        assert_eq!(status(b"not json"), 400);
        assert_eq!(status(b"{\"name\": \"\xff\xfe\"}"), 400);
        assert_eq!(status(b"{\"name\": \"a\", \"extra\": 1}"), 422);
        assert_eq!(status(b"{\"name\": 5}"), 422);
        assert_eq!(status(b"{}"), 422);
        assert_eq!(
            status(b"[\"a\"]"),
            422,
            "an array is not the object it spells"
        );
        assert_eq!(status(b"\"a\""), 422);
    }

    #[test]
    fn cursors_round_trip_and_forgeries_are_refused() {
        let cursor = encode_cursor((1_700_000_000_000, 42));
        let page = PageQuery {
            limit: None,
            cursor: Some(cursor),
        }
        .page()
        .unwrap();
        assert_eq!(page.after, Some((1_700_000_000_000, 42)));
        assert_eq!(page.limit, 50);
        assert!(PageQuery {
            limit: None,
            cursor: Some("zz".into())
        }
        .page()
        .is_err());
        assert!(PageQuery {
            limit: Some(0),
            cursor: None
        }
        .page()
        .is_err());
    }
}
