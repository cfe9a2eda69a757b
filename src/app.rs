//! Putting the hub together: open the store, make sure a workspace and an owner exist, start the
//! channels' background tasks, the dispatcher and the HTTP server. `Application::build` binds first (port 0 in tests) so the
//! caller knows the address before anything is served.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::auth::{hash_password, random_token, LoginLimiter, LoginPolicy};
use crate::bus::{EventBus, InProcessBus};
use crate::channels::{ChannelContext, ChannelRegistry};
use crate::config::Settings;
use crate::crypto::SecretBox;
use crate::desk::Desk;
use crate::domain::{EmailAddress, Role};
use crate::http::{AppState, Shared};
use crate::outbound::Dispatcher;
use crate::store::{NewUser, Store, StoreOptions};

pub struct Application {
    addr: SocketAddr,
    state: AppState,
    first_start: Option<FirstStart>,
    server: JoinHandle<std::io::Result<()>>,
    dispatcher: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
    /// Listeners channels opened (forwarded mail), by name.
    listeners: Vec<(&'static str, SocketAddr)>,
    shutdown: watch::Sender<bool>,
}

/// What the first start created; the password only when it was generated here.
#[derive(Clone, Debug)]
pub struct FirstStart {
    pub workspace: String,
    pub owner_email: String,
    pub generated_password: Option<String>,
}

/// Opens the configured store, creating the data directory an embedded database needs.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    std::fs::create_dir_all(&settings.server.data_dir).with_context(|| {
        format!(
            "cannot create data directory {}",
            settings.server.data_dir.display()
        )
    })?;
    let options = StoreOptions {
        max_connections: settings.database.max_connections,
        sqlite_synchronous: settings.database.sqlite_synchronous.clone(),
        group_commit_max: settings.database.group_commit_max,
    };
    let url = settings.database_url();
    crate::store::open(&url, &options).await.with_context(|| {
        format!(
            "cannot open the database at {}",
            crate::store::redact_url(&url)
        )
    })
}

pub fn secret_box(settings: &Settings) -> anyhow::Result<SecretBox> {
    let key = &settings.security.secret_key;
    if key.is_empty() {
        let path = settings.server.data_dir.join("secret.key");
        SecretBox::from_key_file(&path)
            .with_context(|| format!("cannot use the key file {}", path.display()))
    } else {
        SecretBox::from_base64(key.expose()).context("security.secret_key")
    }
}

/// On an empty store: one workspace and its owner, from SWITCHBOARD_OWNER_EMAIL and
/// SWITCHBOARD_OWNER_PASSWORD when set, otherwise with a generated password shown once.
pub async fn ensure_workspace(store: &dyn Store) -> anyhow::Result<Option<FirstStart>> {
    if !store.list_workspaces().await?.is_empty() {
        return Ok(None);
    }
    let workspace = store.create_workspace("My workspace").await?;
    let email = std::env::var("SWITCHBOARD_OWNER_EMAIL")
        .unwrap_or_else(|_| "owner@switchboard.local".into());
    let email = EmailAddress::parse(&email)
        .map_err(anyhow::Error::msg)
        .context("SWITCHBOARD_OWNER_EMAIL")?;
    let (password, generated) = match std::env::var("SWITCHBOARD_OWNER_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (random_token(12), true),
    };
    let password_hash = hash_password(&password)
        .map_err(anyhow::Error::msg)
        .context("SWITCHBOARD_OWNER_PASSWORD")?;
    store
        .create_user(NewUser {
            workspace_id: workspace.id,
            email: email.clone(),
            name: "Owner".into(),
            role: Role::Owner,
            password_hash,
        })
        .await?;
    Ok(Some(FirstStart {
        workspace: workspace.name,
        owner_email: email.as_str().to_string(),
        generated_password: generated.then_some(password),
    }))
}

/// The one client outgoing HTTP goes through, guarded by the operator's allow-list.
pub fn outbound_client(settings: &Settings) -> anyhow::Result<switchboard_egress::GuardedClient> {
    let options = switchboard_egress::ClientOptions {
        user_agent: concat!("Switchboard/", env!("CARGO_PKG_VERSION")).into(),
        ..Default::default()
    };
    Ok(switchboard_egress::GuardedClient::new(
        settings.outbound.policy()?,
        options,
    )?)
}

impl Application {
    /// The hub with the standard channels.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Application::build_with(settings, ChannelRegistry::standard()).await
    }

    /// The hub with these channels: the standard ones plus a deployment's (or a test's) own.
    pub async fn build_with(
        settings: Settings,
        channels: ChannelRegistry,
    ) -> anyhow::Result<Application> {
        crate::telemetry::install_crypto_provider();
        let store = open_store(&settings).await?;
        let secrets = secret_box(&settings)?;
        let first_start = ensure_workspace(store.as_ref()).await?;
        let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::new(4096));
        let listener = tokio::net::TcpListener::bind(&settings.server.addr)
            .await
            .with_context(|| format!("cannot listen on {}", settings.server.addr))?;
        let addr = listener.local_addr()?;
        crate::http::listener::raise_open_files_limit();
        let ceiling = crate::http::listener::ceiling(settings.server.max_connections);
        let dispatch_wake = Arc::new(Notify::new());
        let (shutdown, shutdown_rx) = watch::channel(false);
        let desk = Desk::with(
            store.clone(),
            bus.clone(),
            dispatch_wake.clone(),
            settings.routing.enabled,
        )
        .with_phone_region(settings.contacts.phone_region()?);
        desk.read_stored_phones_in_region().await?;
        let channels = Arc::new(channels);
        let channel_context = ChannelContext {
            desk: desk.clone(),
            secrets: secrets.clone(),
            settings: Arc::new(settings.clone()),
            http: outbound_client(&settings)?,
        };
        let channel_tasks = channels.start(&channel_context, &shutdown_rx).await?;
        let email = crate::channels::email::EmailChannel::mail_side(&channels, &channel_context);
        let dispatcher = Dispatcher::new(
            settings.dispatcher.clone(),
            channels.clone(),
            channel_context.clone(),
        );
        let dispatcher = tokio::spawn(dispatcher.run(dispatch_wake.clone(), shutdown_rx.clone()));
        let signals = Arc::new(crate::signals::Signals::new(1024));
        let visitor_hub = crate::widget::hub::VisitorHub::new();
        let hub_task = tokio::spawn(visitor_hub.clone().run(desk.clone(), signals.clone()));
        let widget_throttle = crate::auth::Throttle::new(
            settings.widget.requests_per_minute,
            Duration::from_secs(60),
        );
        let visitor_tokens = crate::widget::VisitorTokens::new(
            secrets.subkey("switchboard visitor tokens v1"),
            crate::widget::token::Lifetimes {
                token: secs_to_millis(settings.widget.visitor_token_ttl_secs),
                verified: secs_to_millis(settings.widget.verified_visitor_ttl_secs),
            },
        );
        let gateway = &settings.gateway;
        let console_hub = crate::gateway::hub::ConsoleHub::with_replay_window(
            gateway.send_queue,
            gateway.replay_window,
        );
        let console_task = tokio::spawn(console_hub.clone().run(desk.clone(), signals.clone()));
        let presence_task = tokio::spawn(desk.clone().expire_silent_agents(
            Duration::from_secs(gateway.presence_timeout_secs),
            Duration::from_secs(gateway.presence_check_secs),
            shutdown_rx.clone(),
        ));
        let gateway_limits = crate::gateway::connection::Limits {
            replay_limit: gateway.replay_limit,
            ping_every: Duration::from_secs(gateway.ping_secs.max(1)),
            silence_limit: Duration::from_secs(gateway.silence_secs.max(1)),
            presence_touch_every: Duration::from_secs(15),
            refresh_every: Duration::from_secs(gateway.refresh_secs.max(1)),
        };
        let router_task = settings.routing.enabled.then(|| {
            tokio::spawn(desk.clone().run_routing(
                Duration::from_secs(settings.routing.tick_secs.max(1)),
                shutdown_rx.clone(),
            ))
        });
        let limiter = LoginLimiter::new(login_policy(&settings.security));
        remember_login_addresses(&limiter, store.as_ref()).await;
        let widget = crate::widget::WidgetState(Arc::new(crate::widget::Widget {
            desk: desk.clone(),
            visitor_tokens,
            visitor_hub,
            widget_throttle,
            settings: settings.widget.clone(),
            signals: signals.clone(),
            secrets: secrets.clone(),
        }));
        let gateway = crate::gateway::GatewayState {
            desk: desk.clone(),
            hub: console_hub,
            signals: signals.clone(),
            limits: gateway_limits,
        };
        let state = AppState(Arc::new(Shared {
            desk,
            widget,
            gateway,
            proxies: settings.server.proxies()?,
            signals,
            email,
            channels,
            channel_context: channel_context.clone(),
            limiter,
            test_sends: Default::default(),
            prometheus: crate::telemetry::prometheus(),
            store,
            secrets,
            settings,
        }));
        let app =
            crate::http::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let mut stop = shutdown_rx;
        let server = tokio::spawn(async move {
            use axum::serve::ListenerExt;
            let listener = crate::http::listener::GuardedListener::new(listener, ceiling)
                .tap_io(|stream| stream.set_nodelay());
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|stopped| *stopped).await;
                })
                .await
        });
        Ok(Application {
            addr,
            state,
            first_start,
            server,
            dispatcher,
            background: [hub_task, console_task, presence_task]
                .into_iter()
                .chain(router_task)
                .chain(channel_tasks.tasks)
                .collect(),
            listeners: channel_tasks.listeners,
            shutdown,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where forwarded mail is accepted over SMTP, when the listener is on.
    pub fn forwarded_mail_addr(&self) -> Option<SocketAddr> {
        self.listener_addr(crate::channels::email::FORWARDED_MAIL_LISTENER)
    }

    /// The address of a listener a channel opened, by the name the channel gave it.
    pub fn listener_addr(&self, name: &str) -> Option<SocketAddr> {
        self.listeners
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, addr)| *addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The URL people open: the configured public URL, or the address we listen on.
    pub fn url(&self) -> String {
        let public = &self.state.settings.server.public_url;
        if public.is_empty() {
            format!("http://{}", self.addr)
        } else {
            public.trim_end_matches('/').to_string()
        }
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn first_start(&self) -> Option<&FirstStart> {
        self.first_start.as_ref()
    }

    /// Serves until ctrl-c or SIGTERM, then drains in-flight requests.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.stop().await
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let _ = self.dispatcher.await;
        for task in self.background {
            task.abort();
        }
        self.server.await.context("server task")??;
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("can listen for SIGTERM");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn secs_to_millis(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// The addresses accounts signed in from, as the store kept them across restarts.
async fn remember_login_addresses(limiter: &LoginLimiter, store: &dyn crate::store::Store) {
    let now = crate::domain::now_millis();
    let since =
        now.saturating_sub(i64::try_from(limiter.known_for().as_millis()).unwrap_or(i64::MAX));
    match store.accounts().login_addresses(since).await {
        Ok(rows) => {
            for (account, address, seen) in rows {
                let age = Duration::from_millis(u64::try_from(now - seen).unwrap_or(0));
                limiter.remember(&account, &address, age);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not read the addresses accounts sign in from"),
    }
}

fn login_policy(security: &crate::config::SecuritySettings) -> LoginPolicy {
    LoginPolicy {
        attempts_per_minute_per_address: security.login_attempts_per_minute,
        failures_per_address: security.login_max_failures,
        failures_per_account_address: security.login_account_address_max_failures,
        failures_per_account: security.login_account_max_failures,
        window: Duration::from_secs(security.login_window_secs),
        known_address_for: Duration::from_secs(security.login_known_address_days * 86_400),
    }
}
