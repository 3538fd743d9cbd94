//! The benchmark's reference: a minimal hand-written axum + sqlx server for
//! exactly the requests `bench/run.sh` sends, with Gatehouse's URLs and answer
//! shapes and none of its generality (no auth, no policy, no catalog, one
//! struct per table). Gatehouse is measured as a ratio against it.
//!
//! `REFERENCE_DATABASE_URL` (PostgreSQL with the Chinook `track` table),
//! `REFERENCE_LISTEN` (default 127.0.0.1:8090), `REFERENCE_POOL_MAX` (default 10,
//! Gatehouse's default pool size).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::collections::HashMap;

#[derive(Serialize, sqlx::FromRow)]
struct Track {
    track_id: i32,
    name: String,
    album_id: Option<i32>,
    media_type_id: i32,
    genre_id: Option<i32>,
    composer: Option<String>,
    milliseconds: i32,
    bytes: Option<i32>,
    #[serde(with = "rust_decimal::serde::float")]
    unit_price: Decimal,
}

#[derive(Deserialize)]
struct NewTrack {
    name: String,
    album_id: Option<i32>,
    media_type_id: i32,
    genre_id: Option<i32>,
    composer: Option<String>,
    milliseconds: i32,
    bytes: Option<i32>,
    unit_price: Decimal,
}

#[derive(Deserialize)]
struct Batch {
    resource: Vec<NewTrack>,
}

macro_rules! select_track {
    ($rest:literal) => {
        concat!(
            "SELECT track_id, name, album_id, media_type_id, genre_id, composer, ",
            "milliseconds, bytes, unit_price FROM track ",
            $rest
        )
    };
}

fn failed(e: sqlx::Error) -> Response {
    eprintln!("reference: {e}");
    (StatusCode::INTERNAL_SERVER_ERROR, "database error").into_response()
}

async fn one(State(pool): State<PgPool>, Path(id): Path<i32>) -> Response {
    match sqlx::query_as::<_, Track>(select_track!("WHERE track_id = $1"))
        .bind(id)
        .fetch_optional(&pool)
        .await
    {
        Ok(Some(t)) => Json(t).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => failed(e),
    }
}

/// `?limit=1000&order=track_id`, or `?filter=genre_id = N&order=name&limit=20`
/// with `include_count=true` optionally: the two list shapes the bench sends.
async fn list(State(pool): State<PgPool>, Query(q): Query<HashMap<String, String>>) -> Response {
    let limit: i64 = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(1000);
    let genre: Option<i32> = q
        .get("filter")
        .and_then(|f| f.strip_prefix("genre_id = "))
        .and_then(|g| g.trim().parse().ok());
    let rows = match genre {
        Some(g) => {
            sqlx::query_as::<_, Track>(select_track!("WHERE genre_id = $1 ORDER BY name LIMIT $2"))
                .bind(g)
                .bind(limit)
                .fetch_all(&pool)
                .await
        }
        None => {
            sqlx::query_as::<_, Track>(select_track!("ORDER BY track_id LIMIT $1"))
                .bind(limit)
                .fetch_all(&pool)
                .await
        }
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => return failed(e),
    };
    if q.get("include_count").is_some_and(|c| c == "true") {
        let count: Result<i64, _> = match genre {
            Some(g) => {
                sqlx::query_scalar("SELECT count(*) FROM track WHERE genre_id = $1")
                    .bind(g)
                    .fetch_one(&pool)
                    .await
            }
            None => {
                sqlx::query_scalar("SELECT count(*) FROM track")
                    .fetch_one(&pool)
                    .await
            }
        };
        return match count {
            Ok(n) => Json(json!({"resource": rows, "meta": {"count": n}})).into_response(),
            Err(e) => failed(e),
        };
    }
    Json(json!({"resource": rows})).into_response()
}

/// `{"resource": [...]}`: one transaction, one INSERT per record, answering
/// the new keys — the same all-or-nothing semantics as Gatehouse's default.
async fn create(State(pool): State<PgPool>, Json(batch): Json<Batch>) -> Response {
    let result: Result<Vec<serde_json::Value>, sqlx::Error> = async {
        let mut tx = pool.begin().await?;
        let mut ids = Vec::with_capacity(batch.resource.len());
        for t in &batch.resource {
            let id: i32 = sqlx::query_scalar(
                "INSERT INTO track (name, album_id, media_type_id, genre_id, composer, \
                 milliseconds, bytes, unit_price) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 RETURNING track_id",
            )
            .bind(&t.name)
            .bind(t.album_id)
            .bind(t.media_type_id)
            .bind(t.genre_id)
            .bind(&t.composer)
            .bind(t.milliseconds)
            .bind(t.bytes)
            .bind(t.unit_price)
            .fetch_one(&mut *tx)
            .await?;
            ids.push(json!({ "track_id": id }));
        }
        tx.commit().await?;
        Ok(ids)
    }
    .await;
    match result {
        Ok(ids) => (StatusCode::CREATED, Json(json!({ "resource": ids }))).into_response(),
        Err(e) => failed(e),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REFERENCE_DATABASE_URL")?;
    let listen = std::env::var("REFERENCE_LISTEN").unwrap_or_else(|_| "127.0.0.1:8090".into());
    let pool_max = std::env::var("REFERENCE_POOL_MAX")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(10);
    let pool = PgPoolOptions::new()
        .max_connections(pool_max)
        .test_before_acquire(false)
        .connect(&url)
        .await?;
    let app = Router::new()
        .route("/api/chinook/_table/track", get(list).post(create))
        .route("/api/chinook/_table/track/{id}", get(one))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
