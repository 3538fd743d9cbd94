//! Authorization (docs/API.md §6): casbin decides whether a role may use a verb on a
//! resource; Gatehouse adds the row filters (`p2`) and hidden columns (`p3`)
//! of the role and every role it inherits.
//!
//! A [`PolicySet`] is one loaded version of `policies/`; decisions are
//! memoised in it, so each distinct (role, service, resource, verb) is
//! evaluated by casbin once per reload. [`Policy`] holds the live set and swaps
//! in a new one when the files change (see `crate::watch`); a set that fails to load
//! never replaces the one in force.

pub mod load;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Code};
use arc_swap::ArcSwap;
use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi, RbacApi};
use gatehouse_core::Expr;
use load::{Files, PolicyError, Rules};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// Memo tables are cleared when they grow past this (resource names come
/// from URLs); a decision on a resource name longer than [`MEMO_KEY_MAX`]
/// (no table is named so) is made each time rather than kept.
const MEMO_LIMIT: usize = 10_000;
const MEMO_KEY_MAX: usize = 256;

/// What a rule's `resource` names below `/api/{service}/`: the one spelling
/// of each, for every check the HTTP layer makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// `_table/{name}`: a table's records.
    Table(&'a str),
    /// `_table`: the list of tables.
    Tables,
    /// `_schema/{name}`: a table's schema.
    Schema(&'a str),
    /// `_schema`: the list of schemas.
    Schemas,
    /// `_export/{name}`: every row of a table as a stream, uncapped.
    Export(&'a str),
    /// `_spec`: the service's OpenAPI document.
    Spec,
    /// `*`: anything of the service.
    Any,
}

impl std::fmt::Display for Resource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::Table(t) => write!(f, "_table/{t}"),
            Resource::Tables => f.write_str("_table"),
            Resource::Schema(t) => write!(f, "_schema/{t}"),
            Resource::Schemas => f.write_str("_schema"),
            Resource::Export(t) => write!(f, "_export/{t}"),
            Resource::Spec => f.write_str("_spec"),
            Resource::Any => f.write_str("*"),
        }
    }
}

/// What a role may see of one table.
#[derive(Debug, Default)]
pub struct Grants {
    /// The role's row filters ANDed, caller placeholders unbound.
    pub row_filter: Option<Expr>,
    /// Columns the role may not see, read, filter on or write.
    pub hidden: Vec<String>,
}

impl Grants {
    /// `table` as the role sees it: without the hidden columns.
    pub fn view(&self, table: &Arc<gatehouse_core::Table>) -> Arc<gatehouse_core::Table> {
        if self.hidden.is_empty() {
            table.clone()
        } else {
            Arc::new(table.without(&self.hidden))
        }
    }
}

/// One loaded version of the policy folder.
pub struct PolicySet {
    enforcer: Enforcer,
    /// The same model with the deny rules only: casbin's explanation of a
    /// denial names a matching allow rule, so the deny that won is found here.
    denials: Enforcer,
    pub rules: Rules,
    /// The texts it was built from, to skip reloads that change nothing.
    source: (Option<String>, Option<String>),
    decisions: RwLock<HashMap<(String, String, String, String), bool>>,
    grants: RwLock<HashMap<(String, String, String), Arc<Grants>>>,
}

/// Why a decision came out as it did.
#[derive(Debug, serde::Serialize)]
pub struct Explanation {
    pub allowed: bool,
    /// The rule that decided, as written in policy.csv.
    pub rule: Option<Value>,
    pub reason: String,
}

fn model_error(file: &str, e: impl std::fmt::Display) -> PolicyError {
    PolicyError {
        file: file.into(),
        line: None,
        message: e.to_string(),
    }
}

impl PolicySet {
    /// Builds a set from the folder's files, or says what is wrong with them.
    pub async fn build(files: Files) -> Result<PolicySet, PolicyError> {
        let rules = load::parse_rules(files.policy.as_deref().unwrap_or(""))?;
        let model_text = files.model.as_deref().unwrap_or(load::DEFAULT_MODEL);
        let mut seen = std::collections::HashSet::new();
        let p: Vec<Vec<String>> = rules
            .permissions
            .iter()
            .map(|r| {
                vec![
                    r.role.clone(),
                    r.service.clone(),
                    r.resource.clone(),
                    r.verbs.clone(),
                    r.effect.clone(),
                ]
            })
            .filter(|r| seen.insert(r.clone()))
            .collect();
        let g: Vec<Vec<String>> = rules
            .groups
            .iter()
            .map(|(a, b, _)| vec![a.clone(), b.clone()])
            .filter(|r| seen.insert(r.clone()))
            .collect();
        let deny: Vec<Vec<String>> = p.iter().filter(|r| r[4] == "deny").cloned().collect();
        let enforcer = enforcer_with(model_text, p, g.clone()).await?;
        let denials = enforcer_with(model_text, deny, g).await?;
        // The model must accept Gatehouse's request shape.
        enforcer
            .enforce(("anonymous", "svc", "_table/t", "GET"))
            .map_err(|e| {
                model_error(
                    "model.conf",
                    format!("the model cannot decide (role, service, resource, verb): {e}"),
                )
            })?;
        Ok(PolicySet {
            enforcer,
            denials,
            rules,
            source: (files.model, files.policy),
            decisions: Default::default(),
            grants: Default::default(),
        })
    }

    /// A set that allows nothing (only the built-in admin gets through).
    pub async fn deny_all() -> PolicySet {
        let files = Files {
            model: None,
            policy: None,
        };
        match Self::build(files).await {
            Ok(s) => s,
            // The shipped model is tested; if it ever failed, nothing could be allowed anyway.
            Err(e) => unreachable_model(e),
        }
    }

    /// Whether `role` may use `verb` on `resource` of `service`.
    pub fn allows(&self, role: &str, service: &str, resource: &str, verb: &str) -> bool {
        let key = (
            role.to_string(),
            service.to_string(),
            resource.to_string(),
            verb.to_string(),
        );
        if let Ok(memo) = self.decisions.read()
            && let Some(d) = memo.get(&key)
        {
            return *d;
        }
        let decision = match self.enforcer.enforce((role, service, resource, verb)) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!("policy evaluation failed, denying: {e}");
                false
            }
        };
        if key.2.len() > MEMO_KEY_MAX {
            return decision;
        }
        if let Ok(mut memo) = self.decisions.write() {
            if memo.len() > MEMO_LIMIT {
                memo.clear();
            }
            memo.insert(key, decision);
        }
        decision
    }

    /// The decision and the rule that made it.
    pub fn explain(&self, role: &str, service: &str, resource: &str, verb: &str) -> Explanation {
        let (allowed, matched) = match self.enforcer.enforce_ex((role, service, resource, verb)) {
            Ok(r) => r,
            Err(e) => {
                return Explanation {
                    allowed: false,
                    rule: None,
                    reason: format!("the policy could not be evaluated: {e}"),
                };
            }
        };
        let matched = if allowed {
            matched
        } else {
            self.denials
                .enforce_ex((role, service, resource, verb))
                .map(|(_, m)| m)
                .unwrap_or_default()
        };
        let rule = matched.first().map(|fields| {
            let line = self
                .rules
                .permissions
                .iter()
                .find(|p| {
                    [&p.role, &p.service, &p.resource, &p.verbs, &p.effect]
                        .iter()
                        .zip(fields)
                        .all(|(a, b)| *a == b)
                })
                .map(|p| p.line);
            json!({"line": line, "text": format!("p, {}", fields.join(", "))})
        });
        let roles = self.roles(role).join(", ");
        let reason = match (&rule, allowed) {
            (Some(_), true) => format!("allowed by this rule (roles considered: {roles})"),
            (Some(_), false) => {
                format!("denied by this rule; deny wins (roles considered: {roles})")
            }
            (None, _) => format!("no rule allows it, so it is denied (roles considered: {roles})"),
        };
        Explanation {
            allowed,
            rule,
            reason,
        }
    }

    /// `role` and every role it inherits through `g` rules.
    pub fn roles(&self, role: &str) -> Vec<String> {
        let mut all = vec![role.to_string()];
        for r in self.enforcer.get_implicit_roles_for_user(role, None) {
            if !all.contains(&r) {
                all.push(r);
            }
        }
        all
    }

    /// The row filters and hidden columns of `role` on `table`.
    pub fn grants(&self, role: &str, service: &str, table: &str) -> Arc<Grants> {
        let key = (role.to_string(), service.to_string(), table.to_string());
        if let Ok(memo) = self.grants.read()
            && let Some(g) = memo.get(&key)
        {
            return g.clone();
        }
        let roles = self.roles(role);
        let applies = |r: &str, s: &str, t: &str| {
            roles.iter().any(|x| x == r) && (s == "*" || s == service) && (t == "*" || t == table)
        };
        let filters: Vec<Expr> = self
            .rules
            .row_filters
            .iter()
            .filter(|f| applies(&f.role, &f.service, &f.table))
            .map(|f| f.expr.clone())
            .collect();
        let mut hidden: Vec<String> = Vec::new();
        for h in self
            .rules
            .hidden
            .iter()
            .filter(|h| applies(&h.role, &h.service, &h.table))
        {
            for c in &h.columns {
                if !hidden.contains(c) {
                    hidden.push(c.clone());
                }
            }
        }
        let row_filter = match filters.len() {
            0 => None,
            1 => filters.into_iter().next(),
            _ => Some(Expr::And(filters)),
        };
        let g = Arc::new(Grants { row_filter, hidden });
        if let Ok(mut memo) = self.grants.write() {
            if memo.len() > MEMO_LIMIT {
                memo.clear();
            }
            memo.insert(key, g.clone());
        }
        g
    }

    /// The rules, as `GET /api/system/policy` shows them.
    pub fn describe(&self) -> Value {
        let r = &self.rules;
        json!({
            "p": r.permissions.iter().map(|p| json!({"line": p.line, "role": p.role, "service": p.service, "resource": p.resource, "verbs": p.verbs, "effect": p.effect})).collect::<Vec<_>>(),
            "g": r.groups.iter().map(|(a, b, l)| json!({"line": l, "role": a, "parent": b})).collect::<Vec<_>>(),
            "p2": r.row_filters.iter().map(|f| json!({"line": f.line, "role": f.role, "service": f.service, "table": f.table, "filter": f.text})).collect::<Vec<_>>(),
            "p3": r.hidden.iter().map(|h| json!({"line": h.line, "role": h.role, "service": h.service, "table": h.table, "columns": h.columns})).collect::<Vec<_>>(),
        })
    }
}

/// An enforcer of `model` holding the `p` and `g` rules given.
async fn enforcer_with(
    model: &str,
    p: Vec<Vec<String>>,
    g: Vec<Vec<String>>,
) -> Result<Enforcer, PolicyError> {
    let model = DefaultModel::from_str(model)
        .await
        .map_err(|e| model_error("model.conf", e))?;
    let mut enforcer = Enforcer::new(model, MemoryAdapter::default())
        .await
        .map_err(|e| model_error("model.conf", e))?;
    if !p.is_empty() {
        enforcer
            .add_named_policies("p", p)
            .await
            .map_err(|e| model_error("model.conf", e))?;
    }
    if !g.is_empty() {
        enforcer
            .add_named_grouping_policies("g", g)
            .await
            .map_err(|e| model_error("model.conf", e))?;
    }
    Ok(enforcer)
}

#[allow(clippy::panic)]
fn unreachable_model(e: PolicyError) -> ! {
    // The shipped model is compiled in and covered by tests.
    panic!("the built-in casbin model does not load: {e}")
}

/// The caller's values for a row filter's placeholders. A filter naming
/// `{user.*}` matches nothing for a caller without a user (an API key alone).
pub fn bind_caller(expr: &Expr, p: &Principal) -> Expr {
    expr.clone()
        .bind(&caller_values(p))
        .unwrap_or_else(|_| Expr::Or(Vec::new()))
}

/// What `{role}`, `{user.id}` and `{user.email}` stand for in a filter (the
/// user's values only with a signed-in user).
pub fn caller_values(p: &Principal) -> Map<String, Value> {
    let mut params = Map::new();
    params.insert("role".into(), Value::from(p.role.clone()));
    if let Some(u) = &p.user {
        params.insert("user.id".into(), Value::from(u.id));
        params.insert("user.email".into(), Value::from(u.email.clone()));
    }
    params
}

/// Load status, for `GET /api/system/policy`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Status {
    pub loaded_at: Option<String>,
    /// The last failed load, while the files still fail.
    pub error: Option<PolicyError>,
    pub failed_at: Option<String>,
}

/// The live policy of this instance.
pub struct Policy {
    pub dir: PathBuf,
    current: ArcSwap<PolicySet>,
    status: Mutex<Status>,
    reloads: tokio::sync::Mutex<()>,
}

/// How long the policy files must stay unchanged before a reload reads them.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(250);
const SETTLE_TRIES: usize = 40;

fn now_text() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl Policy {
    /// Loads `dir`; a folder that fails to load leaves everything denied
    /// (except to the built-in admin) until it is fixed.
    pub async fn load(dir: &Path) -> Policy {
        let policy = Policy {
            dir: dir.to_path_buf(),
            current: ArcSwap::from_pointee(PolicySet::deny_all().await),
            status: Mutex::new(Status::default()),
            reloads: tokio::sync::Mutex::new(()),
        };
        if !dir.is_dir() {
            tracing::warn!(dir = %dir.display(), "no policy folder: every role but admin is denied");
        }
        policy.reload().await;
        policy
    }

    pub fn current(&self) -> Arc<PolicySet> {
        self.current.load_full()
    }

    pub fn status(&self) -> Status {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Reloads once the files have stayed the same for [`SETTLE`]: a file
    /// read while an editor or a copy is still writing it would be torn (cut
    /// at a line boundary it parses, and drops rules). Still changing after
    /// [`SETTLE_TRIES`] looks: left to the next change's reload.
    pub async fn reload_when_settled(&self) -> bool {
        let mut seen = Files::read(&self.dir);
        for _ in 0..SETTLE_TRIES {
            tokio::time::sleep(SETTLE).await;
            let now = Files::read(&self.dir);
            let same = match (&now, &seen) {
                (Ok(a), Ok(b)) => a.model == b.model && a.policy == b.policy,
                (Err(a), Err(b)) => a.message == b.message,
                _ => false,
            };
            if same {
                // the files as they settled are the ones loaded
                return self.apply(now).await;
            }
            seen = now;
        }
        tracing::warn!(dir = %self.dir.display(), "the policy files kept changing; not reloaded yet");
        false
    }

    /// Reads the folder again; swaps the new set in only if it loads. The
    /// status follows the files: back to the policy in force is "ok" again.
    pub async fn reload(&self) -> bool {
        self.apply(Files::read(&self.dir)).await
    }

    /// Swaps in the set `read` builds, if it is complete and loads.
    async fn apply(&self, read: Result<Files, PolicyError>) -> bool {
        let _one_at_a_time = self.reloads.lock().await;
        let result = match read.and_then(|f| f.check_complete().map(|()| f)) {
            Ok(files) => {
                let cur = self.current();
                let unchanged = cur.source == (files.model.clone(), files.policy.clone())
                    && self.status().loaded_at.is_some();
                if unchanged {
                    if let Ok(mut status) = self.status.lock() {
                        status.error = None;
                        status.failed_at = None;
                    }
                    return true;
                }
                PolicySet::build(files).await
            }
            Err(e) => Err(e),
        };
        let Ok(mut status) = self.status.lock() else {
            return false;
        };
        match result {
            Ok(set) => {
                tracing::info!(
                    dir = %self.dir.display(),
                    p = set.rules.permissions.len(),
                    g = set.rules.groups.len(),
                    p2 = set.rules.row_filters.len(),
                    p3 = set.rules.hidden.len(),
                    "policy loaded"
                );
                self.current.store(Arc::new(set));
                status.loaded_at = Some(now_text());
                status.error = None;
                status.failed_at = None;
                true
            }
            Err(e) => {
                if status.loaded_at.is_some() {
                    tracing::error!(error = %e, "policy rejected; the previous policy stays in force");
                } else {
                    tracing::error!(error = %e, "policy rejected; every role but admin is denied until it loads");
                }
                status.error = Some(e);
                status.failed_at = Some(now_text());
                false
            }
        }
    }

    /// Whether the caller may use `verb` on `resource` of `service`; the
    /// built-in admin may do anything.
    pub fn allows(&self, p: &Principal, service: &str, resource: Resource<'_>, verb: &str) -> bool {
        p.is_admin()
            || self
                .current()
                .allows(&p.role, service, &resource.to_string(), verb)
    }

    /// The tables of `tables` the caller may `GET` as `resource` (`Resource::Table`
    /// for records, `Resource::Schema` for schemas): what `GET /api`, `_table`,
    /// `_schema` and `_spec` list.
    pub fn visible_tables<'t>(
        &self,
        p: &Principal,
        service: &str,
        tables: &'t [Arc<gatehouse_core::Table>],
        resource: impl Fn(&'t str) -> Resource<'t>,
    ) -> Vec<&'t Arc<gatehouse_core::Table>> {
        tables
            .iter()
            .filter(|t| self.allows(p, service, resource(&t.name), "GET"))
            .collect()
    }

    /// 401 for an anonymous caller, 403 for anyone else, when not allowed.
    pub fn authorize(
        &self,
        p: &Principal,
        service: &str,
        resource: Resource<'_>,
        verb: &str,
    ) -> ApiResult<()> {
        if self.allows(p, service, resource, verb) {
            return Ok(());
        }
        if p.is_anonymous() {
            return Err(ApiError::new(
                Code::Unauthorized,
                "credentials are required for this resource: send an API key as the X-API-Key header (or X-DreamFactory-API-Key, or ?api_key=), or a session token as Authorization: Bearer <token> (or X-DreamFactory-Session-Token); POST /api/user/session gives one",
            ));
        }
        Err(ApiError::new(
            Code::Forbidden,
            format!("role '{}' may not {verb} {service}/{resource}", p.role),
        ))
    }

    /// The caller's row filter (bound) and hidden columns on a table.
    pub fn grants(&self, p: &Principal, service: &str, table: &str) -> Arc<Grants> {
        if p.is_admin() {
            return Arc::new(Grants::default());
        }
        self.current().grants(&p.role, service, table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn set(policy: &str) -> PolicySet {
        PolicySet::build(Files {
            model: None,
            policy: Some(policy.into()),
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn decisions_follow_the_rules() {
        let s = set("p, reader, demo, _table/*, GET, allow\n\
                     p, writer, demo, _table/orders, GET|POST|PATCH, allow\n\
                     p, writer, demo, _table/secret, *, deny\n\
                     p, writer, *, *, *, allow\n\
                     g, lead, reader\n")
        .await;
        assert!(s.allows("reader", "demo", "_table/orders", "GET"));
        assert!(!s.allows("reader", "demo", "_table/orders", "POST"));
        assert!(!s.allows("reader", "demo", "_table", "GET"));
        assert!(!s.allows("reader", "other", "_table/orders", "GET"));
        assert!(s.allows("lead", "demo", "_table/x", "GET"), "inherited");
        assert!(s.allows("writer", "demo", "_table/orders", "PATCH"));
        assert!(s.allows("writer", "other", "_schema/x", "DELETE"));
        assert!(
            !s.allows("writer", "demo", "_table/secret", "GET"),
            "deny wins"
        );
        assert!(!s.allows("nobody", "demo", "_table/orders", "GET"));
        assert!(
            !s.allows("reader", "demo", "_table/orders", "GETX"),
            "verbs are anchored"
        );
        let e = s.explain("writer", "demo", "_table/secret", "GET");
        assert!(!e.allowed);
        assert_eq!(e.rule.and_then(|r| r.get("line").cloned()), Some(json!(3)));
        let e = s.explain("nobody", "demo", "_table/secret", "GET");
        assert!(e.rule.is_none() && e.reason.contains("no rule"));
    }

    #[tokio::test]
    async fn grants_gather_inherited_filters_and_columns() {
        let s = set("p2, sales, demo, orders, region = {user.email}\n\
                     p2, staff, *, *, tenant = 1\n\
                     p3, staff, demo, orders, cost\n\
                     p3, sales, demo, orders, margin cost\n\
                     g, sales, staff\n")
        .await;
        let g = s.grants("sales", "demo", "orders");
        assert_eq!(g.hidden, ["cost", "margin"]);
        assert_eq!(
            g.row_filter.as_ref().map(ToString::to_string).as_deref(),
            Some("(region = {user.email} AND tenant = 1)")
        );
        let g = s.grants("staff", "demo", "customers");
        assert!(g.hidden.is_empty());
        assert_eq!(
            g.row_filter.as_ref().map(ToString::to_string).as_deref(),
            Some("tenant = 1")
        );
        assert!(s.grants("other", "demo", "orders").row_filter.is_none());
    }

    #[test]
    fn a_filter_on_the_user_matches_nothing_without_one() {
        let e = Expr::parse("owner = {user.id} or team = {role}").unwrap_or_else(|e| panic!("{e}"));
        let mut p = Principal::anonymous();
        p.app = Some("app".into());
        p.role = "sales".into();
        assert_eq!(bind_caller(&e, &p), Expr::Or(Vec::new()));
        p.user = Some(crate::auth::SessionUser {
            id: 4,
            email: "a@b".into(),
            name: None,
            session: "s".into(),
            expires_at: 0,
        });
        assert_eq!(
            bind_caller(&e, &p).to_string(),
            "(owner = 4 OR team = 'sales')"
        );
    }
}
