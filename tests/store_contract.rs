//! The store contract: the same assertions against SQLite and PostgreSQL, and a check that both
//! backends' migrations build the same schema.

#[path = "store_contract/audit.rs"]
mod audit;
#[path = "store_contract/break_glass.rs"]
mod break_glass;
mod common;
#[path = "store_contract/extensions.rs"]
mod extensions;
#[path = "store_contract/faults.rs"]
mod faults;
#[path = "store_contract/fixtures.rs"]
mod fixtures;
#[path = "store_contract/floods.rs"]
mod floods;
#[path = "store_contract/notifications.rs"]
mod notifications;
#[path = "store_contract/outbox.rs"]
mod outbox;
#[path = "store_contract/requests.rs"]
mod requests;
#[path = "store_contract/reviews.rs"]
mod reviews;
#[path = "store_contract/schema.rs"]
mod schema;
#[path = "store_contract/sign_ins.rs"]
mod sign_ins;
#[path = "store_contract/watch.rs"]
mod watch;

use std::collections::BTreeMap;
use std::fmt::Debug;

use common::db::{Backend, TestDb};
use jitgate::store::{PgStore, SqliteStore, Store};

/// `(version, description)` of every migration in `migrations/<backend>`, from `NNNN_description.sql`.
fn migration_versions(backend: &str) -> Vec<(u64, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut versions: Vec<(u64, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let stem = name
                .strip_suffix(".sql")
                .unwrap_or_else(|| panic!("{backend}: {name} is not a .sql migration"));
            let (version, description) = stem
                .split_once('_')
                .unwrap_or_else(|| panic!("{backend}: {name} is not NNNN_description.sql"));
            let version = version.parse().unwrap_or_else(|_| {
                panic!("{backend}: {name} does not start with a version number")
            });
            (version, description.to_string())
        })
        .collect();
    versions.sort();
    versions
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = migration_versions("sqlite");
    let postgres = migration_versions("postgres");
    assert!(!sqlite.is_empty(), "no migrations found");
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must hold the same versions"
    );
}

/// Migrates a fresh database of each backend with `Store::migrate` and compares what came out;
/// `schema` says what is compared and what is left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_migrate_to_the_same_schema() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let store = SqliteStore::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let sqlite = schema::sqlite(store.pool()).await;
    store.pool().close().await;
    db.cleanup().await;

    // The introspection sees something (two empty schemas would compare equal).
    assert!(!sqlite.indexes.is_empty(), "{sqlite:#?}");
    assert!(
        sqlite.indexes.values().any(|i| i.predicate.is_some()),
        "{sqlite:#?}"
    );
    assert_eq!(sqlite.tables["requests"].primary_key, ["id"]);
    for (name, table) in &sqlite.tables {
        assert!(!table.columns.is_empty(), "{name} has no columns");
        assert!(!table.primary_key.is_empty(), "{name} has no primary key");
    }

    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let store = PgStore::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let postgres = schema::postgres(store.pool()).await;
    store.pool().close().await;
    db.cleanup().await;

    assert_eq!(names(&sqlite.tables), names(&postgres.tables), "tables");
    // Column by column first, for a readable message.
    for (name, table) in &sqlite.tables {
        let other = &postgres.tables[name];
        same_by_name(&format!("{name}: column"), &table.columns, &other.columns);
        assert_eq!(table, other, "table {name} (SQLite left, PostgreSQL right)");
    }
    same_by_name("index", &sqlite.indexes, &postgres.indexes);
    assert_eq!(sqlite, postgres);
}

fn names<V>(map: &BTreeMap<String, V>) -> Vec<&String> {
    map.keys().collect()
}

/// Both backends have the same `what`s by name, and each is the same (SQLite left, PostgreSQL
/// right): one at a time, for a readable message.
fn same_by_name<V: PartialEq + Debug>(
    what: &str,
    sqlite: &BTreeMap<String, V>,
    postgres: &BTreeMap<String, V>,
) {
    assert_eq!(names(sqlite), names(postgres), "{what} names");
    for (name, v) in sqlite {
        assert_eq!(
            v, &postgres[name],
            "{what} {name} (SQLite left, PostgreSQL right)"
        );
    }
}
