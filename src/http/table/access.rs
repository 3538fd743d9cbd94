//! What a caller may see and write of a table: the view without hidden
//! columns, the row filter bound to the caller, and the checks a write body
//! goes through before any connector sees it.

use super::{
    ApiError, ApiResult, AppState, Arc, Code, Expr, Principal, Record, Table, Value, check_fields,
    json, openapi, pointer, rbac,
};

/// What the caller may see of a table.
pub(super) struct Access {
    /// The table without the columns hidden from the caller: what parameters
    /// and bodies are checked against.
    pub(super) view: Arc<Table>,
    /// The caller's row filter, bound to their values.
    pub(super) filter: Option<Expr>,
    pub(super) hidden: Vec<String>,
}

impl Access {
    pub(super) fn of(
        state: &AppState,
        caller: &Principal,
        service: &str,
        table: &Arc<Table>,
    ) -> ApiResult<Access> {
        let grants = state.policy.grants(caller, service, &table.name);
        let filter = match &grants.row_filter {
            None => None,
            Some(e) => {
                let bound = rbac::bind_caller(e, caller);
                if let Err(err) = check_fields(&bound, table) {
                    tracing::error!(role = %caller.role, table = %table.name, "a row filter names a field the table lacks: {}", err.message);
                    return Err(ApiError::new(
                        Code::Forbidden,
                        "this role's row filter does not fit this table; the policy needs fixing",
                    ));
                }
                Some(bound)
            }
        };
        Ok(Access {
            view: grants.view(table),
            filter,
            hidden: grants.hidden.clone(),
        })
    }

    /// `filter` narrowed to the rows the caller may see.
    pub(super) fn narrow(&self, filter: Expr) -> Expr {
        match &self.filter {
            Some(f) => Expr::And(vec![filter, f.clone()]),
            None => filter,
        }
    }

    /// Every record must fit the caller's view of the table's schema, the one
    /// `_spec` publishes (`openapi::check_value`), before any connector sees it,
    /// so every engine answers alike: a hidden column is 403; a field the view
    /// lacks 400 `unknown_field`; a wrong value 422 `type_mismatch`; null in a
    /// non-null column 422 `not_null_violation`; on insert a missing required
    /// field 422 `missing_field`. `context` has the field, the record's index
    /// and the JSON pointer to the value in the body.
    ///
    /// Names decide for the whole request (`Err`); a wrong value fails its
    /// record (returned), which a `continue=true` batch reports beside the
    /// records that were written.
    pub(super) fn check_records(
        &self,
        records: &[Record],
        insert: bool,
        body: Option<&Value>,
    ) -> ApiResult<Vec<(usize, ApiError)>> {
        let at = |i: usize, f: &str| json!({"field": f, "index": i, "path": pointer(body, i, f)});
        for (i, r) in records.iter().enumerate() {
            if let Some(f) = r.keys().find(|f| self.view.is_withheld(f)) {
                return Err(ApiError::new(
                    Code::Forbidden,
                    format!("this role may not write '{f}'"),
                )
                .with_context(at(i, f)));
            }
        }
        let view = &self.view;
        for (i, r) in records.iter().enumerate() {
            if let Some(f) = r.keys().find(|f| !view.accepts_field(f, !insert)) {
                return Err(ApiError::unknown_field(&view.name, f).with_context(at(i, f)));
            }
            if let Some(c) = r
                .keys()
                .filter_map(|f| view.column(f))
                // a key in an update's record selects it, it is not written
                .find(|c| c.generated && (insert || !c.is_primary_key))
            {
                return Err(ApiError::new(
                    Code::ReadOnlyField,
                    format!(
                        "'{}' is computed by the database and cannot be written",
                        c.name
                    ),
                )
                .with_context(at(i, &c.name)));
            }
            // a schemaless collection requires nothing: its schema is only a sample
            if insert
                && !view.inferred
                && let Some(c) = view
                    .columns
                    .iter()
                    .find(|c| c.is_required() && !r.contains_key(&c.name))
            {
                return Err(
                    ApiError::new(Code::MissingField, format!("'{}' is required", c.name))
                        .with_context(at(i, &c.name)),
                );
            }
        }
        let mut invalid = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let wrong = r.iter().find_map(|(f, v)| {
                let c = view.column(f)?;
                if v.is_null() {
                    return (!c.allow_null).then(|| {
                        ApiError::new(Code::NotNullViolation, format!("'{f}' must not be null"))
                            .with_context(at(i, f))
                    });
                }
                let expected = openapi::check_value(c, v).err()?;
                let mut ctx = at(i, f);
                ctx["expected"] = json!(expected);
                Some(
                    ApiError::new(Code::TypeMismatch, format!("'{f}' expects {expected}"))
                        .with_context(ctx),
                )
            });
            if let Some(e) = wrong {
                invalid.push((i, e));
            }
        }
        Ok(invalid)
    }

    /// Rows without the hidden columns (a key the caller may not see included).
    pub(super) fn strip(&self, rows: &mut [Record]) {
        if self.hidden.is_empty() {
            return;
        }
        for r in rows {
            r.retain(|k, _| !self.hidden.contains(k));
        }
    }
}
