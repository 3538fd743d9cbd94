//! [`SqlConnector`]: the `Connector` trait implemented once for every SQL
//! engine. An engine supplies a [`SqlDriver`] — run a printed query, decode its
//! rows, open a transaction, introspect — and everything else (translation,
//! batches, atomicity, not-found checks) lives here.

use crate::ast::{Count, Query, Select, Statement};
use crate::dialect::{Dialect, Printer};
use crate::translate;
use async_trait::async_trait;
use gatehouse_core::{
    BatchMode, Capabilities, Catalog, Connector, ConnectorError, CountMode, DeleteRequest,
    ErrorKind, InsertRequest, ItemOutcome, Record, SelectRequest, SelectResult, UpdateRequest,
};

/// What an engine must provide. Errors are already mapped to shared kinds.
#[async_trait]
pub trait SqlDriver: Send + Sync + 'static {
    fn dialect(&self) -> &'static dyn Dialect;
    /// Runs a row-returning query outside any transaction.
    async fn records(&self, q: &Query) -> Result<Vec<Record>, ConnectorError>;
    async fn count(&self, q: &Query) -> Result<u64, ConnectorError>;
    async fn begin(&self) -> Result<Box<dyn SqlTransaction>, ConnectorError>;
    async fn introspect(&self) -> Result<Catalog, ConnectorError>;
    async fn ping(&self) -> Result<(), ConnectorError>;
    async fn close(&self);
}

#[async_trait]
pub trait SqlTransaction: Send {
    async fn records(&mut self, q: &Query) -> Result<Vec<Record>, ConnectorError>;
    async fn commit(self: Box<Self>) -> Result<(), ConnectorError>;
    async fn rollback(self: Box<Self>) -> Result<(), ConnectorError>;
}

pub struct SqlConnector<D> {
    driver: D,
    engine: &'static str,
    capabilities: Capabilities,
}

/// One statement of a write, ready to run, or the reason it could not be built.
type Prepared = Result<(Query, bool), ConnectorError>;

impl<D: SqlDriver> SqlConnector<D> {
    pub fn new(driver: D, engine: &'static str, capabilities: Capabilities) -> Self {
        Self {
            driver,
            engine,
            capabilities,
        }
    }

    fn print(&self, stmt: &Statement) -> Query {
        Printer::print(self.driver.dialect(), stmt)
    }

    fn check_writable(table: &gatehouse_core::Table) -> Result<(), ConnectorError> {
        if table.writable {
            Ok(())
        } else {
            Err(ConnectorError::public(
                ErrorKind::ReadOnly,
                format!("'{}' is a read-only view", table.name),
            ))
        }
    }

    /// Runs the statements of a write with the batch's semantics.
    async fn run(
        &self,
        items: Vec<Prepared>,
        mode: BatchMode,
    ) -> Result<Vec<ItemOutcome>, ConnectorError> {
        let check = |rows: Vec<Record>, expect_row: bool| {
            if expect_row && rows.is_empty() {
                ItemOutcome::Failed(ConnectorError::public(
                    ErrorKind::NotFound,
                    "record not found",
                ))
            } else {
                ItemOutcome::Done(rows)
            }
        };
        // A single statement is atomic by itself: no transaction round-trips.
        if mode == BatchMode::Continue || items.len() == 1 {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(match item {
                    Ok((q, expect_row)) => match self.driver.records(&q).await {
                        Ok(rows) => check(rows, expect_row),
                        Err(e) => ItemOutcome::Failed(e),
                    },
                    Err(e) => ItemOutcome::Failed(e),
                });
            }
            return Ok(out);
        }
        // Atomic: build everything first, so a bad value fails before any write.
        if let Some(i) = items.iter().position(|r| r.is_err()) {
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
        for (q, expect_row) in items.into_iter().flatten() {
            if failed {
                out.push(ItemOutcome::Skipped);
                continue;
            }
            let outcome = match tx.records(&q).await {
                Ok(rows) => check(rows, expect_row),
                Err(e) => ItemOutcome::Failed(e),
            };
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
            tx.commit().await?;
        }
        Ok(out)
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
            let q = self.print(&Statement::Count(Count {
                table: translate::table_ref(t),
                filter: filter.clone(),
            }));
            Some(self.driver.count(&q).await?)
        };
        if req.count == CountMode::Only {
            return Ok(SelectResult {
                rows: Vec::new(),
                count,
            });
        }
        let q = self.print(&Statement::Select(Select {
            table: translate::table_ref(t),
            columns: translate::out_cols(t, &req.fields)?,
            filter,
            order: translate::order(t, &req.order)?,
            limit: req.limit,
            offset: req.offset,
        }));
        let rows = self.driver.records(&q).await?;
        Ok(SelectResult { rows, count })
    }

    async fn insert(&self, req: &InsertRequest) -> Result<Vec<ItemOutcome>, ConnectorError> {
        let t = &req.table;
        Self::check_writable(t)?;
        let returning = translate::returning_cols(t, &req.returning)?;
        let items = req
            .records
            .iter()
            .map(|r| translate::insert(t, r, &returning).map(|s| (self.print(&s), false)))
            .collect();
        self.run(items, req.batch).await
    }

    async fn update(&self, req: &UpdateRequest) -> Result<Vec<ItemOutcome>, ConnectorError> {
        let t = &req.table;
        Self::check_writable(t)?;
        let returning = translate::returning_cols(t, &req.returning)?;
        let items = req
            .items
            .iter()
            .map(|i| {
                translate::update(t, &i.filter, &i.values, req.replace, &returning)
                    .map(|s| (self.print(&s), i.expect_row))
            })
            .collect();
        self.run(items, req.batch).await
    }

    async fn delete(&self, req: &DeleteRequest) -> Result<Vec<ItemOutcome>, ConnectorError> {
        let t = &req.table;
        Self::check_writable(t)?;
        let returning = translate::returning_cols(t, &req.returning)?;
        let items = req
            .items
            .iter()
            .map(|i| {
                translate::delete(t, &i.filter, &returning).map(|s| (self.print(&s), i.expect_row))
            })
            .collect();
        self.run(items, req.batch).await
    }

    async fn close(&self) {
        self.driver.close().await
    }
}
