//! The memory guard: every large allocation is checked against a budget before it is made.

use crate::{Error, Result};

/// Half of the memory this process may use: the least of the machine's physical memory
/// (`/proc/meminfo`), the process's address-space limit (`ulimit -v`, from `/proc/self/limits`) and its
/// cgroup's limit (`/sys/fs/cgroup/memory.max`); 4 GiB where none can be read.
///
/// ```
/// assert!(linear_collapse::memory::default_budget() > 0);
/// ```
pub fn default_budget() -> u64 {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let physical = read("/proc/meminfo").and_then(|s| {
        let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
        line.split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()?
            .checked_mul(1024)
    });
    // "Max address space   <soft>   <hard>   bytes"
    let address_space = read("/proc/self/limits").and_then(|s| {
        let line = s.lines().find(|l| l.starts_with("Max address space"))?;
        line.split_whitespace().nth(3)?.parse::<u64>().ok()
    });
    let cgroup = read("/sys/fs/cgroup/memory.max").and_then(|s| s.trim().parse::<u64>().ok());
    [physical, address_space, cgroup]
        .into_iter()
        .flatten()
        .min()
        .map_or(4 << 30, |b| b / 2)
}

/// Bytes of an `rows x cols` matrix of `elem`-byte values, saturating.
pub(crate) fn matrix_bytes(rows: usize, cols: usize, elem: usize) -> u64 {
    (rows as u64)
        .saturating_mul(cols as u64)
        .saturating_mul(elem as u64)
}

/// Fails with [`Error::TooLarge`] when `needed > budget` (`needed` saturated at `u64::MAX`: a size past
/// 64 bits, said as such).
pub(crate) fn check(
    what: impl FnOnce() -> String,
    needed: u64,
    budget: u64,
    hint: &str,
) -> Result<()> {
    if needed == u64::MAX {
        return Err(Error::format(
            what(),
            format!("needs more bytes than 64 bits can count; the memory budget is {budget} bytes"),
        ));
    }
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
