//! The spend journal ships into the store: idempotent by request id, rolled up on keys,
//! users and teams in the same transaction.

use crate::journal::SpendSink;
use crate::records::SpendRecord;
use crate::store::Store;

impl SpendSink for Store {
    async fn write_batch(&self, batch: &[SpendRecord]) -> Result<u64, String> {
        self.insert_spend(batch).await.map_err(|e| e.to_string())
    }
}
