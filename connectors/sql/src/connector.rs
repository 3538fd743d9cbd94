//! [`SqlConnector`]: the `Connector` trait implemented once for every SQL
//! engine. An engine supplies a [`SqlDriver`] — run a printed query, decode its
//! rows, open a transaction, introspect — and everything else (translation,
//! batches, atomicity, not-found checks) lives here.

use crate::ast::{OutCol, Output, Query, Statement};
use crate::dialect::{Dialect, Printer, ReturningStyle};
use crate::translate;
use async_trait::async_trait;
use gatehouse_core::{
    BatchMode, Capabilities, Catalog, Connector, ConnectorError, CountMode, DeleteRequest,
    ErrorKind, ExportFormat, ExportStream, Expr, InsertRequest, ItemOutcome, Record, Rows,
    SelectRequest, SelectResult, Table, UpdateRequest,
};
use serde_json::Value;
use std::sync::Arc;

/// What an engine must provide. Errors are already mapped to shared kinds.
#[async_trait]
pub trait SqlDriver: Send + Sync + 'static {
    fn dialect(&self) -> &'static dyn Dialect;
    /// Runs a row-returning query outside any transaction.
    async fn records(&self, q: &Query) -> Result<Vec<Record>, ConnectorError>;
    /// A read's rows; engines that build the answer's JSON themselves hand
    /// back its text ([`Rows::Json`]).
    async fn rows(&self, q: &Query) -> Result<Rows, ConnectorError> {
        self.records(q).await.map(Rows::Records)
    }
    /// Runs one write on its own (it commits by itself). An engine that can
    /// tell a failure after the statement was sent answers it as
    /// [`ErrorKind::OutcomeUnknown`](gatehouse_core::ErrorKind::OutcomeUnknown).
    async fn write(&self, q: &Query) -> Result<Vec<Record>, ConnectorError> {
        self.records(q).await
    }
    async fn count(&self, q: &Query) -> Result<u64, ConnectorError>;
    async fn begin(&self) -> Result<Box<dyn SqlTransaction>, ConnectorError>;
    async fn introspect(&self) -> Result<Catalog, ConnectorError>;
    async fn ping(&self) -> Result<(), ConnectorError>;
    async fn close(&self);
    /// Streams the rows of a query printed with [`Output::Cells`] as export
    /// lines; `None`: this engine pages instead ([`gatehouse_core::connector::paged_export`]).
    fn stream(&self, _q: Query, _format: ExportFormat) -> Option<ExportStream> {
        None
    }
}

/// What a statement without result rows did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Executed {
    /// The value an auto-increment column received (MySQL's `LAST_INSERT_ID()`).
    pub last_insert_id: Option<u64>,
}

#[async_trait]
pub trait SqlTransaction: Send {
    async fn records(&mut self, q: &Query) -> Result<Vec<Record>, ConnectorError>;
    async fn execute(&mut self, q: &Query) -> Result<Executed, ConnectorError>;
    async fn commit(self: Box<Self>) -> Result<(), ConnectorError>;
    async fn rollback(self: Box<Self>) -> Result<(), ConnectorError>;
}

pub struct SqlConnector<D> {
    driver: D,
    engine: &'static str,
    capabilities: Capabilities,
}

/// One write, ready to run.
enum Write {
    /// A statement that hands back the rows it wrote (RETURNING / OUTPUT).
    Returning { q: Query, expect_row: bool },
    /// For dialects without RETURNING: steps run in one transaction that read
    /// the written rows back (see [`SqlConnector::read_back`]).
    ReadBack(ReadBack),
}

struct ReadBack {
    table: Arc<Table>,
    returning: Vec<OutCol>,
    expect_row: bool,
    step: Step,
}

enum Step {
    Insert {
        stmt: Query,
        record: Record,
    },
    Update {
        /// Reads the key (or, without a key, every column) of the rows to update.
        before: Query,
        stmt: Query,
        record: Record,
    },
    Delete {
        /// Reads the rows about to go.
        before: Query,
        stmt: Query,
    },
}

type Prepared = Result<Write, ConnectorError>;

/// A row filter the written rows must satisfy, and what the caller asked to get back.
struct Check {
    table: Arc<Table>,
    filter: Expr,
    /// The columns asked for; the write itself also returns the key, to find its rows.
    asked: Vec<OutCol>,
}

fn not_found() -> ConnectorError {
    ConnectorError::public(ErrorKind::NotFound, "record not found")
}

/// The outcome of a write's rows; `expect_row`: it addressed one record by key,
/// so touching none is `NotFound`.
fn outcome(rows: Result<Vec<Record>, ConnectorError>, expect_row: bool) -> ItemOutcome {
    match rows {
        Ok(rows) if expect_row && rows.is_empty() => ItemOutcome::Failed(not_found()),
        Ok(rows) => ItemOutcome::Done(rows),
        Err(e) => ItemOutcome::Failed(e),
    }
}

/// `record` restricted to `cols`, in that order (the columns it lacks are left out).
fn project(record: &Record, cols: &[OutCol]) -> Record {
    cols.iter()
        .filter_map(|c| record.get(&c.name).map(|v| (c.name.clone(), v.clone())))
        .collect()
}

impl<D: SqlDriver> SqlConnector<D> {
    pub fn new(driver: D, engine: &'static str, capabilities: Capabilities) -> Self {
        Self {
            driver,
            engine,
            capabilities,
        }
    }

    fn dialect(&self) -> &'static dyn Dialect {
        self.driver.dialect()
    }

    /// The statement's text and values; one binding more values than the
    /// engine takes is refused here, before it is sent (sqlx would fail it
    /// as a protocol error, which looks like a broken connection).
    fn print(&self, stmt: &Statement) -> Result<Query, ConnectorError> {
        let q = Printer::print(self.dialect(), stmt);
        let max = self.dialect().max_params();
        if q.params.len() > max {
            return Err(ConnectorError::public(
                ErrorKind::LimitExceeded,
                format!(
                    "this request needs {} values in one statement; this database takes at most {max}",
                    q.params.len()
                ),
            ));
        }
        Ok(q)
    }

    fn reads_back(&self) -> bool {
        self.dialect().returning_style() == ReturningStyle::None
    }

    fn check_writable(table: &Table) -> Result<(), ConnectorError> {
        if table.writable {
            Ok(())
        } else {
            Err(ConnectorError::public(
                ErrorKind::ReadOnly,
                format!("'{}' is a read-only view", table.name),
            ))
        }
    }

    /// Runs one write whose statement cannot return rows, inside `tx`: the rows
    /// are read back by key after an insert or update, and before a delete.
    async fn read_back(
        &self,
        tx: &mut dyn SqlTransaction,
        rb: &ReadBack,
    ) -> Result<Vec<Record>, ConnectorError> {
        let t = &rb.table;
        let select_keys = |keys: &[Record]| -> Result<Query, ConnectorError> {
            let filter = translate::keys_filter(t, keys);
            self.print(&translate::select_where(t, rb.returning.clone(), &filter)?)
        };
        match &rb.step {
            Step::Insert { stmt, record } => {
                let done = tx.execute(stmt).await?;
                // The new key: given in the record, or assigned by auto-increment.
                let mut key = Record::new();
                for name in &t.primary_key {
                    let given = record.get(name).filter(|v| !v.is_null()).cloned();
                    let auto = t
                        .column(name)
                        .filter(|c| c.auto_increment)
                        .and(done.last_insert_id)
                        .filter(|id| *id > 0)
                        .map(Value::from);
                    match given.or(auto) {
                        Some(v) => key.insert(name.clone(), v),
                        None => break,
                    };
                }
                if t.primary_key.is_empty() || key.len() < t.primary_key.len() {
                    // No way to find the row again: answer what was written.
                    return Ok(vec![project(record, &rb.returning)]);
                }
                tx.records(&select_keys(&[key])?).await
            }
            Step::Update {
                before,
                stmt,
                record,
            } => {
                let rows = tx.records(before).await?;
                if rows.is_empty() {
                    return if rb.expect_row {
                        Err(not_found())
                    } else {
                        Ok(rows)
                    };
                }
                tx.execute(stmt).await?;
                // A key the update changed is looked up by its new value.
                let apply = |mut r: Record| {
                    for (k, v) in record {
                        if let Some(slot) = r.get_mut(k) {
                            *slot = v.clone();
                        }
                    }
                    r
                };
                let rows: Vec<Record> = rows.into_iter().map(apply).collect();
                if t.primary_key.is_empty() {
                    return Ok(rows.iter().map(|r| project(r, &rb.returning)).collect());
                }
                tx.records(&select_keys(&rows)?).await
            }
            Step::Delete { before, stmt } => {
                let rows = tx.records(before).await?;
                if rows.is_empty() && rb.expect_row {
                    return Err(not_found());
                }
                tx.execute(stmt).await?;
                Ok(rows)
            }
        }
    }

    /// One write inside `tx`, as an outcome.
    async fn write_in(
        &self,
        tx: &mut dyn SqlTransaction,
        w: &Write,
        check: Option<&Check>,
    ) -> ItemOutcome {
        let (rows, expect_row) = match w {
            Write::Returning { q, expect_row } => (tx.records(q).await, *expect_row),
            // read_back answers NotFound itself
            Write::ReadBack(rb) => (self.read_back(tx, rb).await, false),
        };
        let rows = match (rows, check) {
            (Ok(rows), Some(c)) => self.verify(tx, c, rows).await,
            (rows, _) => rows,
        };
        outcome(rows, expect_row)
    }

    /// The written rows, if every one satisfies the check (looked up by key
    /// inside the write's transaction), cut down to the columns asked for.
    async fn verify(
        &self,
        tx: &mut dyn SqlTransaction,
        c: &Check,
        rows: Vec<Record>,
    ) -> Result<Vec<Record>, ConnectorError> {
        if rows.is_empty() {
            return Ok(rows);
        }
        let t = &c.table;
        let filter = Expr::And(vec![translate::keys_filter(t, &rows), c.filter.clone()]);
        let key = translate::out_cols(t, &t.primary_key)?;
        let visible = tx
            .records(&self.print(&translate::select_where(t, key, &filter)?)?)
            .await?;
        if visible.len() < rows.len() {
            return Err(ConnectorError::outside_row_filter());
        }
        Ok(rows.iter().map(|r| project(r, &c.asked)).collect())
    }

    /// What a checked write returns (the key added to the columns asked
    /// for), and the check; refuses a table whose rows cannot be found again.
    fn checked(
        t: &Arc<Table>,
        filter: Option<&Expr>,
        asked: Vec<OutCol>,
    ) -> Result<(Vec<OutCol>, Option<Check>), ConnectorError> {
        let Some(filter) = filter else {
            return Ok((asked, None));
        };
        if t.primary_key.is_empty() {
            return Err(ConnectorError::public(
                ErrorKind::Forbidden,
                format!(
                    "'{}' has no primary key, so its rows cannot be checked against this role's row filter",
                    t.name
                ),
            ));
        }
        translate::cond(filter, t)?;
        let mut cols = asked.clone();
        for k in translate::out_cols(t, &t.primary_key)? {
            if !cols.iter().any(|c| c.name == k.name) {
                cols.push(k);
            }
        }
        let check = Check {
            table: t.clone(),
            filter: filter.clone(),
            asked,
        };
        Ok((cols, Some(check)))
    }

    /// One write on its own.
    async fn write_alone(&self, w: &Write, check: Option<&Check>) -> ItemOutcome {
        if let (Write::Returning { q, expect_row }, None) = (w, check) {
            // A single statement is atomic by itself: no transaction round-trips.
            return outcome(self.driver.write(q).await, *expect_row);
        }
        let mut tx = match self.driver.begin().await {
            Ok(tx) => tx,
            Err(e) => return ItemOutcome::Failed(e),
        };
        let done = self.write_in(tx.as_mut(), w, check).await;
        let end = if matches!(done, ItemOutcome::Done(_)) {
            tx.commit().await.map_err(ConnectorError::after_sending)
        } else {
            tx.rollback().await
        };
        match end {
            Ok(()) => done,
            Err(e) => ItemOutcome::Failed(e),
        }
    }

    /// An all-or-nothing batch of records that give the same fields, as one
    /// statement: one round trip instead of one per record. Only for dialects
    /// whose multi-row insert returns its rows in order (`rows_per_insert`); it runs in a
    /// transaction kept only if every record came back as one row (a trigger
    /// may skip a row). `None`: nothing was written — the records go one by
    /// one, which also names the record a failure belongs to.
    async fn insert_at_once(
        &self,
        req: &InsertRequest,
        returning: &[OutCol],
    ) -> Result<Option<Vec<ItemOutcome>>, ConnectorError> {
        let n = req.records.len();
        let per_row = req.records.first().map_or(0, serde_json::Map::len);
        if req.batch == BatchMode::Continue || n < 2 || n > self.dialect().rows_per_insert(per_row)
        {
            return Ok(None);
        }
        // a bad value: the record-by-record path reports it with its index
        let Ok(Some(stmt)) = translate::insert_rows(&req.table, &req.records, returning) else {
            return Ok(None);
        };
        let Ok(q) = self.print(&stmt) else {
            return Ok(None);
        };
        let mut tx = self.driver.begin().await?;
        match tx.records(&q).await {
            Ok(rows) if rows.len() == req.records.len() => {
                tx.commit().await.map_err(ConnectorError::after_sending)?;
                Ok(Some(
                    rows.into_iter()
                        .map(|r| ItemOutcome::Done(vec![r]))
                        .collect(),
                ))
            }
            _ => {
                tx.rollback().await?;
                Ok(None)
            }
        }
    }

    /// Runs the writes with the batch's semantics.
    async fn run(
        &self,
        items: Vec<Prepared>,
        mode: BatchMode,
        check: Option<&Check>,
    ) -> Result<Vec<ItemOutcome>, ConnectorError> {
        if mode == BatchMode::Continue || items.len() == 1 {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(match item {
                    Ok(w) => self.write_alone(&w, check).await,
                    Err(e) => ItemOutcome::Failed(e),
                });
            }
            return Ok(out);
        }
        // Atomic: build everything first, so a bad value fails before any write.
        if let Some(i) = items.iter().position(std::result::Result::is_err) {
            return Ok(items
                .into_iter()
                .enumerate()
                .map(|(j, r)| match r {
                    Err(e) if j == i => ItemOutcome::Failed(e),
                    _ => ItemOutcome::Skipped,
                })
                .collect());
        }
        let mut tx = self.driver.begin().await?;
        let mut out: Vec<ItemOutcome> = Vec::with_capacity(items.len());
        let mut failed = false;
        for w in items.into_iter().flatten() {
            if failed {
                out.push(ItemOutcome::Skipped);
                continue;
            }
            let outcome = self.write_in(tx.as_mut(), &w, check).await;
            failed = matches!(outcome, ItemOutcome::Failed(_));
            out.push(outcome);
        }
        if failed {
            tx.rollback().await?;
            // Nothing was kept: the records that ran are undone, not done.
            for o in &mut out {
                if matches!(o, ItemOutcome::Done(_)) {
                    *o = ItemOutcome::Skipped;
                }
            }
        } else {
            tx.commit().await.map_err(ConnectorError::after_sending)?;
        }
        Ok(out)
    }

    fn read_back_item(
        table: &Arc<Table>,
        returning: &[OutCol],
        expect_row: bool,
        step: Step,
    ) -> Write {
        Write::ReadBack(ReadBack {
            table: table.clone(),
            returning: returning.to_vec(),
            expect_row,
            step,
        })
    }

    /// What an update or delete reads first when the dialect cannot return rows.
    fn before(&self, t: &Table, filter: &Expr, cols: &[OutCol]) -> Result<Query, ConnectorError> {
        self.print(&translate::select_where(t, cols.to_vec(), filter)?)
    }
}

#[async_trait]
impl<D: SqlDriver> Connector for SqlConnector<D> {
    fn engine(&self) -> &'static str {
        self.engine
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    async fn introspect(&self) -> Result<Catalog, ConnectorError> {
        self.driver.introspect().await
    }

    async fn ping(&self) -> Result<(), ConnectorError> {
        self.driver.ping().await
    }

    async fn select(&self, req: &SelectRequest) -> Result<SelectResult, ConnectorError> {
        let t = &req.table;
        let filter = translate::opt_cond(req.filter.as_ref(), t)?;
        let count = if req.count == CountMode::None {
            None
        } else {
            let q = self.print(&translate::count_of(req, filter.clone()))?;
            Some(self.driver.count(&q).await?)
        };
        if req.count == CountMode::Only {
            return Ok(SelectResult {
                rows: Rows::default(),
                count,
            });
        }
        let q = self.print(&translate::select_of(req, filter, false)?)?;
        let rows = self.driver.rows(&q).await?;
        Ok(SelectResult { rows, count })
    }

    /// One query whose rows stream off the wire, where the driver can;
    /// otherwise pages of [`select`](Connector::select).
    fn export(self: Arc<Self>, req: SelectRequest, format: ExportFormat) -> ExportStream {
        let stmt = translate::opt_cond(req.filter.as_ref(), &req.table)
            .and_then(|filter| translate::select_of(&req, filter, true));
        let q = match stmt.and_then(|stmt| self.print(&stmt)) {
            Ok(q) => q,
            Err(e) => return Box::pin(futures_util::stream::once(async move { Err(e) })),
        };
        if matches!(q.output, Output::Cells(_))
            && let Some(stream) = self.driver.stream(q, format)
        {
            return stream;
        }
        gatehouse_core::connector::paged_export(self, req, format)
    }

    async fn insert(&self, req: &InsertRequest) -> Result<Vec<ItemOutcome>, ConnectorError> {
        let t = &req.table;
        Self::check_writable(t)?;
        let asked = translate::returning_cols(t, &req.returning)?;
        let (returning, check) = Self::checked(t, req.check.as_ref(), asked)?;
        if check.is_none()
            && let Some(done) = self.insert_at_once(req, &returning).await?
        {
            return Ok(done);
        }
        let items = req
            .records
            .iter()
            .map(|r| {
                let q = self.print(&translate::insert(t, r, &returning)?)?;
                Ok(if self.reads_back() {
                    let step = Step::Insert {
                        stmt: q,
                        record: r.clone(),
                    };
                    Self::read_back_item(t, &returning, false, step)
                } else {
                    Write::Returning {
                        q,
                        expect_row: false,
                    }
                })
            })
            .collect();
        self.run(items, req.batch, check.as_ref()).await
    }

    async fn update(&self, req: &UpdateRequest) -> Result<Vec<ItemOutcome>, ConnectorError> {
        let t = &req.table;
        Self::check_writable(t)?;
        let asked = translate::returning_cols(t, &req.returning)?;
        let (returning, check) = Self::checked(t, req.check.as_ref(), asked)?;
        // Rows are found again by key; without one, every column is read first.
        let before_cols = if t.primary_key.is_empty() {
            translate::returning_cols(t, &[])?
        } else {
            translate::out_cols(t, &t.primary_key)?
        };
        let items = req
            .items
            .iter()
            .map(|i| {
                let stmt = translate::update(t, &i.filter, &i.values, req.replace, &returning)?;
                let q = self.print(&stmt)?;
                Ok(if self.reads_back() {
                    let step = Step::Update {
                        before: self.before(t, &i.filter, &before_cols)?,
                        stmt: q,
                        record: i.values.clone(),
                    };
                    Self::read_back_item(t, &returning, i.expect_row, step)
                } else {
                    Write::Returning {
                        q,
                        expect_row: i.expect_row,
                    }
                })
            })
            .collect();
        self.run(items, req.batch, check.as_ref()).await
    }

    async fn delete(&self, req: &DeleteRequest) -> Result<Vec<ItemOutcome>, ConnectorError> {
        let t = &req.table;
        Self::check_writable(t)?;
        let returning = translate::returning_cols(t, &req.returning)?;
        let items = req
            .items
            .iter()
            .map(|i| {
                let q = self.print(&translate::delete(t, &i.filter, &returning)?)?;
                Ok(if self.reads_back() {
                    let step = Step::Delete {
                        before: self.before(t, &i.filter, &returning)?,
                        stmt: q,
                    };
                    Self::read_back_item(t, &returning, i.expect_row, step)
                } else {
                    Write::Returning {
                        q,
                        expect_row: i.expect_row,
                    }
                })
            })
            .collect();
        self.run(items, req.batch, None).await
    }

    async fn close(&self) {
        self.driver.close().await;
    }
}
