//! What the migrations built, read back from a live database, in a form both backends can be
//! compared in.
//!
//! Compared, per table: the columns (name, type family, NOT NULL, default), the primary key, the
//! unique constraints and the foreign keys; and every index created by `CREATE INDEX` (name,
//! table, columns in order, unique or not, and its predicate if partial).
//!
//! Normalised or left out, because the backends legitimately differ there:
//! - Types: a column's type is reduced to the SQLite affinity it would get (`integer`, `text`,
//!   `real`, `blob`, `numeric`), so `INTEGER PRIMARY KEY AUTOINCREMENT` and `BIGINT GENERATED
//!   ALWAYS AS IDENTITY` are both `integer`, but a `TEXT` column that is `BIGINT` on the other
//!   side is caught.
//! - NOT NULL: primary-key columns count as NOT NULL on both sides. PostgreSQL makes them so;
//!   SQLite reports `notnull = 0` for them unless declared (and, for keys that are not `INTEGER
//!   PRIMARY KEY`, really accepts NULL: a documented SQLite quirk).
//! - Defaults: compared after dropping PostgreSQL's casts (`'x'::text`) and parentheses.
//! - Column positions: not compared; every statement names its columns.
//! - Indexes that back a constraint are named by each database its own way
//!   (`sqlite_autoindex_requests_1` against `requests_pkey`), so they are not compared as
//!   indexes: primary keys are compared as the table's key columns in key order, unique
//!   constraints as the sets of their columns.
//! - Partial-index predicates are compared loosely: the table's columns they mention and the
//!   literals they hold, because each database prints a condition its own way
//!   (`status IN ('a','b')` comes back from PostgreSQL as
//!   `(status = ANY (ARRAY['a'::text, 'b'::text]))`). Operators are not compared.
//! - Left out: CHECK constraints and triggers (PostgreSQL needs a function for its append-only
//!   triggers and has TRUNCATE besides), sqlx's `_sqlx_migrations`, SQLite's internal
//!   `sqlite_%` tables, and the tower-sessions table (made by tower-sessions, not by our
//!   migrations; on PostgreSQL it lives in its own schema, only `public` is read).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{PgPool, SqlitePool};

/// Tables that are not ours to compare.
const NOT_OURS: &[&str] = &["_sqlx_migrations", "tower_sessions"];

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
    /// Indexes created by `CREATE INDEX`, by name.
    pub indexes: BTreeMap<String, Index>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub columns: BTreeMap<String, Column>,
    /// Key columns in key order.
    pub primary_key: Vec<String>,
    /// Columns of each UNIQUE constraint (not of unique indexes, which are in `indexes`).
    pub unique: BTreeSet<Vec<String>>,
    pub foreign_keys: BTreeSet<ForeignKey>,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub references: String,
    pub referenced_columns: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Column {
    /// The SQLite affinity of the declared type.
    pub family: &'static str,
    pub not_null: bool,
    pub default: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Index {
    pub table: String,
    pub columns: Vec<String>,
    pub unique: bool,
    pub predicate: Option<Predicate>,
}

/// A partial index's condition, loosely: the table's columns it mentions, and its literals.
#[derive(Debug, PartialEq, Eq)]
pub struct Predicate {
    pub columns: BTreeSet<String>,
    pub literals: Vec<String>,
}

impl Predicate {
    fn parse(sql: &str, table_columns: &BTreeMap<String, Column>) -> Predicate {
        let mut columns = BTreeSet::new();
        let mut literals = Vec::new();
        let mut chars = sql.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                let mut lit = String::new();
                while let Some(c) = chars.next() {
                    if c == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    lit.push(c);
                }
                literals.push(format!("'{lit}'"));
            } else if c.is_ascii_alphanumeric() || c == '_' || c == '"' {
                let mut word = String::from(c);
                while let Some(&c) = chars.peek() {
                    if !(c.is_ascii_alphanumeric() || c == '_' || c == '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                let word = word.trim_matches('"').to_ascii_lowercase();
                if word.starts_with(|c: char| c.is_ascii_digit()) {
                    literals.push(word);
                } else if table_columns.contains_key(&word) {
                    columns.insert(word);
                }
            }
        }
        literals.sort();
        Predicate { columns, literals }
    }
}

/// The SQLite affinity of a declared type (the rules of "Datatypes In SQLite", 3.1).
fn affinity(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        "integer"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "text"
    } else if t.is_empty() || t.contains("BLOB") || t == "BYTEA" {
        "blob"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "real"
    } else {
        "numeric"
    }
}

/// A default without PostgreSQL's casts and parentheses: `('x'::text)` is `'x'`.
fn normalise_default(d: &str) -> String {
    let mut d = d.trim();
    while d.starts_with('(') && d.ends_with(')') {
        d = d[1..d.len() - 1].trim();
    }
    let d = match d.rfind("::") {
        Some(i) if !d[i..].contains('\'') => &d[..i],
        _ => d,
    };
    d.trim().to_string()
}

fn ours(table: &str) -> bool {
    !NOT_OURS.contains(&table)
}

pub async fn sqlite(pool: &SqlitePool) -> Schema {
    let mut schema = Schema::default();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for name in tables.into_iter().filter(|t| ours(t)) {
        let mut table = Table::default();
        let cols: Vec<(String, String, i64, Option<String>, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .unwrap();
        let mut key: Vec<(i64, String)> = Vec::new();
        for (col, declared, not_null, default, pk) in cols {
            if pk > 0 {
                key.push((pk, col.clone()));
            }
            let column = Column {
                family: affinity(&declared),
                not_null: not_null != 0 || pk > 0,
                default: default.as_deref().map(normalise_default),
            };
            table.columns.insert(col, column);
        }
        key.sort();
        table.primary_key = key.into_iter().map(|(_, c)| c).collect();

        let fks: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .unwrap();
        // One row per column of each foreign key; `to` is NULL for `REFERENCES t` without
        // columns, which means t's primary key.
        let mut by_id: BTreeMap<i64, (ForeignKey, bool)> = BTreeMap::new();
        for (id, parent, from, to) in fks {
            let (fk, implicit) = by_id.entry(id).or_insert_with(|| {
                let fk = ForeignKey {
                    columns: Vec::new(),
                    references: parent,
                    referenced_columns: Vec::new(),
                };
                (fk, false)
            });
            fk.columns.push(from);
            match to {
                Some(to) => fk.referenced_columns.push(to),
                None => *implicit = true,
            }
        }
        for (mut fk, implicit) in by_id.into_values() {
            if implicit {
                fk.referenced_columns = sqlx::query_scalar(
                    "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
                )
                .bind(&fk.references)
                .fetch_all(pool)
                .await
                .unwrap();
            }
            table.foreign_keys.insert(fk);
        }

        let indexes: Vec<(String, i64, String, i64)> =
            sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1)")
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap();
        for (index, unique, origin, partial) in indexes {
            let columns: Vec<String> = sqlx::query_scalar(
                "SELECT COALESCE(name, '<expr>') FROM pragma_index_info(?1) ORDER BY seqno",
            )
            .bind(&index)
            .fetch_all(pool)
            .await
            .unwrap();
            match origin.as_str() {
                // The primary key: compared as `primary_key`.
                "pk" => continue,
                "u" => {
                    table.unique.insert(columns);
                    continue;
                }
                _ => {}
            }
            let predicate = if partial != 0 {
                let sql: String = sqlx::query_scalar(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                )
                .bind(&index)
                .fetch_one(pool)
                .await
                .unwrap();
                let at = sql
                    .to_ascii_uppercase()
                    .rfind(" WHERE ")
                    .expect("a partial index has a WHERE");
                Some(Predicate::parse(
                    &sql[at + " WHERE ".len()..],
                    &table.columns,
                ))
            } else {
                None
            };
            let index_def = Index {
                table: name.clone(),
                columns,
                unique: unique != 0,
                predicate,
            };
            schema.indexes.insert(index, index_def);
        }
        schema.tables.insert(name, table);
    }
    schema
}

pub async fn postgres(pool: &PgPool) -> Schema {
    let mut schema = Schema::default();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for name in tables.into_iter().filter(|t| ours(t)) {
        let mut table = Table::default();
        let cols: Vec<(String, String, bool, Option<String>)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable::text = 'NO', column_default::text \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 \
             ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .unwrap();
        for (col, data_type, not_null, default) in cols {
            let column = Column {
                family: affinity(&data_type),
                not_null,
                default: default.as_deref().map(normalise_default),
            };
            table.columns.insert(col, column);
        }
        schema.tables.insert(name, table);
    }

    // Columns of constraint `c` (`conkey`) or of what it references (`confkey`), in order.
    const COLS: &str = "ARRAY(SELECT a.attname::text FROM unnest(c.{key}) WITH ORDINALITY k(num, ord) \
         JOIN pg_attribute a ON a.attrelid = c.{rel} AND a.attnum = k.num ORDER BY k.ord)";
    #[derive(sqlx::FromRow)]
    struct Constraint {
        table: String,
        kind: String,
        columns: Vec<String>,
        references: Option<String>,
        referenced_columns: Option<Vec<String>>,
    }
    let constraints: Vec<Constraint> =
        sqlx::query_as(&format!(
            "SELECT t.relname::text AS \"table\", c.contype::text AS kind, {} AS columns, \
             f.relname::text AS \"references\", CASE WHEN c.contype = 'f' THEN {} END AS referenced_columns \
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace LEFT JOIN pg_class f ON f.oid = c.confrelid \
             WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f') ORDER BY 1, 2, 3",
            COLS.replace("{key}", "conkey").replace("{rel}", "conrelid"),
            COLS.replace("{key}", "confkey").replace("{rel}", "confrelid"),
        ))
        .fetch_all(pool)
        .await
        .unwrap();
    for c in constraints {
        let Some(table) = schema.tables.get_mut(&c.table) else {
            continue;
        };
        match c.kind.as_str() {
            "p" => table.primary_key = c.columns,
            "u" => {
                table.unique.insert(c.columns);
            }
            _ => {
                table.foreign_keys.insert(ForeignKey {
                    columns: c.columns,
                    references: c.references.unwrap(),
                    referenced_columns: c.referenced_columns.unwrap(),
                });
            }
        }
    }

    // Indexes that back a primary key or unique constraint are compared as constraints above.
    #[derive(sqlx::FromRow)]
    struct PgIndex {
        name: String,
        table: String,
        columns: Vec<String>,
        unique: bool,
        predicate: Option<String>,
    }
    let indexes: Vec<PgIndex> = sqlx::query_as(
        "SELECT i.relname::text AS name, t.relname::text AS \"table\", \
         ARRAY(SELECT COALESCE(a.attname::text, '<expr>') \
               FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(num, ord) \
               LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.num \
               WHERE k.ord <= x.indnkeyatts ORDER BY k.ord) AS columns, \
         x.indisunique AS \"unique\", pg_get_expr(x.indpred, x.indrelid) AS predicate \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
               WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x')) \
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for i in indexes {
        let Some(table) = schema.tables.get(&i.table) else {
            continue;
        };
        let predicate = i.predicate.map(|p| Predicate::parse(&p, &table.columns));
        let index = Index {
            table: i.table,
            columns: i.columns,
            unique: i.unique,
            predicate,
        };
        schema.indexes.insert(i.name, index);
    }
    schema
}
