//! A collection's schema, inferred from a `$sample` of its documents: every
//! top-level field seen, typed by the BSON types it held. The catalog is
//! marked `inferred`: documents may hold fields the sample did not show, and
//! requests may name them.

use crate::err;
use futures_util::TryStreamExt;
use gatehouse_core::catalog::{ApiType, Column, Table, TableKind};
use gatehouse_core::{Catalog, ConnectorError};
use mongodb::Database;
use mongodb::bson::{Bson, Document, doc};

/// The name of a BSON type as MongoDB's `$type` spells it.
fn type_name(b: &Bson) -> &'static str {
    match b {
        Bson::Double(_) => "double",
        Bson::String(_) => "string",
        Bson::Document(_) => "object",
        Bson::Array(_) => "array",
        Bson::Binary(_) => "binData",
        Bson::ObjectId(_) => "objectId",
        Bson::Boolean(_) => "bool",
        Bson::DateTime(_) => "date",
        Bson::Null | Bson::Undefined => "null",
        Bson::Int32(_) => "int",
        Bson::Int64(_) => "long",
        Bson::Decimal128(_) => "decimal",
        Bson::Timestamp(_) => "timestamp",
        _ => "other",
    }
}

/// The API type of a field that held `types` (never empty of non-null types
/// unless the field was always null).
pub fn api_type(types: &[&str]) -> ApiType {
    let set: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
    let only = |allowed: &[&str]| !set.is_empty() && set.iter().all(|t| allowed.contains(t));
    if only(&["int"]) {
        ApiType::Integer
    } else if only(&["int", "long"]) {
        ApiType::Bigint
    } else if only(&["int", "long", "decimal"]) {
        ApiType::Decimal
    } else if only(&["int", "long", "double"]) {
        ApiType::Float
    } else if only(&["string"]) {
        ApiType::String
    } else if only(&["bool"]) {
        ApiType::Boolean
    } else if only(&["date"]) {
        ApiType::Timestamp
    } else if only(&["objectId"]) {
        ApiType::ObjectId
    } else if only(&["object"]) {
        ApiType::Object
    } else if only(&["array"]) {
        ApiType::Array
    } else if only(&["binData"]) {
        ApiType::Binary
    } else {
        // mixed, always null, or exotic: any JSON
        ApiType::Json
    }
}

struct Seen {
    name: String,
    types: Vec<&'static str>,
    present: usize,
}

/// Columns for the fields of `docs`, `_id` first, then in order of first sight.
pub fn columns(docs: &[Document]) -> Vec<Column> {
    let mut seen: Vec<Seen> = vec![Seen {
        name: "_id".into(),
        types: Vec::new(),
        present: 0,
    }];
    for d in docs {
        for (k, v) in d {
            let i = if let Some(i) = seen.iter().position(|s| s.name == *k) {
                i
            } else {
                seen.push(Seen {
                    name: k.clone(),
                    types: Vec::new(),
                    present: 0,
                });
                seen.len() - 1
            };
            let s = &mut seen[i];
            s.present += 1;
            let t = type_name(v);
            if !s.types.contains(&t) {
                s.types.push(t);
            }
        }
    }
    seen.into_iter()
        .map(|s| {
            let id = s.name == "_id";
            // a collection with no documents yet: `_id` is an ObjectId by default
            let api = if id && s.types.is_empty() {
                ApiType::ObjectId
            } else {
                api_type(&s.types)
            };
            let mut types = s.types.clone();
            types.sort_unstable();
            let mut c = Column::new(s.name, api, types.join("|"));
            c.cast_type = String::new();
            c.allow_null = !id && (s.present < docs.len() || s.types.contains(&"null"));
            c.is_primary_key = id;
            c.is_unique = id;
            // Gatehouse assigns an ObjectId when a new document has no `_id`
            c.auto_increment = id;
            c
        })
        .collect()
}

async fn sample(db: &Database, name: &str, size: u32) -> Result<Vec<Document>, ConnectorError> {
    let coll = db.collection::<Document>(name);
    match coll
        .aggregate([doc! {"$sample": {"size": i64::from(size)}}])
        .await
    {
        Ok(cursor) => cursor.try_collect().await.map_err(err),
        // a server without $sample: the first documents instead
        Err(_) => coll
            .find(doc! {})
            .limit(i64::from(size))
            .await
            .map_err(err)?
            .try_collect()
            .await
            .map_err(err),
    }
}

/// Fields of single-field unique indexes (none if the server cannot list them).
async fn unique_fields(db: &Database, name: &str) -> Vec<String> {
    let Ok(cursor) = db.collection::<Document>(name).list_indexes().await else {
        return Vec::new();
    };
    let Ok(indexes) = cursor.try_collect::<Vec<_>>().await else {
        return Vec::new();
    };
    indexes
        .into_iter()
        .filter(|ix| ix.options.as_ref().and_then(|o| o.unique) == Some(true) && ix.keys.len() == 1)
        .filter_map(|ix| ix.keys.keys().next().cloned())
        .collect()
}

/// A sort key for `_id` values, so the inferred field order does not depend
/// on which documents `$sample` happened to return first.
fn id_key(d: &Document) -> (u8, f64, String) {
    match d.get("_id") {
        Some(Bson::Int32(n)) => (0, f64::from(*n), String::new()),
        Some(Bson::Int64(n)) => (0, *n as f64, String::new()),
        Some(Bson::Double(n)) => (0, *n, String::new()),
        Some(other) => (1, 0.0, other.to_string()),
        None => (2, 0.0, String::new()),
    }
}

pub async fn catalog(db: &Database, sample_size: u32) -> Result<Catalog, ConnectorError> {
    // list_collection_names: NX-27017 cannot answer the typed listCollections
    let mut names = db.list_collection_names().await.map_err(err)?;
    names.retain(|n| !n.starts_with("system."));
    names.sort();
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let mut docs = sample(db, &name, sample_size).await?;
        docs.sort_by(|a, b| {
            let (ka, kb) = (id_key(a), id_key(b));
            ka.0.cmp(&kb.0)
                .then(ka.1.total_cmp(&kb.1))
                .then(ka.2.cmp(&kb.2))
        });
        let mut columns = columns(&docs);
        let unique = unique_fields(db, &name).await;
        for c in &mut columns {
            c.is_unique |= unique.contains(&c.name);
        }
        tables.push(Table {
            name: name.clone(),
            schema: None,
            db_name: name,
            kind: TableKind::Collection,
            writable: true,
            description: None,
            columns,
            primary_key: vec!["_id".into()],
            foreign_keys: Vec::new(),
            related: Vec::new(),
            inferred: true,
            withheld: Vec::new(),
        });
    }
    Ok(Catalog::new(tables))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::oid::ObjectId;

    #[test]
    fn types_from_a_sample() {
        let docs = vec![
            doc! {"_id": ObjectId::new(), "n": 1, "big": 1_i64, "x": 1.5, "s": "a", "maybe": 1},
            doc! {"_id": ObjectId::new(), "n": 2, "big": 2, "x": 2, "s": "b", "mixed": "x"},
            doc! {"_id": ObjectId::new(), "n": 3, "big": 3, "x": 3, "s": Bson::Null, "mixed": 1},
        ];
        let cols = columns(&docs);
        let get = |n: &str| {
            cols.iter()
                .find(|c| c.name == n)
                .map(|c| (c.api_type, c.allow_null))
        };
        assert_eq!(get("_id"), Some((ApiType::ObjectId, false)));
        assert_eq!(get("n"), Some((ApiType::Integer, false)));
        assert_eq!(get("big"), Some((ApiType::Bigint, false)));
        assert_eq!(get("x"), Some((ApiType::Float, false)));
        assert_eq!(get("s"), Some((ApiType::String, true)));
        assert_eq!(get("maybe"), Some((ApiType::Integer, true)));
        assert_eq!(get("mixed"), Some((ApiType::Json, true)));
        assert_eq!(cols[0].name, "_id");
    }
}
