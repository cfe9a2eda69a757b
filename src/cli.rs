//! The command line: `serve`, `migrate`, `user add|disable|enable|set-password`, `inbox add`.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use switchboard_connector_core::ChannelKind;

use crate::auth::{hash_password, random_token};
use crate::config::{Secret, Settings};
use crate::domain::{EmailAddress, Role, User};
use crate::store::{AuditAction, NewAuditEntry, NewInbox, NewUser, Revoke, UserPatch};

#[derive(Parser, Debug)]
#[command(
    name = "switchboard",
    version,
    about = "One inbox for email, web chat, SMS and social messengers"
)]
pub struct Cli {
    /// A TOML file with settings (see config/default.toml); SWITCHBOARD__SECTION__KEY
    /// environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the hub: API, console, gateway and workers. Creates what it needs on first start.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(StoreArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage inboxes.
    #[command(subcommand)]
    Inbox(InboxCommand),
}

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Directory for the embedded database and key file [default: ./data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST/DB [default: embedded SQLite in the data dir]
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user to a workspace.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "agent", value_parser = ["owner", "admin", "agent"])]
        role: String,
        /// Read the password from the first line of standard input (otherwise one is generated).
        #[arg(long)]
        password_stdin: bool,
        /// The workspace id [default: the first workspace]
        #[arg(long)]
        workspace: Option<i64>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable a user: they cannot sign in, and every session and API token of theirs ends now.
    Disable {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Let a disabled user sign in again.
    Enable {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set a user's password from the first line of standard input; their sessions end.
    SetPassword {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum InboxCommand {
    /// Add an inbox (a channel instance) to a workspace.
    Add {
        #[arg(long)]
        name: String,
        /// api, email, web_chat, sms, whatsapp, messenger, instagram or telegram
        #[arg(long)]
        kind: String,
        /// API inboxes: where replies are POSTed
        #[arg(long)]
        callback_url: Option<String>,
        #[arg(long)]
        workspace: Option<i64>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl StoreArgs {
    pub fn apply(&self, settings: &mut Settings) {
        if let Some(dir) = &self.data_dir {
            settings.server.data_dir = dir.clone();
        }
        if let Some(url) = &self.database_url {
            settings.database.url = Secret::new(url.clone());
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    crate::telemetry::init_logs(&settings.log);
    match cli.command {
        Command::Serve(args) => {
            args.store.apply(&mut settings);
            if let Some(addr) = args.addr {
                settings.server.addr = addr;
            }
            serve(settings).await
        }
        Command::Migrate(store) => {
            store.apply(&mut settings);
            crate::app::open_store(&settings).await?;
            println!(
                "migrations applied to {}",
                crate::store::redact_url(&settings.database_url())
            );
            Ok(())
        }
        Command::User(UserCommand::Add {
            email,
            name,
            role,
            password_stdin,
            workspace,
            store,
        }) => {
            store.apply(&mut settings);
            let db = crate::app::open_store(&settings).await?;
            let workspace_id = pick_workspace(db.as_ref(), workspace).await?;
            let email = EmailAddress::parse(&email).map_err(anyhow::Error::msg)?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (random_token(12), true)
            };
            let password_hash = hash_password(&password).map_err(anyhow::Error::msg)?;
            let role = Role::parse(&role).context("role")?;
            let audit = NewAuditEntry {
                workspace_id,
                actor: None,
                action: AuditAction::UserCreated,
                target_kind: "user",
                target_id: None,
                details: serde_json::json!({"email": email.as_str(), "role": role}),
            };
            let new_user = NewUser {
                workspace_id,
                email,
                name,
                role,
                password_hash,
            };
            let user = db.accounts().create_user_audited(new_user, audit).await?;
            println!(
                "added {} <{}> as {} (user {})",
                user.name, user.email, user.role, user.id
            );
            if generated {
                println!("password: {password}   (shown once)");
            }
            Ok(())
        }
        Command::User(UserCommand::Disable { email, store }) => {
            set_disabled(&mut settings, store, &email, true).await
        }
        Command::User(UserCommand::Enable { email, store }) => {
            set_disabled(&mut settings, store, &email, false).await
        }
        Command::User(UserCommand::SetPassword { email, store }) => {
            store.apply(&mut settings);
            let db = crate::app::open_store(&settings).await?;
            let user = user_by_email(db.as_ref(), &email).await?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let password_hash =
                hash_password(line.trim_end_matches(['\r', '\n'])).map_err(anyhow::Error::msg)?;
            let audit = cli_audit(&user, AuditAction::UserPasswordReset);
            db.accounts()
                .set_password(user.id, password_hash, Revoke::SessionsExcept(None), audit)
                .await?;
            println!(
                "password of {} <{}> set; their sessions ended",
                user.name, user.email
            );
            Ok(())
        }
        Command::Inbox(InboxCommand::Add {
            name,
            kind,
            callback_url,
            workspace,
            store,
        }) => {
            store.apply(&mut settings);
            let db = crate::app::open_store(&settings).await?;
            let secrets = crate::app::secret_box(&settings)?;
            let workspace_id = pick_workspace(db.as_ref(), workspace).await?;
            // The same door as POST /api/v1/inboxes: the channel checks and seals its setup,
            // and the inbox is written whole.
            let mut fields = serde_json::Map::new();
            if let Some(url) = callback_url {
                fields.insert("callback_url".into(), url.into());
            }
            let env = crate::channels::SetupEnv {
                settings: &settings,
                secrets: &secrets,
            };
            let (kind, setup) = crate::channels::ChannelRegistry::standard()
                .set_up(&env, &kind, &crate::channels::SetupInput::new(fields))
                .map_err(anyhow::Error::new)?;
            let secret = setup.shown_once;
            let inbox = db
                .set_up_inbox(crate::store::NewInboxSetup {
                    inbox: NewInbox {
                        workspace_id,
                        name,
                        kind,
                        settings: serde_json::Value::Object(setup.settings),
                        sealed_secret: setup.sealed_secret,
                    },
                    website_token: setup.website_token,
                })
                .await?;
            println!(
                "added {} inbox {:?} (inbox {})",
                inbox.kind, inbox.name, inbox.id
            );
            if let Some(secret) = secret {
                let what = if kind == ChannelKind::Api {
                    "callback signing secret"
                } else {
                    "secret"
                };
                println!("{what}: {secret}   (shown once)");
            }
            Ok(())
        }
    }
}

async fn pick_workspace(
    store: &dyn crate::store::Store,
    wanted: Option<i64>,
) -> anyhow::Result<i64> {
    let workspaces = store.list_workspaces().await?;
    match wanted {
        Some(id) => workspaces
            .iter()
            .find(|w| w.id == id)
            .map(|w| w.id)
            .with_context(|| format!("no workspace {id}")),
        None => match workspaces.first() {
            Some(w) => Ok(w.id),
            None => {
                let first = crate::app::ensure_workspace(store).await?;
                if let Some(first) = first {
                    print_first_start(&first);
                }
                Ok(store.list_workspaces().await?[0].id)
            }
        },
    }
}

fn print_first_start(first: &crate::app::FirstStart) {
    println!(
        "First start: created workspace {:?} with its owner",
        first.workspace
    );
    println!("  email:    {}", first.owner_email);
    if let Some(password) = &first.generated_password {
        println!("  password: {password}   (shown once; change it after signing in)");
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let database = crate::store::redact_url(&settings.database_url());
    let app = crate::Application::build(settings).await?;
    let url = app.url();
    println!("Switchboard {} is running", env!("CARGO_PKG_VERSION"));
    println!("  Console:  {url}/");
    println!("  API docs: {url}/api/docs/");
    println!("  Database: {database}");
    if let Some(first) = app.first_start() {
        print_first_start(first);
    }
    println!("listening on http://{}", app.addr());
    app.run_until_signal().await
}

async fn user_by_email(db: &dyn crate::store::Store, email: &str) -> anyhow::Result<User> {
    let email = EmailAddress::parse(email).map_err(anyhow::Error::msg)?;
    Ok(db
        .credentials_by_email(&email)
        .await?
        .with_context(|| format!("no user with the email {}", email.as_str()))?
        .user)
}

/// An audit line for an operator's action on the command line (no signed-in actor).
fn cli_audit(user: &User, action: AuditAction) -> NewAuditEntry {
    NewAuditEntry {
        workspace_id: user.workspace_id,
        actor: None,
        action,
        target_kind: "user",
        target_id: Some(user.id),
        details: serde_json::json!({}),
    }
}

async fn set_disabled(
    settings: &mut Settings,
    store: StoreArgs,
    email: &str,
    disabled: bool,
) -> anyhow::Result<()> {
    store.apply(settings);
    let db = crate::app::open_store(settings).await?;
    let user = user_by_email(db.as_ref(), email).await?;
    let action = if disabled {
        AuditAction::UserDisabled
    } else {
        AuditAction::UserEnabled
    };
    let patch = UserPatch {
        role: None,
        disabled: Some(disabled),
    };
    let user = db
        .accounts()
        .update_user(
            user.workspace_id,
            user.id,
            patch,
            vec![cli_audit(&user, action)],
            crate::domain::now_millis(),
        )
        .await?;
    let state = if user.disabled { "disabled" } else { "enabled" };
    println!("{} <{}> is {state}", user.name, user.email);
    Ok(())
}
