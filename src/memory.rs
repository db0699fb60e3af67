//! The memory guard: every large allocation is checked against a budget before it is made.

use crate::{Error, Result};

/// Half of this machine's physical memory (from `/proc/meminfo`), or 4 GiB where that cannot be read.
///
/// ```
/// assert!(linear_collapse::memory::default_budget() > 0);
/// ```
pub fn default_budget() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024 / 2)
        .unwrap_or(4 << 30)
}

/// Bytes of an `rows x cols` matrix of `elem`-byte values, saturating.
pub(crate) fn matrix_bytes(rows: usize, cols: usize, elem: usize) -> u64 {
    (rows as u64)
        .saturating_mul(cols as u64)
        .saturating_mul(elem as u64)
}

/// Fails with [`Error::TooLarge`] when `needed > budget`.
pub(crate) fn check(
    what: impl FnOnce() -> String,
    needed: u64,
    budget: u64,
    hint: &str,
) -> Result<()> {
    if needed > budget {
        return Err(Error::TooLarge {
            what: what(),
            needed,
            budget,
            hint: if hint.is_empty() {
                String::new()
            } else {
                format!("; {hint}")
            },
        });
    }
    Ok(())
}
