//! Maintenance windows: when a runner may be updated, as five-field cron expressions.

const FIELDS: [(&str, u32, u32, &[&str]); 5] = [
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day of month", 1, 31, &[]),
    (
        "month",
        1,
        12,
        &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    ),
    (
        "day of week",
        0,
        7,
        &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    ),
];

/// Why `expression` is not a five-field cron expression (`minute hour day-of-month
/// month day-of-week`, with `*`, lists, ranges, steps and month/day names), or `None`.
pub fn cron_problem(expression: &str) -> Option<String> {
    let parts: Vec<&str> = expression.split_whitespace().collect();
    if parts.len() != 5 {
        return Some(format!(
            "{expression:?} has {} fields; a cron expression has five: minute hour day-of-month month day-of-week (e.g. \"0 3 * * sun\")",
            parts.len()
        ));
    }
    parts
        .iter()
        .zip(FIELDS)
        .find_map(|(part, (name, min, max, names))| {
            part.split(',')
                .find_map(|item| item_problem(item, min, max, names))
                .map(|problem| format!("the {name} field {part:?} {problem}"))
        })
}

fn item_problem(item: &str, min: u32, max: u32, names: &[&str]) -> Option<String> {
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => (range, Some(step)),
        None => (item, None),
    };
    if let Some(step) = step
        && !matches!(step.parse::<u32>(), Ok(n) if n >= 1 && n <= max)
    {
        return Some(format!("has an invalid step {step:?}"));
    }
    if range == "*" {
        return None;
    }
    let value = |text: &str| -> Option<u32> {
        let lower = text.to_ascii_lowercase();
        if let Some(i) = names.iter().position(|n| *n == lower) {
            return u32::try_from(i).ok().map(|i| i + min);
        }
        text.parse().ok().filter(|n| (min..=max).contains(n))
    };
    let bounds = match range.split_once('-') {
        Some((from, to)) => value(from).zip(value(to)),
        None => value(range).map(|v| (v, v)),
    };
    match bounds {
        Some((from, to)) if from <= to => None,
        Some(_) => Some(format!("has a range {range:?} that runs backwards")),
        None => Some(format!("must use values from {min} to {max}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_expressions_are_valid() {
        for good in [
            "0 3 * * sun",
            "*/15 * * * *",
            "0 2 1,15 * *",
            "30 1 * jan-mar mon-fri",
            "0 0 * * 7",
        ] {
            assert_eq!(cron_problem(good), None, "{good}");
        }
    }

    #[test]
    fn bad_expressions_say_which_field() {
        assert!(cron_problem("0 3 * *").unwrap().contains("has 4 fields"));
        assert!(cron_problem("60 3 * * *").unwrap().contains("minute"));
        assert!(cron_problem("0 25 * * *").unwrap().contains("hour"));
        assert!(cron_problem("0 3 * foo *").unwrap().contains("month"));
        assert!(cron_problem("0 3 * * */0").unwrap().contains("step"));
        assert!(cron_problem("0 5-3 * * *").unwrap().contains("backwards"));
    }
}
