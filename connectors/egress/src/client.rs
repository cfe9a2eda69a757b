//! The guarded client: every outgoing request's URL is checked before it is sent, every host
//! name is checked again after it resolves (the resolver drops internal addresses, so DNS cannot
//! point a public name at the metadata service), and no redirect is ever followed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Method, RequestBuilder};
use url::Url;

use crate::policy::{EgressPolicy, Refused};

/// How a guarded client behaves besides the guard.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            user_agent: "Switchboard".into(),
        }
    }
}

/// The only way outgoing HTTP leaves the hub. Cheap to clone.
#[derive(Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    policy: Arc<EgressPolicy>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

impl GuardedClient {
    pub fn new(policy: EgressPolicy, options: ClientOptions) -> Result<GuardedClient, BuildError> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(options.user_agent)
            // A 3xx is an answer, not an instruction: following it would carry the signed body
            // to wherever the receiver (or an attacker controlling it) points.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names itself, out of the resolver's sight.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .build()?;
        Ok(GuardedClient { client, policy })
    }

    pub fn policy(&self) -> &EgressPolicy {
        &self.policy
    }

    /// A request to `url`, or why it may not be made. Literal IP addresses never reach the
    /// resolver, so they are checked here.
    pub fn request(&self, method: Method, url: &str) -> Result<RequestBuilder, Refused> {
        let parsed = Url::parse(url).map_err(|e| Refused::BadUrl(e.to_string()))?;
        self.policy.check_url(&parsed)?;
        Ok(self.client.request(method, parsed))
    }

    pub fn post(&self, url: &str) -> Result<RequestBuilder, Refused> {
        self.request(Method::POST, url)
    }

    pub fn get(&self, url: &str) -> Result<RequestBuilder, Refused> {
        self.request(Method::GET, url)
    }
}

/// The refusal behind a failed request, if the guard is why it failed.
pub fn refusal(error: &reqwest::Error) -> Option<&Refused> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        cause = e.source();
    }
    None
}

struct GuardedResolver {
    policy: Arc<EgressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            // Port 0: the client puts the URL's port on each address.
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed = policy.filter_resolved(&host, resolved.map(|a| a.ip()))?;
            let addrs: Addrs = Box::new(allowed.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}
