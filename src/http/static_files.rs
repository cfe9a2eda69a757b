//! How files fixed at build time are served (the console, widget.js, Swagger UI): the encoding
//! picked by `Accept-Encoding` among brotli, gzip and the file as it is, a strong ETag per
//! encoding with `304 Not Modified` on `If-None-Match`, and a `Cache-Control` chosen per file.
//! The console's and the widget's compressed forms are made when the binary is built (build.rs);
//! Swagger UI, vendored by a crate, is gzipped once when first asked for. Which files there are is
//! the callers' business.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// How long a browser may reuse a file without asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caching {
    /// Ask every time (cheap with the ETag): files whose URL stays the same across upgrades,
    /// such as the console's pages and widget.js, which sites embed by a fixed address.
    Revalidate,
    /// Keep for a day: a vendored library that changes only with the binary's dependencies.
    Day,
}

impl Caching {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Caching::Revalidate => "no-cache",
            Caching::Day => "public, max-age=86400",
        })
    }
}

/// A content coding a client may accept, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Coding {
    fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
            Coding::Identity => "identity",
        }
    }
}

/// One file, with its compressed forms when compressing pays.
pub struct StaticFile {
    content_type: HeaderValue,
    caching: Caching,
    identity: Bytes,
    brotli: Option<Bytes>,
    gzip: Option<Bytes>,
    /// The identity ETag without quotes; compressed forms append their coding.
    tag: String,
}

impl StaticFile {
    /// Gzips `body` now (text only: images and fonts are compressed already). For files that
    /// are not known when the binary is built; theirs are offered in gzip and as they are.
    pub fn new(content_type: &str, caching: Caching, body: impl Into<Bytes>) -> Self {
        let identity = body.into();
        let gzip = is_compressible(content_type)
            .then(|| gzip(&identity))
            .filter(|packed| packed.len() < identity.len())
            .map(Bytes::from);
        StaticFile::with_forms(content_type, caching, identity, None, gzip)
    }

    /// A file whose compressed forms build.rs made: all three live in the binary and are sent
    /// from there, no copy made. An empty form is one that did not make the file smaller.
    pub fn built(
        content_type: &str,
        caching: Caching,
        identity: &'static [u8],
        brotli: &'static [u8],
        gzip: &'static [u8],
    ) -> Self {
        // Like `new`, only text is offered compressed, whatever build.rs made.
        let compressible = is_compressible(content_type);
        let form = |packed: &'static [u8]| {
            (compressible && !packed.is_empty()).then(|| Bytes::from_static(packed))
        };
        StaticFile::with_forms(
            content_type,
            caching,
            Bytes::from_static(identity),
            form(brotli),
            form(gzip),
        )
    }

    fn with_forms(
        content_type: &str,
        caching: Caching,
        identity: Bytes,
        brotli: Option<Bytes>,
        gzip: Option<Bytes>,
    ) -> Self {
        let digest = Sha256::digest(&identity);
        StaticFile {
            content_type: HeaderValue::from_str(content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            caching,
            tag: hex::encode(&digest[..12]),
            identity,
            brotli,
            gzip,
        }
    }

    fn etag(&self, coding: Coding) -> HeaderValue {
        let tag = match coding {
            Coding::Identity => format!("\"{}\"", self.tag),
            other => format!("\"{}-{}\"", self.tag, other.token()),
        };
        HeaderValue::try_from(tag).expect("hex and a coding name make a header value")
    }

    fn body(&self, coding: Coding) -> Option<&Bytes> {
        match coding {
            Coding::Brotli => self.brotli.as_ref(),
            Coding::Gzip => self.gzip.as_ref(),
            Coding::Identity => Some(&self.identity),
        }
    }

    /// Whether the client's `If-None-Match` names this file in any of its encodings: the
    /// content is the same whichever coding the cached copy came in.
    fn is_cached_by(&self, request: &HeaderMap) -> bool {
        request
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|tag| tag.trim().trim_start_matches("W/").trim_matches('"'))
            .any(|tag| {
                tag == "*"
                    || tag
                        .strip_prefix(self.tag.as_str())
                        .is_some_and(|rest| matches!(rest, "" | "-br" | "-gzip"))
            })
    }

    /// The answer to a GET for this file.
    pub fn response(&self, request: &HeaderMap) -> Response {
        let coding = [Coding::Brotli, Coding::Gzip]
            .into_iter()
            .find(|c| self.body(*c).is_some() && accepts(request, c.token()))
            .unwrap_or(Coding::Identity);
        let varies = self.brotli.is_some() || self.gzip.is_some();
        let mut headers = HeaderMap::new();
        headers.insert(header::ETAG, self.etag(coding));
        headers.insert(header::CACHE_CONTROL, self.caching.header());
        if varies {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        if self.is_cached_by(request) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(header::CONTENT_TYPE, self.content_type.clone());
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if coding != Coding::Identity {
            headers.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(coding.token()),
            );
        }
        let body = self.body(coding).cloned().unwrap_or_default();
        (headers, body).into_response()
    }
}

/// A file or table of files, made on its first request on a blocking thread rather than an async
/// one. Not at start: a hub that never serves Swagger UI keeps no gzipped copy of it (its 1.4 MB
/// bundle costs a core for a fraction of a second).
pub async fn compressed<T: Send + Sync>(files: &'static LazyLock<T>) -> &'static T {
    if tokio::task::spawn_blocking(move || {
        LazyLock::force(files);
    })
    .await
    .is_err()
    {
        tracing::warn!("compressing static files failed off-thread; trying inline");
    }
    files
}

/// Files by name, compressed when the table is built.
pub struct StaticFiles(HashMap<String, StaticFile>);

impl StaticFiles {
    pub fn new(files: impl IntoIterator<Item = (String, StaticFile)>) -> Self {
        StaticFiles(files.into_iter().collect())
    }

    pub fn get(&self, name: &str) -> Option<&StaticFile> {
        self.0.get(name)
    }
}

fn is_compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/javascript" | "application/json" | "image/svg+xml"
        )
}

/// Whether `Accept-Encoding` takes `coding` (named, or `*`, with a q-value above zero).
fn accepts(request: &HeaderMap, coding: &str) -> bool {
    let mut named = None;
    let mut any = None;
    for item in request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            named = Some(q > 0.0);
        } else if name == "*" {
            any = Some(q > 0.0);
        }
    }
    named.or(any).unwrap_or(false)
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .expect("compressing into memory cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    /// A file with all three forms, as build.rs makes them (the forms' bytes do not matter here).
    fn text() -> StaticFile {
        StaticFile::with_forms(
            "text/javascript; charset=utf-8",
            Caching::Revalidate,
            Bytes::from("console.log('hello');\n".repeat(200)),
            Some(Bytes::from_static(b"brotli form")),
            Some(Bytes::from_static(b"gzip form")),
        )
    }

    #[test]
    fn the_best_accepted_coding_is_chosen() {
        let accept = |v: &str| request(&[(header::ACCEPT_ENCODING, v)]);
        assert!(accepts(&accept("gzip, deflate, br"), "br"));
        assert!(accepts(&accept("gzip;q=1.0, br;q=0.5"), "br"));
        assert!(!accepts(&accept("gzip, br;q=0"), "br"));
        assert!(accepts(&accept("*"), "gzip"));
        assert!(!accepts(&accept("*, gzip;q=0"), "gzip"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));

        let file = text();
        let encoding = |v: &str| {
            file.response(&accept(v))
                .headers()
                .get(header::CONTENT_ENCODING)
                .map(|e| e.to_str().unwrap().to_string())
        };
        assert_eq!(encoding("gzip, br").as_deref(), Some("br"));
        assert_eq!(encoding("gzip").as_deref(), Some("gzip"));
        assert_eq!(encoding("identity"), None);
    }

    #[test]
    fn any_encodings_etag_revalidates() {
        let file = text();
        for coding in [Coding::Identity, Coding::Brotli, Coding::Gzip] {
            let tag = file.etag(coding);
            let asked = request(&[(header::IF_NONE_MATCH, tag.to_str().unwrap())]);
            assert_eq!(file.response(&asked).status(), StatusCode::NOT_MODIFIED);
        }
        let other = request(&[(header::IF_NONE_MATCH, "\"0123\", W/\"4567\"")]);
        assert_eq!(file.response(&other).status(), StatusCode::OK);
    }

    #[test]
    fn a_file_made_at_run_time_is_gzipped_and_the_gzip_unpacks_to_it() {
        let body = "console.log('hello');\n".repeat(200);
        let file = StaticFile::new("text/javascript", Caching::Day, body.clone());
        assert!(file.brotli.is_none());
        let packed = file.gzip.as_ref().expect("text gzips");
        let mut unpacked = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&packed[..]),
            &mut unpacked,
        )
        .unwrap();
        assert_eq!(unpacked, body);
    }

    #[test]
    fn a_built_file_without_a_form_is_not_offered_in_it() {
        static BODY: &[u8] = b"tiny";
        let file = StaticFile::built("text/plain", Caching::Revalidate, BODY, b"", b"");
        let accept = request(&[(header::ACCEPT_ENCODING, "gzip, br")]);
        let response = file.response(&accept);
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
        assert!(response.headers().get(header::VARY).is_none());
    }

    #[test]
    fn images_and_tiny_files_go_out_as_they_are() {
        let png = StaticFile::new("image/png", Caching::Day, vec![7u8; 4096]);
        assert!(png.brotli.is_none() && png.gzip.is_none());
        let tiny = StaticFile::new("text/plain", Caching::Revalidate, b"a".to_vec());
        assert!(tiny.brotli.is_none() && tiny.gzip.is_none());
        assert!(tiny
            .response(&HeaderMap::new())
            .headers()
            .get(header::VARY)
            .is_none());
    }
}
