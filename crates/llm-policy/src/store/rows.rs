//! Column mapping shared by the store's tables: lists and maps as JSON text, booleans as
//! BIGINT 0/1, money as BIGINT nano-dollars, counters as BIGINT. One portable form, so the
//! same statements run on SQLite and PostgreSQL through sqlx's `Any` driver.

use llm_types::money::NanoDollars;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::StoreError;
use crate::records::Limits;

/// JSON text of a list or map column.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Malformed(e.to_string()))
}

/// A list or map column read back; a malformed value is an error, never silently empty.
pub(crate) fn json_column<T: DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Malformed(format!("{column}: {e}")))
}

pub(crate) fn bool_column(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

pub(crate) fn money_column(row: &AnyRow, column: &str) -> Result<NanoDollars, StoreError> {
    Ok(NanoDollars(row.try_get::<i64, _>(column)?))
}

pub(crate) fn opt_money_column(
    row: &AnyRow,
    column: &str,
) -> Result<Option<NanoDollars>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(NanoDollars))
}

pub(crate) fn count_column(row: &AnyRow, column: &str) -> Result<u64, StoreError> {
    Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
}

pub(crate) fn opt_count_column(row: &AnyRow, column: &str) -> Result<Option<u64>, StoreError> {
    Ok(row
        .try_get::<Option<i64>, _>(column)?
        .map(|n| u64::try_from(n).unwrap_or(0)))
}

/// A counter as BIGINT; counts beyond `i64::MAX` do not occur, saturate if they did.
pub(crate) fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) fn opt_count(n: Option<u64>) -> Option<i64> {
    n.map(count)
}

pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// The limit columns every table shares, in the order [`LIMIT_COLUMNS`] names them.
pub(crate) fn limits_from(row: &AnyRow) -> Result<Limits, StoreError> {
    Ok(Limits {
        max_budget: opt_money_column(row, "max_budget")?,
        soft_budget: opt_money_column(row, "soft_budget")?,
        budget_duration: row.try_get("budget_duration")?,
        rpm_limit: opt_count_column(row, "rpm_limit")?,
        tpm_limit: opt_count_column(row, "tpm_limit")?,
        max_parallel_requests: opt_count_column(row, "max_parallel_requests")?,
    })
}

/// Whether a database error is a unique-constraint violation (a taken alias or id).
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// `LIMIT`/`OFFSET` of a 1-based page of `size` rows (size clamped to 1..=1000).
pub(crate) fn page_bounds(page: u64, size: u64) -> (i64, i64) {
    let size = size.clamp(1, 1000);
    let offset = page.max(1).saturating_sub(1).saturating_mul(size);
    (count(size), count(offset))
}
