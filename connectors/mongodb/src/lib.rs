//! The MongoDB connector (official driver): collections as tables, a schema
//! inferred from a `$sample` of each collection, the filter language
//! translated to query documents, and writes as `insert_one` / `$set` /
//! replace / delete by `_id`.
//!
//! Atomic batches: MongoDB has multi-document transactions only on replica sets
//! and sharded clusters, so this connector makes a batch atomic by
//! **compensation** on every deployment: each write records how to undo itself
//! (delete what was inserted, put back the documents an update or delete
//! touched) and a failure undoes the batch in reverse order. Readers may see a
//! batch's records before it is undone: compensation is atomic, not isolated.

mod convert;
mod filter;
mod infer;

use async_trait::async_trait;
use convert::{bson_to_json, json_to_bson};
use futures_util::TryStreamExt;
use gatehouse_core::{
    ApiType, BatchMode, Capabilities, Catalog, ConnectionConfig, Connector, ConnectorError,
    CountMode, DeleteRequest, ErrorKind, Expr, InsertRequest, ItemOutcome, OrderBy, Record, Rows,
    SelectRequest, SelectResult, Table, UpdateRequest, WriteItem,
};
use mongodb::bson::{Bson, Document, doc, oid::ObjectId};
use mongodb::error::{ErrorKind as MongoKind, WriteFailure};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub const CAPABILITIES: Capabilities = Capabilities {
    // MongoDB sorts null (and missing) fields as the lowest values
    nulls: gatehouse_core::NullsOrder::Lowest,
};

/// Opens a client on `cfg.url` (`mongodb://user:pass@host:27017/database`);
/// the database is the one the connection string names.
pub async fn connect(cfg: &ConnectionConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    let mut opts = ClientOptions::parse(&cfg.url).await.map_err(|e| {
        let mut err = ConnectorError::new(ErrorKind::InvalidInput, e.to_string());
        err.public = Some("cannot connect to the database: invalid connection string".into());
        err
    })?;
    opts.app_name = Some("gatehouse".into());
    opts.server_selection_timeout = Some(Duration::from_secs(5));
    opts.connect_timeout = Some(Duration::from_secs(5));
    opts.max_pool_size = Some(cfg.pool_max.max(1));
    let Some(db_name) = opts.default_database.clone() else {
        return Err(ConnectorError::public(
            ErrorKind::InvalidInput,
            "cannot connect to the database: the connection string names no database (mongodb://host:27017/database)",
        ));
    };
    let client = Client::with_options(opts).map_err(connect_error)?;
    let db = client.database(&db_name);
    db.run_command(doc! {"ping": 1})
        .await
        .map_err(connect_error)?;
    Ok(Arc::new(Mongo {
        client,
        db,
        sample_size: cfg.sample_size.max(1),
    }))
}

fn connect_error(e: mongodb::error::Error) -> ConnectorError {
    let reason = match e.kind.as_ref() {
        MongoKind::Authentication { .. } => "authentication failed",
        MongoKind::ServerSelection { .. } => "no server answered",
        MongoKind::Io(_) => "network error",
        MongoKind::DnsResolve { .. } => "host not found",
        MongoKind::InvalidArgument { .. } => "invalid connection string",
        _ => "could not connect",
    };
    let mut err = ConnectorError::new(ErrorKind::Unavailable, e.to_string());
    err.public = Some(format!("cannot connect to the database: {reason}"));
    err
}

/// The server's error code, where the error carries one.
fn code(e: &mongodb::error::Error) -> Option<i32> {
    match e.kind.as_ref() {
        MongoKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        MongoKind::Command(c) => Some(c.code),
        MongoKind::InsertMany(m) => m.write_errors.as_ref()?.first().map(|w| w.code),
        _ => None,
    }
}

fn err(e: mongodb::error::Error) -> ConnectorError {
    let (kind, public) = match code(&e) {
        Some(11000 | 11001) => (ErrorKind::UniqueViolation, "duplicate key"),
        Some(66) => (ErrorKind::InvalidInput, "a document's _id cannot change"),
        Some(121) => (
            ErrorKind::Check,
            "the collection's validator rejected the document",
        ),
        Some(2 | 9 | 52 | 55 | 56 | 57) => {
            (ErrorKind::InvalidInput, "the database refused the request")
        }
        Some(26) => (ErrorKind::NotFound, "collection not found"),
        _ => match e.kind.as_ref() {
            MongoKind::Io(_)
            | MongoKind::ServerSelection { .. }
            | MongoKind::ConnectionPoolCleared { .. } => {
                (ErrorKind::Unavailable, "the database is unavailable")
            }
            _ => (ErrorKind::Internal, ""),
        },
    };
    let mut out = ConnectorError::new(kind, e.to_string());
    if !public.is_empty() {
        out.public = Some(public.into());
    }
    out
}

struct Mongo {
    client: Client,
    db: Database,
    sample_size: u32,
}

/// How to take back one write of a batch.
enum Undo {
    Delete(Bson),
    /// Put these documents back as they were (after an update or delete).
    Restore(Vec<Document>),
}

fn not_found() -> ConnectorError {
    ConnectorError::public(ErrorKind::NotFound, "record not found")
}

/// `doc` as an API record of `fields` (dotted paths read nested values;
/// a field the document lacks is null, so every record has the same shape).
/// A boolean field holding 0 or 1 reads as a boolean: NX-27017 stores the
/// booleans of `$set` so.
fn record(t: &Table, doc: &Document, fields: &[String]) -> Record {
    fields
        .iter()
        .map(|f| {
            let mut v: Option<&Bson> = None;
            let mut cur = Some(doc);
            for seg in f.split('.') {
                v = cur.and_then(|d| d.get(seg));
                cur = match v {
                    Some(Bson::Document(d)) => Some(d),
                    _ => None,
                };
            }
            let v = match (v, t.column(f).map(|c| c.api_type)) {
                (Some(Bson::Int32(n)), Some(ApiType::Boolean)) if *n == 0 || *n == 1 => {
                    Value::Bool(*n == 1)
                }
                (v, _) => v.map_or(Value::Null, bson_to_json),
            };
            (f.clone(), v)
        })
        .collect()
}

fn returning_fields(t: &Table, asked: &[String]) -> Vec<String> {
    if asked.is_empty() {
        t.primary_key.clone()
    } else {
        asked.to_vec()
    }
}

fn sort_doc(order: &[OrderBy]) -> Document {
    let mut sort = Document::new();
    for o in order {
        // nulls are lowest; a request for another order was refused by the
        // router (Capabilities::nulls)
        sort.insert(o.field.clone(), if o.descending { -1 } else { 1 });
    }
    sort
}

impl Mongo {
    fn coll(&self, t: &Table) -> Collection<Document> {
        self.db.collection(&t.db_name)
    }

    async fn find_docs(
        &self,
        t: &Table,
        filter: Document,
    ) -> Result<Vec<Document>, ConnectorError> {
        self.coll(t)
            .find(filter)
            .await
            .map_err(err)?
            .try_collect()
            .await
            .map_err(err)
    }

    fn ids_filter(docs: &[Document]) -> Document {
        let ids: Vec<Bson> = docs.iter().filter_map(|d| d.get("_id").cloned()).collect();
        doc! {"_id": {"$in": ids}}
    }

    /// One insert; on success the undo is recorded.
    async fn insert_one(
        &self,
        t: &Table,
        rec: &Record,
        fields: &[String],
        undo: &mut Vec<Undo>,
    ) -> Result<Vec<Record>, ConnectorError> {
        let mut doc = Document::new();
        if !rec.contains_key("_id") {
            // chosen here, so the write can be undone without reading it back
            doc.insert("_id", ObjectId::new());
        }
        for (k, v) in rec {
            doc.insert(k.clone(), json_to_bson(v, t.column(k), k)?);
        }
        self.coll(t).insert_one(&doc).await.map_err(err)?;
        if let Some(id) = doc.get("_id") {
            undo.push(Undo::Delete(id.clone()));
        }
        Ok(vec![record(t, &doc, fields)])
    }

    async fn update_one_item(
        &self,
        t: &Table,
        item: &WriteItem,
        replace: bool,
        fields: &[String],
        undo: &mut Vec<Undo>,
    ) -> Result<Vec<Record>, ConnectorError> {
        let before = self.find_docs(t, filter::to_doc(&item.filter, t)?).await?;
        if before.is_empty() {
            return if item.expect_row {
                Err(not_found())
            } else {
                Ok(Vec::new())
            };
        }
        let mut values = Document::new();
        for (k, v) in &item.values {
            if k == "_id" {
                // the key selects the document; it cannot be rewritten
                continue;
            }
            values.insert(k.clone(), json_to_bson(v, t.column(k), k)?);
        }
        undo.push(Undo::Restore(before.clone()));
        let coll = self.coll(t);
        if replace {
            if values.keys().any(|k| k.contains('.')) {
                return Err(ConnectorError::public(
                    ErrorKind::InvalidInput,
                    "a replacement document cannot use dotted paths",
                ));
            }
            for d in &before {
                let id = d.get("_id").cloned().unwrap_or(Bson::Null);
                coll.replace_one(doc! {"_id": id}, values.clone())
                    .await
                    .map_err(err)?;
            }
        } else if !values.is_empty() {
            coll.update_many(Self::ids_filter(&before), doc! {"$set": values.clone()})
                .await
                .map_err(err)?;
        }
        let after = self.find_docs(t, Self::ids_filter(&before)).await?;
        Ok(after.iter().map(|d| record(t, d, fields)).collect())
    }

    async fn delete_one_item(
        &self,
        t: &Table,
        item: &WriteItem,
        fields: &[String],
        undo: &mut Vec<Undo>,
    ) -> Result<Vec<Record>, ConnectorError> {
        let before = self.find_docs(t, filter::to_doc(&item.filter, t)?).await?;
        if before.is_empty() {
            return if item.expect_row {
                Err(not_found())
            } else {
                Ok(Vec::new())
            };
        }
        undo.push(Undo::Restore(before.clone()));
        self.coll(t)
            .delete_many(Self::ids_filter(&before))
            .await
            .map_err(err)?;
        Ok(before.iter().map(|d| record(t, d, fields)).collect())
    }

    /// Takes back the writes of `undo`, newest first. Best effort: a failure
    /// here is logged (the database may be gone), never hidden as success.
    async fn compensate(&self, t: &Table, undo: Vec<Undo>) {
        let coll = self.coll(t);
        for u in undo.into_iter().rev() {
            let r = match u {
                Undo::Delete(id) => coll.delete_one(doc! {"_id": id}).await.map(|_| ()),
                Undo::Restore(docs) => {
                    let mut r = Ok(());
                    for d in docs {
                        let id = d.get("_id").cloned().unwrap_or(Bson::Null);
                        if let Err(e) = coll.replace_one(doc! {"_id": id}, d).upsert(true).await {
                            r = Err(e);
                        }
                    }
                    r
                }
            };
            if let Err(e) = r {
                tracing::error!(collection = %t.db_name, error = %e, "could not undo a write of a failed batch");
            }
        }
    }

    /// One write; its undo steps go to `undo` even when it fails part-way.
    async fn apply(
        &self,
        t: &Table,
        op: Op<'_>,
        fields: &[String],
        undo: &mut Vec<Undo>,
    ) -> Result<Vec<Record>, ConnectorError> {
        match op {
            Op::Insert(rec) => self.insert_one(t, rec, fields, undo).await,
            Op::Update(item, replace) => self.update_one_item(t, item, replace, fields, undo).await,
            Op::Delete(item) => self.delete_one_item(t, item, fields, undo).await,
        }
    }

    /// Whether every document an item wrote (the ids its undo names)
    /// satisfies `check`.
    async fn verify(
        &self,
        t: &Table,
        check: &Document,
        undo: &[Undo],
    ) -> Result<(), ConnectorError> {
        let ids: Vec<Bson> = undo
            .iter()
            .flat_map(|u| match u {
                Undo::Delete(id) => vec![id.clone()],
                Undo::Restore(docs) => docs.iter().filter_map(|d| d.get("_id").cloned()).collect(),
            })
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let n = ids.len() as u64;
        let seen = self
            .coll(t)
            .count_documents(doc! {"$and": [{"_id": {"$in": ids}}, check.clone()]})
            .await
            .map_err(err)?;
        if seen < n {
            return Err(ConnectorError::outside_row_filter());
        }
        Ok(())
    }

    /// Runs a write's items with the batch's semantics; `check` is the
    /// row filter every written document must satisfy.
    async fn run(
        &self,
        t: &Table,
        ops: impl Iterator<Item = Op<'_>>,
        mode: BatchMode,
        returning: &[String],
        check: Option<&Expr>,
    ) -> Result<Vec<ItemOutcome>, ConnectorError> {
        let check = check.map(|c| filter::to_doc(c, t)).transpose()?;
        let fields = returning_fields(t, returning);
        let mut out = Vec::new();
        let mut done: Vec<Undo> = Vec::new();
        let mut failed = false;
        for op in ops {
            if failed {
                out.push(ItemOutcome::Skipped);
                continue;
            }
            let mut undo = Vec::new();
            let mut result = self.apply(t, op, &fields, &mut undo).await;
            if let (Ok(_), Some(c)) = (&result, &check)
                && let Err(e) = self.verify(t, c, &undo).await
            {
                result = Err(e);
            }
            match result {
                Ok(rows) => {
                    done.extend(undo);
                    out.push(ItemOutcome::Done(rows));
                }
                Err(e) => {
                    // an item is atomic on its own: take back its partial writes
                    self.compensate(t, undo).await;
                    out.push(ItemOutcome::Failed(e));
                    failed = mode == BatchMode::Atomic;
                }
            }
        }
        if failed && out.len() > 1 {
            self.compensate(t, done).await;
            for o in &mut out {
                if matches!(o, ItemOutcome::Done(_)) {
                    *o = ItemOutcome::Skipped;
                }
            }
        }
        Ok(out)
    }
}

/// One item of a write.
enum Op<'a> {
    Insert(&'a Record),
    /// The item, and whether it replaces the document (PUT).
    Update(&'a WriteItem, bool),
    Delete(&'a WriteItem),
}

#[async_trait]
impl Connector for Mongo {
    fn engine(&self) -> &'static str {
        "mongodb"
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    async fn introspect(&self) -> Result<Catalog, ConnectorError> {
        infer::catalog(&self.db, self.sample_size).await
    }

    async fn ping(&self) -> Result<(), ConnectorError> {
        self.db
            .run_command(doc! {"ping": 1})
            .await
            .map(|_| ())
            .map_err(err)
    }

    async fn select(&self, req: &SelectRequest) -> Result<SelectResult, ConnectorError> {
        let t = &req.table;
        let filter = match &req.filter {
            Some(f) => filter::to_doc(f, t)?,
            None => Document::new(),
        };
        let coll = self.coll(t);
        let count = if req.count == CountMode::None {
            None
        } else {
            Some(coll.count_documents(filter.clone()).await.map_err(err)?)
        };
        if req.count == CountMode::Only {
            return Ok(SelectResult {
                rows: Rows::default(),
                count,
            });
        }
        // Dotted paths project their top-level field (NX-27017 drops a
        // dotted projection); `record` reads the nested value.
        let mut projection = Document::new();
        for f in &req.fields {
            let top = f.split('.').next().unwrap_or(f);
            projection.insert(top.to_string(), 1);
        }
        if !req.fields.iter().any(|f| f == "_id") {
            projection.insert("_id", 0);
        }
        let mut find = coll
            .find(filter)
            .projection(projection)
            .sort(sort_doc(&req.order))
            .skip(req.offset);
        if let Some(l) = req.limit {
            find = find.limit(i64::try_from(l).unwrap_or(i64::MAX));
        }
        let docs: Vec<Document> = find.await.map_err(err)?.try_collect().await.map_err(err)?;
        Ok(SelectResult {
            rows: Rows::Records(docs.iter().map(|d| record(t, d, &req.fields)).collect()),
            count,
        })
    }

    async fn insert(&self, req: &InsertRequest) -> Result<Vec<ItemOutcome>, ConnectorError> {
        let ops = req.records.iter().map(Op::Insert);
        self.run(
            &req.table,
            ops,
            req.batch,
            &req.returning,
            req.check.as_ref(),
        )
        .await
    }

    async fn update(&self, req: &UpdateRequest) -> Result<Vec<ItemOutcome>, ConnectorError> {
        let ops = req.items.iter().map(|i| Op::Update(i, req.replace));
        self.run(
            &req.table,
            ops,
            req.batch,
            &req.returning,
            req.check.as_ref(),
        )
        .await
    }

    async fn delete(&self, req: &DeleteRequest) -> Result<Vec<ItemOutcome>, ConnectorError> {
        let ops = req.items.iter().map(Op::Delete);
        self.run(&req.table, ops, req.batch, &req.returning, None)
            .await
    }

    async fn close(&self) {
        self.client.clone().shutdown().await;
    }
}
