//! Rate limits (docs/API.md §9): each `[[rate_limits]]` entry is a GCRA limiter
//! (`governor`) keyed by what its scope names — the instance, a role, a user,
//! an app's API key or a service. A limit of N per period lets N requests
//! through at once and one more every period/N after that, so a client that
//! hits the limit recovers steadily rather than at a window's edge.
//!
//! Limits are counted per instance (in memory), not across instances.

use crate::auth::Principal;
use crate::config::{LimitScope, RateLimit};
use crate::error::{ApiError, Code};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

struct Rule {
    config: RateLimit,
    limiter: Keyed,
}

#[derive(Default)]
pub struct Limits {
    rules: Vec<Rule>,
    clock: DefaultClock,
}

/// What is left of the tightest limit that applied.
#[derive(Debug, Clone, Copy)]
pub struct Remaining {
    pub limit: u32,
    pub remaining: u32,
}

impl Remaining {
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
    }
}

/// A request over a limit.
#[derive(Debug)]
pub struct Limited {
    pub limit: u32,
    pub retry_after: Duration,
}

impl IntoResponse for Limited {
    fn into_response(self) -> Response {
        let secs = self.retry_after.as_secs_f64().ceil().max(1.0) as u64;
        let mut resp = ApiError::new(
            Code::RateLimited,
            format!("too many requests; retry in {secs} s"),
        )
        .with_context(serde_json::json!({"limit": self.limit, "retry_after": secs}))
        .into_response();
        let h = resp.headers_mut();
        h.insert("retry-after", HeaderValue::from(secs));
        Remaining {
            limit: self.limit,
            remaining: 0,
        }
        .apply(h);
        resp
    }
}

impl Limits {
    /// Builds the limiters; an entry that can never pass (limit 0) is refused.
    pub fn new(config: &[RateLimit]) -> Result<Limits, String> {
        let mut rules = Vec::new();
        for c in config {
            let burst = NonZeroU32::new(c.limit)
                .ok_or_else(|| "rate_limits: 'limit' must be at least 1".to_string())?;
            let period = Duration::from_secs(c.per.seconds()) / c.limit;
            let quota = Quota::with_period(period)
                .ok_or_else(|| "rate_limits: the limit is too high for its period".to_string())?
                .allow_burst(burst);
            rules.push(Rule {
                config: c.clone(),
                limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            });
        }
        Ok(Limits {
            rules,
            clock: DefaultClock::default(),
        })
    }

    /// Forgets the buckets that are full again (nothing counted against them
    /// any more), so the keyed state does not grow with every user and key
    /// ever seen.
    pub fn prune(&self) {
        for rule in &self.rules {
            rule.limiter.retain_recent();
            rule.limiter.shrink_to_fit();
        }
    }

    /// How many buckets are kept (for tests).
    pub fn buckets(&self) -> usize {
        self.rules.iter().map(|r| r.limiter.len()).sum()
    }

    /// Counts the request against every limit that applies to it. `service`
    /// is the mounted service the request addresses, if any.
    pub fn check(
        &self,
        p: &Principal,
        service: Option<&str>,
    ) -> Result<Option<Remaining>, Limited> {
        let mut tightest: Option<Remaining> = None;
        for rule in &self.rules {
            let Some(key) = key(&rule.config, p, service) else {
                continue;
            };
            match rule.limiter.check_key(&key) {
                Ok(snapshot) => {
                    let r = Remaining {
                        limit: rule.config.limit,
                        remaining: snapshot.remaining_burst_capacity(),
                    };
                    if tightest.is_none_or(|t| r.remaining < t.remaining) {
                        tightest = Some(r);
                    }
                }
                Err(not_until) => {
                    return Err(Limited {
                        limit: rule.config.limit,
                        retry_after: not_until.wait_time_from(self.clock.now()),
                    });
                }
            }
        }
        Ok(tightest)
    }
}

/// The bucket a request falls in for one limit, or `None` when it does not apply.
fn key(c: &RateLimit, p: &Principal, service: Option<&str>) -> Option<String> {
    let subject: Option<String> = match c.scope {
        LimitScope::Instance => return Some(String::new()),
        LimitScope::Role => Some(p.role.clone()),
        LimitScope::User => p.user.as_ref().map(|u| u.email.clone()),
        LimitScope::ApiKey => p.app.clone(),
        LimitScope::Service => service.map(str::to_string),
    };
    let subject = subject?;
    match &c.name {
        Some(n) if !n.eq_ignore_ascii_case(&subject) => None,
        _ => Some(subject),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LimitPeriod, LimitScope};

    #[test]
    fn buckets_of_idle_keys_are_pruned() {
        let limits = Limits::new(&[RateLimit {
            scope: LimitScope::ApiKey,
            name: None,
            limit: 50,
            per: LimitPeriod::Second,
        }])
        .unwrap_or_else(|e| panic!("{e}"));
        for i in 0..200 {
            let p = Principal {
                role: "r".into(),
                user: None,
                app: Some(format!("app-{i}")),
            };
            assert!(limits.check(&p, None).is_ok());
        }
        assert_eq!(limits.buckets(), 200);
        // a bucket refills within a second; then nothing is left to remember
        std::thread::sleep(Duration::from_millis(1100));
        limits.prune();
        assert_eq!(limits.buckets(), 0);
    }
}
