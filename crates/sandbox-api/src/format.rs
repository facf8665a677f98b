//! How sizes and CPU read to a person; identical to the Python client's helpers.

/// Bytes in the largest binary unit (KiB…TiB) that is at least 1, with one decimal
/// (`17179869184` → `"16.0 GiB"`); below 1 KiB, whole bytes (`"512 B"`, `"0 B"`).
pub fn format_bytes(bytes: i64) -> String {
    const UNITS: [(&str, f64); 4] = [
        ("TiB", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("GiB", 1024.0 * 1024.0 * 1024.0),
        ("MiB", 1024.0 * 1024.0),
        ("KiB", 1024.0),
    ];
    let value = bytes as f64;
    UNITS
        .iter()
        .find(|(_, size)| value.abs() >= *size)
        .map(|(unit, size)| format!("{:.1} {unit}", value / size))
        .unwrap_or_else(|| format!("{bytes} B"))
}

/// Millicores as vCPU with one decimal (`4000` → `"4.0 vCPU"`, `500` → `"0.5 vCPU"`).
pub fn format_cpu(millicores: i64) -> String {
    format!("{:.1} vCPU", millicores as f64 / 1000.0)
}

/// A proto enum value as a person reads it: the type prefix dropped, first letter
/// capitalised (`RUNNER_INSTALL_STATUS_READY` with prefix `RUNNER_INSTALL_STATUS_` →
/// `"Ready"`, `RELEASE_CHANNEL_RAPID` → `"Rapid"`).
pub fn format_enum(value: &str, prefix: &str) -> String {
    let words = value
        .strip_prefix(prefix)
        .unwrap_or(value)
        .replace('_', " ");
    // Enum names are ASCII; ASCII case mapping also keeps Unicode's tables out of the
    // console's bundle.
    let mut text = words.to_ascii_lowercase();
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_read_as_words() {
        assert_eq!(
            format_enum("RUNNER_INSTALL_STATUS_READY", "RUNNER_INSTALL_STATUS_"),
            "Ready"
        );
        assert_eq!(
            format_enum("SANDBOX_STATUS_NOT_FOUND", "SANDBOX_STATUS_"),
            "Not found"
        );
        assert_eq!(format_enum("ODD", "RELEASE_CHANNEL_"), "Odd");
        assert_eq!(format_enum("", "X_"), "");
    }

    #[test]
    fn bytes_match_the_python_client() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1024), "1.0 KiB");
        assert_eq!(
            format_bytes(1280),
            "1.2 KiB",
            "an exact tie rounds to even, as Python does"
        );
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(17_179_869_184), "16.0 GiB");
        assert_eq!(format_bytes(1024 * 1024 * 1024 * 1024 * 3), "3.0 TiB");
        assert_eq!(format_bytes(1024_i64.pow(5)), "1024.0 TiB");
    }

    #[test]
    fn cpu_matches_the_python_client() {
        assert_eq!(format_cpu(4000), "4.0 vCPU");
        assert_eq!(format_cpu(500), "0.5 vCPU");
        assert_eq!(format_cpu(250), "0.2 vCPU");
        assert_eq!(format_cpu(1750), "1.8 vCPU");
        assert_eq!(format_cpu(0), "0.0 vCPU");
    }
}
