//! The catalog: what introspection found, in engine-neutral terms.
//!
//! A [`Catalog`] is immutable once built; a refresh builds a new one and the
//! service swaps it in atomically, so requests always see one consistent view.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The API type of a column (docs/API.md §5). Engines map their native types onto it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiType {
    Integer,
    Bigint,
    Decimal,
    Float,
    Boolean,
    String,
    Text,
    Date,
    Time,
    Datetime,
    Timestamp,
    Uuid,
    Binary,
    Json,
    ObjectId,
    Array,
    Object,
}

impl ApiType {
    /// Whether values of this type are text in the database (LIKE applies directly).
    pub fn is_textual(self) -> bool {
        matches!(self, ApiType::String | ApiType::Text)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub api_type: ApiType,
    /// The engine's own spelling of the type, e.g. `numeric(10,2)`.
    pub db_type: String,
    /// The type to cast bound parameters to (no modifiers), e.g. `numeric`.
    #[serde(skip)]
    pub cast_type: String,
    pub allow_null: bool,
    /// The default as the engine reports it (an SQL expression for SQL engines).
    pub default: Option<String>,
    pub is_primary_key: bool,
    pub auto_increment: bool,
    /// Computed by the database (generated columns): never written.
    #[serde(skip)]
    pub generated: bool,
    /// A trigger that runs before an insert sets this column
    /// (PostgreSQL/MySQL `BEFORE INSERT … FOR EACH ROW`, [`trigger_sets`]):
    /// the database fills it, so it is not required.
    #[serde(skip)]
    pub filled_on_insert: bool,
    /// A spatial column (MySQL/MariaDB `GEOMETRY`, `POINT`, …): read and
    /// written as WKT text (`POINT(1 2)`).
    #[serde(skip)]
    pub spatial: bool,
    /// The database holds the values as text, so `LIKE` applies as it is;
    /// else (a PostgreSQL enum, `xml`, `money`, a range) the column is cast
    /// to text first. Starts as the API type says; engines correct it.
    #[serde(skip)]
    pub db_text: bool,
    pub is_unique: bool,
    pub is_foreign_key: bool,
    pub ref_table: Option<String>,
    pub ref_field: Option<String>,
    pub length: Option<i64>,
    pub precision: Option<i64>,
    pub scale: Option<i64>,
    /// The values an enum column takes (PostgreSQL enums, MySQL `ENUM`), in
    /// their order; others are refused before the database, naming the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// The integers the column's type holds (`smallint`: -32768..=32767),
    /// where the engine says; values outside are refused before the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<IntRange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Whether trigger code (`source`: the bodies of a table's BEFORE INSERT
/// row triggers, and their arguments) sets `column` of the new row:
/// `NEW.col := …` (PL/pgSQL), `SET NEW.col = …` (MySQL), quoted or not,
/// or a trigger function given the column as an argument (PostgreSQL's
/// `tsvector_update_trigger(fulltext, …)`), arguments ending in NUL. Read
/// from the text, so it can only be a guess: a column it wrongly thinks
/// filled is left to the database's own NOT NULL check.
pub fn trigger_sets(source: &str, column: &str) -> bool {
    let text = source.to_lowercase();
    let col = column.to_lowercase();
    // arguments, each ending in `\000` (PostgreSQL's escape encoding of NUL)
    let mut pieces: Vec<&str> = text.split("\\000").collect();
    pieces.pop();
    if pieces
        .iter()
        .any(|arg| arg.split_whitespace().last() == Some(col.as_str()))
    {
        return true;
    }
    let mut rest = text.as_str();
    while let Some(i) = rest.find("new") {
        let before_ok = i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        let after = rest[i + 3..].trim_start();
        rest = &rest[i + 3..];
        let Some(after) = after.strip_prefix('.') else {
            continue;
        };
        let after = after.trim_start();
        let after = after.strip_prefix(['"', '`']).unwrap_or(after);
        let Some(after) = after.strip_prefix(col.as_str()) else {
            continue;
        };
        let after = after.strip_prefix(['"', '`']).unwrap_or(after).trim_start();
        let assigns =
            after.starts_with(":=") || (after.starts_with('=') && !after.starts_with("=="));
        if before_ok && assigns {
            return true;
        }
    }
    false
}

/// The least and greatest integer a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IntRange {
    pub min: i128,
    pub max: i128,
}

impl IntRange {
    /// A `bits`-wide integer, signed or not.
    pub fn bits(bits: u32, unsigned: bool) -> IntRange {
        if unsigned {
            IntRange {
                min: 0,
                max: (1i128 << bits) - 1,
            }
        } else {
            IntRange {
                min: -(1i128 << (bits - 1)),
                max: (1i128 << (bits - 1)) - 1,
            }
        }
    }

    /// What an integer column takes when its engine does not say (MongoDB):
    /// a signed 64-bit integer.
    pub const ANY: IntRange = IntRange {
        min: i64::MIN as i128,
        max: i64::MAX as i128,
    };
}

impl Column {
    /// A column with the given name and types and every flag off.
    pub fn new(name: impl Into<String>, api_type: ApiType, db_type: impl Into<String>) -> Self {
        let db_type = db_type.into();
        Self {
            name: name.into(),
            api_type,
            cast_type: db_type.clone(),
            db_type,
            allow_null: true,
            default: None,
            is_primary_key: false,
            auto_increment: false,
            generated: false,
            filled_on_insert: false,
            spatial: false,
            db_text: api_type.is_textual(),
            is_unique: false,
            is_foreign_key: false,
            ref_table: None,
            ref_field: None,
            length: None,
            precision: None,
            scale: None,
            range: None,
            values: None,
            description: None,
        }
    }

    /// Whether an insert must give this column a value.
    pub fn is_required(&self) -> bool {
        !self.allow_null
            && self.default.is_none()
            && !self.auto_increment
            && !self.generated
            && !self.filled_on_insert
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    Table,
    View,
    /// A MongoDB collection.
    Collection,
}

#[derive(Debug, Clone, Serialize)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    /// The API name of the referenced table.
    pub ref_table: String,
    pub ref_columns: Vec<String>,
}

/// A relationship in DreamFactory's terms, derived from foreign keys.
#[derive(Debug, Clone, Serialize)]
pub struct Related {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub field: Vec<String>,
    pub ref_table: String,
    pub ref_field: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// The API name: `table`, or `schema.table` when a service spans several schemas.
    pub name: String,
    /// The engine's schema (Postgres schema, MySQL database), if any.
    pub schema: Option<String>,
    /// The engine's own name of the table.
    pub db_name: String,
    pub kind: TableKind,
    /// Whether writes are accepted (false for non-updatable views).
    pub writable: bool,
    pub description: Option<String>,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    pub related: Vec<Related>,
    /// The schema was inferred from a sample of documents (MongoDB).
    pub inferred: bool,
    /// Fields a policy withholds from the caller (see [`Table::without`]):
    /// gone from `columns` and refused by `accepts_field`, with their sub-paths.
    pub withheld: Vec<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// A request may name `name`: a column, or, in a schemaless collection
    /// (`inferred`), any document path that is not an operator (`$`-prefixed)
    /// or malformed. `path` allows dotted paths (filters, updates), not inserts.
    pub fn accepts_field(&self, name: &str, path: bool) -> bool {
        if self.is_withheld(name) {
            return false;
        }
        if self.column(name).is_some() {
            return true;
        }
        self.inferred
            && (path || !name.contains('.'))
            && name
                .split('.')
                .all(|seg| !seg.is_empty() && !seg.starts_with('$') && !seg.contains('\0'))
    }

    /// Whether `name` is a withheld field or a path inside one.
    pub fn is_withheld(&self, name: &str) -> bool {
        self.withheld.iter().any(|w| {
            name == w || (name.starts_with(w.as_str()) && name[w.len()..].starts_with('.'))
        })
    }

    /// The table as a caller who may not see `hidden` sees it.
    pub fn without(&self, hidden: &[String]) -> Table {
        let mut t = self.clone();
        t.columns.retain(|c| !hidden.contains(&c.name));
        t.withheld.extend(hidden.iter().cloned());
        t
    }

    pub fn is_view(&self) -> bool {
        self.kind == TableKind::View
    }

    /// Columns in primary-key order.
    pub fn key_columns(&self) -> Vec<&Column> {
        self.primary_key
            .iter()
            .filter_map(|k| self.column(k))
            .collect()
    }
}

/// Every table and view of one service.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    tables: Vec<Arc<Table>>,
    by_name: HashMap<String, usize>,
}

impl Catalog {
    /// Builds the catalog: marks foreign-key columns and derives relationships.
    pub fn new(mut tables: Vec<Table>) -> Self {
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        let mut related: Vec<(usize, Related)> = Vec::new();
        for (i, t) in tables.iter().enumerate() {
            for fk in &t.foreign_keys {
                // sorted by name above: a lookup, not a scan per key. A key
                // into a table the service does not serve (another schema)
                // relates to nothing a client could ask for.
                if let Ok(j) = tables.binary_search_by(|o| o.name.as_str().cmp(&fk.ref_table)) {
                    related.push((
                        i,
                        Related {
                            name: format!("{}_by_{}", fk.ref_table, fk.columns.join("_")),
                            kind: "belongs_to",
                            field: fk.columns.clone(),
                            ref_table: fk.ref_table.clone(),
                            ref_field: fk.ref_columns.clone(),
                        },
                    ));
                    related.push((
                        j,
                        Related {
                            name: format!("{}_by_{}", t.name, fk.columns.join("_")),
                            kind: "has_many",
                            field: fk.ref_columns.clone(),
                            ref_table: t.name.clone(),
                            ref_field: fk.columns.clone(),
                        },
                    ));
                }
            }
        }
        for (i, r) in related {
            tables[i].related.push(r);
        }
        for t in &mut tables {
            let fks = t.foreign_keys.clone();
            for fk in fks {
                // every column of a key, a composite one too, with the
                // column it refers to
                for (col, ref_col) in fk.columns.iter().zip(&fk.ref_columns) {
                    if let Some(c) = t.columns.iter_mut().find(|c| &c.name == col)
                        && !c.is_foreign_key
                    {
                        c.is_foreign_key = true;
                        c.ref_table = Some(fk.ref_table.clone());
                        c.ref_field = Some(ref_col.clone());
                    }
                }
            }
        }
        let by_name = tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        Self {
            tables: tables.into_iter().map(Arc::new).collect(),
            by_name,
        }
    }

    pub fn table(&self, name: &str) -> Option<&Arc<Table>> {
        self.by_name.get(name).map(|&i| &self.tables[i])
    }

    pub fn tables(&self) -> &[Arc<Table>] {
        &self.tables
    }
}

#[cfg(test)]
mod tests {
    use super::trigger_sets;

    #[test]
    fn trigger_code_that_sets_a_column() {
        for (source, column, sets) in [
            ("BEGIN NEW.joined := now(); RETURN NEW; END", "joined", true),
            (
                "begin new.\"Joined\" := now(); return new; end",
                "Joined",
                true,
            ),
            ("SET NEW.create_date = NOW()", "create_date", true),
            ("SET NEW.`create_date`=NOW()", "create_date", true),
            (
                "IF NEW.joined IS NULL THEN RAISE 'no'; END IF",
                "joined",
                false,
            ),
            ("IF NEW.joined == x THEN", "joined", false),
            ("NEW.joined_at := now()", "joined", false),
            ("renew.joined := 1", "joined", false),
            (
                "tsvector_update_trigger fulltext\\000pg_catalog.english\\000title\\000",
                "fulltext",
                true,
            ),
            ("SET NEW.name = 'x'", "joined", false),
        ] {
            assert_eq!(trigger_sets(source, column), sets, "{source} / {column}");
        }
    }
}
