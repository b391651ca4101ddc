use super::{DbError, Tx};
use crate::domain::{Field, Participant, Role};
use chrono::{DateTime, Utc};

const COLUMNS: &str = "telegram_user_id, role, name, area, wants, organisation, profession, email, series_id, group_id,
    privacy_version, consent_at, research_consent, research_consent_at, registered_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    telegram_user_id: i64,
    role: String,
    name: String,
    area: Option<String>,
    wants: Option<String>,
    organisation: Option<String>,
    profession: Option<String>,
    email: Option<String>,
    series_id: Option<String>,
    group_id: Option<String>,
    privacy_version: String,
    consent_at: DateTime<Utc>,
    research_consent: bool,
    research_consent_at: Option<DateTime<Utc>>,
    registered_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Participant {
    type Error = DbError;
    fn try_from(r: Row) -> Result<Self, DbError> {
        Ok(Participant {
            telegram_user_id: r.telegram_user_id,
            role: Role::parse(&r.role)
                .ok_or_else(|| DbError::Corrupt(format!("role '{}'", r.role)))?,
            name: r.name,
            area: r.area,
            wants: r.wants,
            organisation: r.organisation,
            profession: r.profession,
            email: r.email,
            series_id: r.series_id,
            group_id: r.group_id,
            privacy_version: r.privacy_version,
            consent_at: r.consent_at,
            research_consent: r.research_consent,
            research_consent_at: r.research_consent_at,
            registered_at: r.registered_at,
            updated_at: r.updated_at,
        })
    }
}

/// The registration's row id (never reused, deleted with the person): how audit lines name a participant.
pub async fn row_id(tx: &mut Tx, telegram_user_id: i64) -> Result<Option<i64>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM participants WHERE telegram_user_id = ?")
            .bind(telegram_user_id)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

pub async fn get(tx: &mut Tx, telegram_user_id: i64) -> Result<Option<Participant>, DbError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM participants WHERE telegram_user_id = ?"
    ))
    .bind(telegram_user_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(Participant::try_from).transpose()
}

/// Everyone registered (or those of one series) in registration order, read as one JSON array that SQLite
/// builds: sqlx's decoding of 10,000 rows one by one took most of the console's participants download
/// (`bench console`), the array a small part.
pub async fn all(tx: &mut Tx, series: Option<&str>) -> Result<Vec<Participant>, DbError> {
    // Ordered here, not by SQLite: an ORDER BY inside the aggregate sorts every row through a temporary
    // b-tree, which took about half of the read.
    let json: String = sqlx::query_scalar(&format!(
        "SELECT json_group_array(json_array(id, {COLUMNS})) FROM participants
         WHERE ?1 IS NULL OR series_id = ?1"
    ))
    .bind(series)
    .fetch_one(&mut **tx)
    .await?;
    #[derive(serde::Deserialize)]
    struct Cols(
        i64,
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
        i64,
        Option<String>,
        String,
        String,
    );
    let rows: Vec<Cols> =
        serde_json::from_str(&json).map_err(|e| DbError::Corrupt(format!("participants: {e}")))?;
    let mut people = rows
        .into_iter()
        .map(|c| {
            let id = c.0;
            Participant::try_from(Row {
                telegram_user_id: c.1,
                role: c.2,
                name: c.3,
                area: c.4,
                wants: c.5,
                organisation: c.6,
                profession: c.7,
                email: c.8,
                series_id: c.9,
                group_id: c.10,
                privacy_version: c.11,
                consent_at: super::stored_time(&c.12)?,
                research_consent: c.13 != 0,
                research_consent_at: c.14.as_deref().map(super::stored_time).transpose()?,
                registered_at: super::stored_time(&c.15)?,
                updated_at: super::stored_time(&c.16)?,
            })
            .map(|p| (id, p))
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    people.sort_unstable_by_key(|(id, p)| (p.registered_at, *id));
    Ok(people.into_iter().map(|(_, p)| p).collect())
}

/// Someone registered, as a list to choose a person from shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub telegram_user_id: i64,
    pub name: String,
    pub role: Role,
}

/// Everyone registered, in the order of `all`, with only what `Named` needs: the console's peer groups
/// page reads this on every request, for 10,000 people (`bench console`), and needs no more of each record.
pub async fn named(tx: &mut Tx) -> Result<Vec<Named>, DbError> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT telegram_user_id, name, role FROM participants ORDER BY registered_at, id",
    )
    .fetch_all(&mut **tx)
    .await?;
    to_named(rows)
}

/// The first `limit` of `named` sorted by name (as Rust orders strings: SQLite's binary collation compares
/// the same UTF-8 bytes), those with the same name in the order of `named`.
pub async fn first_by_name(tx: &mut Tx, limit: usize) -> Result<Vec<Named>, DbError> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT telegram_user_id, name, role FROM participants ORDER BY name, registered_at, id LIMIT ?",
    )
    .bind(limit as i64)
    .fetch_all(&mut **tx)
    .await?;
    to_named(rows)
}

/// These people of `named` (those registered), in the order of `named`.
pub async fn named_of(tx: &mut Tx, ids: &[i64]) -> Result<Vec<Named>, DbError> {
    let ids = serde_json::to_string(ids).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT telegram_user_id, name, role FROM participants
         WHERE telegram_user_id IN (SELECT value FROM json_each(?)) ORDER BY registered_at, id",
    )
    .bind(ids)
    .fetch_all(&mut **tx)
    .await?;
    to_named(rows)
}

fn to_named(rows: Vec<(i64, String, String)>) -> Result<Vec<Named>, DbError> {
    rows.into_iter()
        .map(|(telegram_user_id, name, role)| {
            Ok(Named {
                telegram_user_id,
                role: Role::parse(&role)
                    .ok_or_else(|| DbError::Corrupt(format!("role '{role}'")))?,
                name,
            })
        })
        .collect()
}

pub async fn insert(tx: &mut Tx, p: &Participant) -> Result<(), DbError> {
    sqlx::query(&format!(
        "INSERT INTO participants ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(p.telegram_user_id)
    .bind(p.role.as_str())
    .bind(&p.name)
    .bind(&p.area)
    .bind(&p.wants)
    .bind(&p.organisation)
    .bind(&p.profession)
    .bind(&p.email)
    .bind(&p.series_id)
    .bind(&p.group_id)
    .bind(&p.privacy_version)
    .bind(p.consent_at)
    .bind(p.research_consent)
    .bind(p.research_consent_at)
    .bind(p.registered_at)
    .bind(p.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Updates one answer from `/profile`. The column comes from a fixed match, never from input.
pub async fn update_field(
    tx: &mut Tx,
    telegram_user_id: i64,
    field: Field,
    value: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let statement = match field {
        Field::Name => {
            "UPDATE participants SET name = ?, updated_at = ? WHERE telegram_user_id = ?"
        }
        Field::Area => {
            "UPDATE participants SET area = ?, updated_at = ? WHERE telegram_user_id = ?"
        }
        Field::Wants => {
            "UPDATE participants SET wants = ?, updated_at = ? WHERE telegram_user_id = ?"
        }
        Field::Organisation => {
            "UPDATE participants SET organisation = ?, updated_at = ? WHERE telegram_user_id = ?"
        }
        Field::Profession => {
            "UPDATE participants SET profession = ?, updated_at = ? WHERE telegram_user_id = ?"
        }
        Field::Email => {
            "UPDATE participants SET email = ?, updated_at = ? WHERE telegram_user_id = ?"
        }
        Field::Series => {
            "UPDATE participants SET series_id = ?, updated_at = ? WHERE telegram_user_id = ?"
        }
        Field::ResearchConsent => {
            let yes = value == "yes";
            sqlx::query(
                "UPDATE participants SET research_consent = ?, research_consent_at = ?, updated_at = ? WHERE telegram_user_id = ?",
            )
            .bind(yes)
            .bind(yes.then_some(now))
            .bind(now)
            .bind(telegram_user_id)
            .execute(&mut **tx)
            .await?;
            return Ok(());
        }
        Field::Role | Field::Group | Field::Consent => {
            return Err(DbError::Corrupt(format!(
                "field {} cannot be edited",
                field.name()
            )));
        }
    };
    sqlx::query(statement)
        .bind(value)
        .bind(now)
        .bind(telegram_user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Takes a series off the participant's profile (they left it); another series stays.
pub async fn clear_series(
    tx: &mut Tx,
    telegram_user_id: i64,
    series_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE participants SET series_id = NULL, updated_at = ? WHERE telegram_user_id = ? AND series_id = ?",
    )
    .bind(now)
    .bind(telegram_user_id)
    .bind(series_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Assigns the peer group a father belongs to (the group of his area and language, or the fallback group),
/// or none (to assign again).
pub async fn set_group(
    tx: &mut Tx,
    telegram_user_id: i64,
    group: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE participants SET group_id = ?, updated_at = ? WHERE telegram_user_id = ?")
        .bind(group)
        .bind(now)
        .bind(telegram_user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn person(id: i64, name: &str, series: Option<&str>, minute: u32) -> Participant {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, minute, 7).unwrap()
            + chrono::Duration::microseconds(i64::from(minute) * 1_234);
        Participant {
            telegram_user_id: id,
            role: if id % 2 == 0 {
                Role::Father
            } else {
                Role::Professional
            },
            name: name.to_string(),
            area: (id % 3 == 0).then(|| "oulu".to_string()),
            wants: Some("both".to_string()),
            organisation: (id % 2 == 1).then(|| "Diak \"Oulu\", ä".to_string()),
            profession: None,
            email: Some(format!("p{id}@example.fi")),
            series_id: series.map(str::to_string),
            group_id: None,
            privacy_version: "2024-1".to_string(),
            consent_at: at,
            research_consent: id % 2 == 0,
            research_consent_at: (id % 2 == 0).then_some(at),
            registered_at: at,
            updated_at: at + chrono::Duration::seconds(1),
        }
    }

    /// The one-query reads give back what was stored: every field (times to the microsecond, quotes and ä in
    /// text, absent values), in registration order, and names sorted as Rust sorts them.
    #[tokio::test]
    async fn reads_at_once_and_by_name_match_the_row_by_row_reads() {
        let (pool, _dir) = super::super::temp_pool().await;
        let names = ["Örjan", "aino", "Äijä", "Bertta", "Aapo", "Bertta", "Zeta"];
        let mut tx = super::super::begin_write(&pool).await.unwrap();
        let mut stored = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let series = [Some("oulu-2024"), None, Some("rovaniemi")][i % 3];
            // Registered in another order than inserted, so the order is not the row ids'.
            let minute = (7 - i as u32) % 5 * 10 + i as u32;
            let p = person(100 + i as i64, name, series, minute);
            insert(&mut tx, &p).await.unwrap();
            stored.push(p);
        }
        // Registered in the same minute as the third: after it, as inserted after it.
        let twin = person(200, "Kaksonen", None, 2);
        insert(&mut tx, &twin).await.unwrap();
        stored.push(twin);
        tx.commit().await.unwrap();
        stored.sort_by_key(|p| p.registered_at);
        let mut tx = super::super::begin_read(&pool).await.unwrap();
        let every = all(&mut tx, None).await.unwrap();
        assert_eq!(every.len(), names.len() + 1);
        assert_eq!(every, stored);
        let oulu: Vec<Participant> = every
            .iter()
            .filter(|p| p.series_id.as_deref() == Some("oulu-2024"))
            .cloned()
            .collect();
        assert_eq!(oulu.len(), 3);
        assert_eq!(all(&mut tx, Some("oulu-2024")).await.unwrap(), oulu);
        assert!(all(&mut tx, Some("none")).await.unwrap().is_empty());

        let mut sorted = named(&mut tx).await.unwrap();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(first_by_name(&mut tx, 100).await.unwrap(), sorted);
        assert_eq!(first_by_name(&mut tx, 3).await.unwrap(), sorted[..3]);
        let some = named_of(&mut tx, &[104, 999, 101]).await.unwrap();
        let expected: Vec<Named> = named(&mut tx)
            .await
            .unwrap()
            .into_iter()
            .filter(|p| [104, 101].contains(&p.telegram_user_id))
            .collect();
        assert_eq!(some, expected);
    }
}
