//! The console's list of people: everyone who has written to the bot, searched by name or Telegram id and
//! filtered by role, series, area, peer group and status, a page at a time (10,000 people stay fast: one
//! counted query and one page of rows).
use super::DbError;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

/// A person's status as the list filters it (not exclusive: someone registered can also be unreachable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Has completed a registration.
    Registered,
    /// Is in the middle of registering.
    InProgress,
    /// Has left a series and is enrolled in none now.
    Left,
    /// Blocked the bot or the account is gone.
    Unreachable,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Registered,
        Status::InProgress,
        Status::Left,
        Status::Unreachable,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Registered => "registered",
            Status::InProgress => "in_progress",
            Status::Left => "left",
            Status::Unreachable => "unreachable",
        }
    }

    pub fn parse(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    fn condition(self) -> &'static str {
        match self {
            Status::Registered => "p.telegram_user_id IS NOT NULL",
            Status::InProgress => {
                "p.telegram_user_id IS NULL AND EXISTS (SELECT 1 FROM dialogues d
                   WHERE d.telegram_user_id = u.telegram_user_id AND d.flow = 'registration')"
            }
            Status::Left => {
                "EXISTS (SELECT 1 FROM enrolments e WHERE e.telegram_user_id = u.telegram_user_id AND e.status = 'left')
                 AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.telegram_user_id = u.telegram_user_id
                   AND e.status <> 'left')"
            }
            Status::Unreachable => "u.unreachable_since IS NOT NULL",
        }
    }
}

/// What the list is narrowed to (None = any).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Part of the name, or a Telegram id.
    pub search: Option<String>,
    pub role: Option<String>,
    pub series: Option<String>,
    pub area: Option<String>,
    pub group: Option<String>,
    pub status: Option<Status>,
}

/// One line of the list.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Person {
    pub telegram_user_id: i64,
    /// None for someone who has not registered.
    pub name: Option<String>,
    pub role: Option<String>,
    pub series_id: Option<String>,
    pub area: Option<String>,
    pub group_id: Option<String>,
    pub in_progress: bool,
    pub unreachable: bool,
}

fn push_filter<'a>(query: &mut QueryBuilder<'a, Sqlite>, filter: &'a Filter) {
    query.push(" WHERE 1 = 1");
    if let Some(search) = filter.search.as_deref() {
        match search.parse::<i64>() {
            Ok(id) => {
                query.push(" AND u.telegram_user_id = ").push_bind(id);
            }
            Err(_) => {
                // instr on lowercased text: LIKE would treat % and _ in the search as wildcards.
                query
                    .push(" AND instr(lower(p.name), lower(")
                    .push_bind(search)
                    .push(")) > 0");
            }
        }
    }
    for (column, value) in [
        ("p.role", &filter.role),
        ("p.series_id", &filter.series),
        ("p.area", &filter.area),
        ("p.group_id", &filter.group),
    ] {
        if let Some(value) = value {
            query
                .push(format!(" AND {column} = "))
                .push_bind(value.as_str());
        }
    }
    if let Some(status) = filter.status {
        query.push(format!(" AND ({})", status.condition()));
    }
}

const FROM: &str =
    " FROM users u LEFT JOIN participants p ON p.telegram_user_id = u.telegram_user_id";

/// One page of the people `filter` matches (registered people by name, then the others by id), and how many
/// match in all.
pub async fn page(
    pool: &SqlitePool,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Person>, i64), DbError> {
    let mut count = QueryBuilder::new(format!("SELECT COUNT(*){FROM}"));
    push_filter(&mut count, filter);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
    let mut rows = QueryBuilder::new(format!(
        "SELECT u.telegram_user_id, p.name, p.role, p.series_id, p.area, p.group_id,
           (p.telegram_user_id IS NULL AND EXISTS (SELECT 1 FROM dialogues d
              WHERE d.telegram_user_id = u.telegram_user_id AND d.flow = 'registration')) AS in_progress,
           (u.unreachable_since IS NOT NULL) AS unreachable{FROM}"
    ));
    push_filter(&mut rows, filter);
    rows.push(" ORDER BY p.name IS NULL, p.name, u.telegram_user_id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let people = rows.build_query_as().fetch_all(pool).await?;
    Ok((people, total))
}

/// Whether the bot has a record of this person at all.
pub async fn exists(pool: &SqlitePool, telegram_user_id: i64) -> Result<bool, DbError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE telegram_user_id = ?")
        .bind(telegram_user_id)
        .fetch_optional(pool)
        .await?;
    Ok(found.is_some())
}
