//! The bundled demo: a small shop (customers, products, orders, order_items,
//! employees, and a read-only view) generated into the data directory on first
//! use, so the quick start needs nothing but the binary. `policies/` ships an
//! example policy written against it.

use crate::system::services::Definition;
use serde_json::{Map, Value};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use std::path::{Path, PathBuf};

const SCHEMA: &str = r"
CREATE TABLE customers (
    id         INTEGER PRIMARY KEY,
    name       VARCHAR(100) NOT NULL,
    email      VARCHAR(200) NOT NULL UNIQUE,
    region     VARCHAR(20) CHECK (region IN ('north', 'south', 'east', 'west')),
    created_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE products (
    id       INTEGER PRIMARY KEY,
    sku      VARCHAR(20) NOT NULL UNIQUE,
    name     VARCHAR(100) NOT NULL,
    category VARCHAR(30) NOT NULL,
    price    NUMERIC(10,2) NOT NULL CHECK (price >= 0),
    in_stock BOOLEAN NOT NULL DEFAULT 1
);
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    status      VARCHAR(20) NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
    ordered_at  DATETIME NOT NULL,
    updated_at  DATETIME                 -- stamped by scripts/examples' hook
);
CREATE TABLE order_items (
    order_id   INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    line_no    INTEGER NOT NULL,
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    unit_price NUMERIC(10,2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE employees (
    id       INTEGER PRIMARY KEY,
    name     VARCHAR(100) NOT NULL,
    email    VARCHAR(200) NOT NULL UNIQUE,
    region   VARCHAR(20) NOT NULL CHECK (region IN ('north', 'south', 'east', 'west')),
    title    VARCHAR(50) NOT NULL,
    salary   NUMERIC(10,2) NOT NULL,
    bonus    NUMERIC(10,2)
);
CREATE VIEW order_totals AS
    SELECT o.id AS order_id, c.name AS customer, o.status,
           ROUND(SUM(i.quantity * i.unit_price), 2) AS total
    FROM orders o
    JOIN customers c ON c.id = o.customer_id
    JOIN order_items i ON i.order_id = o.id
    GROUP BY o.id;
";

const FIRST: &[&str] = &[
    "Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis",
    "Radia", "John",
];
const LAST: &[&str] = &[
    "Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton",
    "Ritchie",
];
const REGIONS: &[&str] = &["north", "south", "east", "west"];
const CATEGORIES: &[(&str, &[&str])] = &[
    ("garden", &["Rake", "Hose", "Trowel", "Planter", "Shears"]),
    (
        "kitchen",
        &["Kettle", "Skillet", "Whisk", "Grater", "Teapot"],
    ),
    (
        "office",
        &["Stapler", "Lamp", "Notebook", "Chair", "Pen set"],
    ),
    (
        "outdoor",
        &["Tent", "Lantern", "Backpack", "Compass", "Hammock"],
    ),
];
const ADJ: &[&str] = &["Classic", "Deluxe"];
const STATUSES: &[&str] = &["new", "paid", "shipped", "cancelled"];

/// A small deterministic generator: the demo data is the same on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Creates the demo database in `data_dir` unless it exists; returns its path.
pub async fn ensure(data_dir: &Path) -> Result<PathBuf, sqlx::Error> {
    let dir = data_dir.canonicalize().map_err(sqlx::Error::Io)?;
    let path = dir.join("demo.sqlite");
    if path.exists() {
        return Ok(path);
    }
    let tmp = dir.join("demo.sqlite.partial");
    let _ = std::fs::remove_file(&tmp);
    let mut conn = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(&tmp)
            .create_if_missing(true),
    )
    .await?;
    let mut tx = conn.begin().await?;
    sqlx::raw_sql(SCHEMA).execute(&mut *tx).await?;
    let mut rng = Lcg(42);
    for id in 1..=60i64 {
        let first = FIRST[rng.next(FIRST.len() as u64) as usize];
        let last = LAST[rng.next(LAST.len() as u64) as usize];
        sqlx::query("INSERT INTO customers (id, name, email, region, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(id)
            .bind(format!("{first} {last}"))
            .bind(format!("{}.{}{id}@example.com", first.to_lowercase(), last.to_lowercase()))
            .bind(REGIONS[rng.next(4) as usize])
            .bind(format!("2025-{:02}-{:02}T{:02}:{:02}:00Z", 1 + rng.next(12), 1 + rng.next(28), rng.next(24), rng.next(60)))
            .execute(&mut *tx)
            .await?;
    }
    let mut prices = Vec::new();
    let mut pid = 0i64;
    for (cat, items) in CATEGORIES {
        for item in *items {
            for adj in ADJ {
                pid += 1;
                let cents = 299 + rng.next(19_700) as i64;
                prices.push(cents);
                sqlx::query("INSERT INTO products (id, sku, name, category, price, in_stock) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                    .bind(pid)
                    .bind(format!("{}-{pid:03}", &cat[..3].to_uppercase()))
                    .bind(format!("{adj} {item}"))
                    .bind(*cat)
                    .bind(cents as f64 / 100.0)
                    .bind(rng.next(5) != 0)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    for oid in 1..=150i64 {
        sqlx::query(
            "INSERT INTO orders (id, customer_id, status, ordered_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(oid)
        .bind(1 + rng.next(60) as i64)
        .bind(STATUSES[rng.next(4) as usize])
        .bind(format!(
            "2026-{:02}-{:02}T{:02}:{:02}:00Z",
            1 + rng.next(10),
            1 + rng.next(28),
            rng.next(24),
            rng.next(60)
        ))
        .execute(&mut *tx)
        .await?;
        for line in 1..=(1 + rng.next(4) as i64) {
            let product = rng.next(pid as u64) as usize;
            sqlx::query("INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price) VALUES (?1, ?2, ?3, ?4, ?5)")
                .bind(oid)
                .bind(line)
                .bind(product as i64 + 1)
                .bind(1 + rng.next(5) as i64)
                .bind(prices[product] as f64 / 100.0)
                .execute(&mut *tx)
                .await?;
        }
    }
    for id in 1..=24i64 {
        let first = FIRST[rng.next(FIRST.len() as u64) as usize];
        let last = LAST[rng.next(LAST.len() as u64) as usize];
        let title = ["Sales rep", "Analyst", "Engineer", "Manager"][rng.next(4) as usize];
        sqlx::query("INSERT INTO employees (id, name, email, region, title, salary, bonus) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .bind(id)
            .bind(format!("{first} {last}"))
            .bind(format!("{}.{}@shop.example", first.to_lowercase(), id))
            .bind(REGIONS[rng.next(4) as usize])
            .bind(title)
            .bind(40_000.0 + rng.next(60) as f64 * 1000.0)
            .bind((rng.next(3) != 0).then(|| rng.next(50) as f64 * 100.0))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    conn.close().await?;
    std::fs::rename(&tmp, &path).map_err(sqlx::Error::Io)?;
    Ok(path)
}

pub fn definition(path: &Path) -> Definition {
    let mut config = Map::new();
    config.insert(
        "url".into(),
        Value::String(format!("sqlite://{}", path.display())),
    );
    Definition {
        name: "demo".into(),
        kind: "sqlite".into(),
        label: Some("Demo shop".into()),
        description: Some("A small shop generated by gatehouse --demo".into()),
        config,
    }
}
