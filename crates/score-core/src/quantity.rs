//! Exact Kubernetes-style resource quantities for container `resources.limits` / `requests`.
//!
//! score-go's `ParseResourceLimits` goes through `float64` and knows only `K…T` / `Ki…Ti`, so it
//! rejects schema-valid values such as `1.5Gi`, `1P` or `2Ei` and truncates `1.005` CPUs to 1004m.
//! Here the decimal is parsed exactly and every schema-valid value works; like Kubernetes, a value
//! that is not a whole milli-CPU or a whole byte rounds **up**. Error texts for unparsable input
//! are score-go's.
//!
//! ```
//! use score_core::quantity::{parse_cpu_millis, parse_memory_bytes};
//! assert_eq!(parse_cpu_millis("500m"), Ok(500));
//! assert_eq!(parse_cpu_millis("1.005"), Ok(1005));
//! assert_eq!(parse_memory_bytes("1.5Gi"), Ok(1_610_612_736));
//! assert_eq!(parse_memory_bytes("banana"), Err("failed to parse memory 'banana' as a number".into()));
//! ```

/// A non-negative decimal `digits[.digits]`, split into its integer and fraction digit strings.
fn split_decimal(s: &str) -> Option<(&str, &str)> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    // At least one digit on each side of a dot that is present ("1.", ".5" are not numbers here).
    let ok = !int.is_empty()
        && all_digits(int)
        && all_digits(frac)
        && (frac.is_empty() != s.contains('.'));
    ok.then_some((int, frac))
}

/// `ceil((int + 0.frac) * mult)` computed exactly, or `None` on overflow of `u64`.
fn scaled_ceil(int: &str, frac: &str, mult: u64) -> Option<u64> {
    let mut whole: u128 = 0;
    for b in int.bytes() {
        whole = whole.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
        if whole > u128::from(u64::MAX) {
            return None;
        }
    }
    let whole = whole.checked_mul(u128::from(mult))?;
    // Horner from the last fraction digit: y_i = d_i * mult + y_{i+1} / 10, keeping floor(y) and
    // whether anything was dropped; floor(floor(y) / 10) == floor(y / 10), so this is exact.
    let mult = u128::from(mult);
    let mut y: u128 = 0;
    let mut inexact = false;
    for b in frac.bytes().rev() {
        inexact |= !y.is_multiple_of(10);
        y = u128::from(b - b'0') * mult + y / 10;
    }
    inexact |= !y.is_multiple_of(10);
    let total = whole + y / 10 + u128::from(inexact);
    u64::try_from(total).ok()
}

/// Parses a CPU quantity into milli-CPUs: `500m` → 500, `2` → 2000, `0.5` → 500.
///
/// Exact decimal arithmetic; a fraction of a milli-CPU rounds up (`0.0005` → 1), as Kubernetes
/// does. Error for anything that is not a decimal (with an optional `m`):
/// `failed to parse cpus '<value without m>' as a number`.
///
/// ```
/// use score_core::quantity::parse_cpu_millis;
/// assert_eq!(parse_cpu_millis("0.0005"), Ok(1));
/// assert_eq!(parse_cpu_millis("banana"), Err("failed to parse cpus 'banana' as a number".into()));
/// ```
pub fn parse_cpu_millis(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.strip_suffix('m') {
        Some(n) => (n, 1),
        None => (s, 1000),
    };
    let (int, frac) =
        split_decimal(num).ok_or_else(|| format!("failed to parse cpus '{num}' as a number"))?;
    scaled_ceil(int, frac, mult).ok_or_else(|| format!("cpus '{s}' is out of range"))
}

const MEMORY_SUFFIXES: [(&str, u64); 12] = [
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("Pi", 1 << 50),
    ("Ei", 1 << 60),
    ("K", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
    ("P", 1_000_000_000_000_000),
    ("E", 1_000_000_000_000_000_000),
];

/// Parses a memory quantity into bytes: decimal SI suffixes `K M G T P E` (1000ⁿ), binary
/// `Ki Mi Gi Ti Pi Ei` (1024ⁿ), or none (bytes).
///
/// Exact decimal arithmetic (`1.5Gi` = 1610612736); a fractional byte rounds up (`0.5` → 1).
/// Errors: `failed to parse memory '<value without suffix>' as a number`, and
/// `memory '<value>' is out of range` above `u64::MAX` bytes.
///
/// ```
/// use score_core::quantity::parse_memory_bytes;
/// assert_eq!(parse_memory_bytes("123Mi"), Ok(128_974_848));
/// assert_eq!(parse_memory_bytes("1P"), Ok(1_000_000_000_000_000));
/// assert_eq!(parse_memory_bytes("16Ei"), Err("memory '16Ei' is out of range".into()));
/// ```
pub fn parse_memory_bytes(s: &str) -> Result<u64, String> {
    let (num, mult) = MEMORY_SUFFIXES
        .iter()
        .find_map(|(suf, m)| s.strip_suffix(suf).map(|n| (n, *m)))
        .unwrap_or((s, 1));
    let (int, frac) =
        split_decimal(num).ok_or_else(|| format!("failed to parse memory '{num}' as a number"))?;
    scaled_ceil(int, frac, mult).ok_or_else(|| format!("memory '{s}' is out of range"))
}

/// Both limits at once, like score-go's `ParseResourceLimits`: CPU is checked first, and on any
/// error neither value is returned.
///
/// ```
/// use score_core::quantity::parse_resource_limits;
/// assert_eq!(parse_resource_limits(Some("200m"), Some("123Mi")), Ok((Some(200), Some(128_974_848))));
/// assert_eq!(parse_resource_limits(None, None), Ok((None, None)));
/// ```
pub fn parse_resource_limits(
    cpu: Option<&str>,
    memory: Option<&str>,
) -> Result<(Option<u64>, Option<u64>), String> {
    let cpu = cpu.map(parse_cpu_millis).transpose()?;
    let memory = memory.map(parse_memory_bytes).transpose()?;
    Ok((cpu, memory))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_forms() {
        assert_eq!(parse_cpu_millis("0"), Ok(0));
        assert_eq!(parse_cpu_millis("1000m"), Ok(1000));
        assert_eq!(parse_cpu_millis("0.24"), Ok(240));
        assert_eq!(parse_cpu_millis("1.5m"), Ok(2));
        assert_eq!(
            parse_cpu_millis("0.0010000000000000000000000000000000000000001"),
            Ok(2)
        );
        assert_eq!(
            parse_cpu_millis("0.001000000000000000000000000000000000000000"),
            Ok(1)
        );
        for bad in ["", "m", "1.", ".5", "-1", "1M", "1e3", " 1", "1m m"] {
            assert!(parse_cpu_millis(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_cpu_millis("xm"),
            Err("failed to parse cpus 'x' as a number".into())
        );
        assert_eq!(parse_cpu_millis("18446744073709551615m"), Ok(u64::MAX));
        assert!(parse_cpu_millis("18446744073709551616m").is_err());
        assert!(parse_cpu_millis("18446744073709552").is_err());
    }

    #[test]
    fn memory_forms() {
        assert_eq!(parse_memory_bytes("128M"), Ok(128_000_000));
        assert_eq!(parse_memory_bytes("1Ki"), Ok(1024));
        assert_eq!(parse_memory_bytes("0.5"), Ok(1));
        assert_eq!(parse_memory_bytes("0.5Gi"), Ok(1 << 29));
        assert_eq!(parse_memory_bytes("1.05"), Ok(2));
        assert_eq!(parse_memory_bytes("1.1K"), Ok(1100));
        assert_eq!(parse_memory_bytes("1.0001K"), Ok(1001));
        assert_eq!(parse_memory_bytes("15Ei"), Ok(15 << 60));
        assert_eq!(
            parse_memory_bytes("1.Gi"),
            Err("failed to parse memory '1.' as a number".into())
        );
        assert_eq!(
            parse_memory_bytes("1k"),
            Err("failed to parse memory '1k' as a number".into())
        );
        assert!(parse_memory_bytes("1 Gi").is_err());
        assert!(parse_memory_bytes("1e3").is_err());
        assert!(parse_memory_bytes("").is_err());
    }
}
