//! The policy facade the gateway holds: authentication of virtual keys (from the
//! [`KeyCache`]), admission (model permissions, rate limits, budget reservations) and the
//! settlement of every request (the limiter, then one line in the spend journal that a
//! background task ships to SQL).
//!
//! Request path cost: a memory lookup for the key, one limiter call to admit (in-process, or
//! one Redis script), and after the answer one `write` to the journal plus a spawned settle.
//! No SQL on the path except the first sight of a key after a change.

mod admission;
mod key_cache;
mod principal;
mod sink;

pub use admission::{Admission, CallerLabels, Outcome, RateHeaders};
pub use key_cache::{KeyCache, POLL_INTERVAL};
pub use principal::{Caller, Principal, list_allows};

use llm_types::money::NanoDollars;
use llm_types::{Error, ErrorKind, ErrorOrigin};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::journal::{Journal, JournalSettings, Shipper};
use crate::keys::hash_key;
use crate::limits::{LimitSettings, Limiter};
use crate::master_key::{MasterKey, Presented, classify, unauthorized};
use crate::store::Store;

/// How often budgets whose period ended are reset in SQL (any instance may do it; the
/// statement is idempotent).
const BUDGET_RESET_INTERVAL: Duration = Duration::from_secs(10);

/// Everything [`Policy::open`] needs.
#[derive(Debug, Clone, Default)]
pub struct PolicySettings {
    /// `sqlite://...` or `postgres://...`.
    pub database_url: String,
    pub master_key: Option<String>,
    /// The spend journal's directory; `None`: no spend log (budgets still hold).
    pub journal_dir: Option<PathBuf>,
    /// Redis for limits shared by several instances: URL and key prefix.
    pub redis: Option<(String, String)>,
    /// Refuse requests when Redis is unreachable instead of limiting in-process.
    pub fail_closed: bool,
    /// The gateway-wide budget and its period.
    pub max_budget: Option<NanoDollars>,
    pub budget_duration: Option<Duration>,
}

/// Keys, limits and spend, shared by every request.
pub struct Policy {
    store: Store,
    master_key: Option<MasterKey>,
    keys: KeyCache,
    limiter: Limiter,
    journal: Option<Journal>,
    shipper: Option<Shipper>,
    global: admission::GlobalBudget,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Policy {
    /// Connects the store, applies migrations, replays what an earlier process left in the
    /// journal and starts the background tasks.
    pub async fn open(settings: PolicySettings) -> Result<Policy, String> {
        let store = Store::connect(&settings.database_url)
            .await
            .map_err(|e| format!("database: {e}"))?;
        store
            .migrate()
            .await
            .map_err(|e| format!("database migrations: {e}"))?;
        let limiter = match &settings.redis {
            Some((url, prefix)) => Limiter::with_redis_url(
                url,
                LimitSettings {
                    key_prefix: prefix.clone(),
                    fail_open: !settings.fail_closed,
                    ..LimitSettings::default()
                },
            )
            .map_err(|e| format!("redis: {e}"))?,
            None => Limiter::local(LimitSettings::default()),
        };
        let keys = KeyCache::new(store.clone());
        let mut tasks = vec![keys.spawn_version_watch()];
        let (journal, shipper) = match &settings.journal_dir {
            Some(root) => {
                let journal = Journal::open(JournalSettings::new(root.clone()))
                    .map_err(|e| format!("spend journal `{}`: {e}", root.display()))?;
                let shipper = journal.spawn_shipper(Arc::new(store.clone()));
                (Some(journal), Some(shipper))
            }
            None => (None, None),
        };
        let global = admission::GlobalBudget::new(settings.max_budget, settings.budget_duration);
        tasks.push(spawn_budget_resets(store.clone(), global.clone()));
        Ok(Policy {
            store,
            master_key: settings.master_key.as_deref().map(MasterKey::new),
            keys,
            limiter,
            journal,
            shipper,
            global,
            tasks,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn master_key(&self) -> Option<&MasterKey> {
        self.master_key.as_ref()
    }

    /// Who presented `presented`: anonymous when no master key is configured, the master,
    /// or a usable virtual key. Refusals are 401 with `code` `invalid_api_key`, `key_expired`
    /// or `key_blocked`.
    pub async fn authenticate(&self, presented: Option<&str>) -> Result<Caller, Error> {
        match classify(self.master_key.as_ref(), presented)? {
            Presented::Open => Ok(Caller::Anonymous),
            Presented::Master => Ok(Caller::Master),
            Presented::Other(key) => {
                let principal = self.keys.get(&hash_key(key)).await.map_err(|error| {
                    tracing::error!(%error, "key lookup failed");
                    Error::new(
                        ErrorKind::UpstreamUnavailable,
                        ErrorOrigin::Internal,
                        "the key store is unavailable; retry shortly",
                    )
                })?;
                let principal = principal.ok_or_else(|| unauthorized("invalid API key"))?;
                principal.check_usable(llm_types::unix_now_ms())?;
                Ok(Caller::Key(principal))
            }
        }
    }

    /// Tells every instance that a key, user or team changed (their caches reload it).
    pub async fn publish_change(&self) -> Result<(), Error> {
        self.keys.publish_change().await.map_err(|error| {
            tracing::error!(%error, "could not publish a policy change");
            Error::internal("the change was saved but could not be published to other instances")
        })
    }

    /// The gateway-wide budget (`litellm_settings.max_budget`), if any.
    pub fn global_max_budget(&self) -> Option<NanoDollars> {
        self.global.max()
    }

    /// Spend records appended but not yet in SQL.
    pub fn journal_backlog(&self) -> u64 {
        self.journal.as_ref().map_or(0, Journal::backlog)
    }

    /// Redis failures the limiter has seen (each one served on local limits or refused).
    pub fn redis_errors(&self) -> u64 {
        self.limiter.redis_errors()
    }

    /// Database reachable (readiness).
    pub async fn ready(&self) -> Result<(), String> {
        self.store.ping().await.map_err(|e| e.to_string())
    }

    /// Whether the rate limiter's Redis answers (`None`: no Redis), and whether requests
    /// need it (fail-closed) or fall back to local limits without it.
    pub async fn redis_ready(&self) -> (Option<Result<(), String>>, bool) {
        (self.limiter.redis_ready().await, self.limiter.fail_closed())
    }

    /// Ships what the journal holds (graceful shutdown), waiting up to `timeout`.
    pub async fn flush(&self, timeout: Duration) -> bool {
        match &self.shipper {
            Some(shipper) => shipper.flush(timeout).await,
            None => true,
        }
    }
}

impl Drop for Policy {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn spawn_budget_resets(
    store: Store,
    global: admission::GlobalBudget,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(BUDGET_RESET_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let now = llm_types::unix_now_ms();
            match store.reset_budgets(now).await {
                Ok(0) => {}
                Ok(reset) => tracing::info!(reset, "budget periods reset"),
                Err(error) => tracing::warn!(%error, "budget reset failed; retrying"),
            }
            global.refresh_seed(&store, now).await;
        }
    })
}
