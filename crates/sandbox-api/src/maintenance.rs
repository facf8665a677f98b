//! Maintenance windows: when a runner may be updated, as five-field cron expressions
//! (`minute hour day-of-month month day-of-week`, with `*`, lists, ranges, steps and
//! month/day names), read in UTC (local decision: SPEC gives no time zone).

use time::{Date, Duration, OffsetDateTime, Time};

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
    },
    Field {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    },
    Field {
        name: "day of week",
        min: 0,
        max: 7,
        names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    },
];

/// How far ahead to look for a time an expression matches: a schedule such as
/// "0 0 29 feb mon" may match only once in decades, which is as good as never here.
const SEARCH_DAYS: i64 = 366 * 5;

/// A parsed cron expression: for each field, the set of values it matches (bit n set
/// when n matches).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CronSchedule {
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    /// Sunday is 0 (7 is folded into it).
    days_of_week: u64,
    /// Cron's rule: when both day fields are restricted, a day matching either runs.
    day_of_month_restricted: bool,
    day_of_week_restricted: bool,
}

impl CronSchedule {
    /// Reads `expression`, or says which field is wrong and why.
    pub fn parse(expression: &str) -> Result<CronSchedule, String> {
        let parts: Vec<&str> = expression.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(format!(
                "{expression:?} has {} fields; a cron expression has five: minute hour day-of-month month day-of-week (e.g. \"0 3 * * sun\")",
                parts.len()
            ));
        }
        let mut sets = [0u64; 5];
        for ((part, field), set) in parts.iter().zip(&FIELDS).zip(&mut sets) {
            for item in part.split(',') {
                *set |= item_values(item, field)
                    .map_err(|problem| format!("the {} field {part:?} {problem}", field.name))?;
            }
        }
        let sunday_as_seven = 1 << 7;
        Ok(CronSchedule {
            minutes: sets[0],
            hours: sets[1],
            days_of_month: sets[2],
            months: sets[3],
            days_of_week: (sets[4] & !sunday_as_seven) | u64::from(sets[4] & sunday_as_seven != 0),
            day_of_month_restricted: !parts[2].starts_with('*'),
            day_of_week_restricted: !parts[4].starts_with('*'),
        })
    }

    /// The first `count` times after `after` (exclusive) the schedule matches, to the
    /// minute, within the next five years.
    pub fn next_occurrences(&self, after: OffsetDateTime, count: usize) -> Vec<OffsetDateTime> {
        let after = after.to_offset(time::UtcOffset::UTC);
        let mut found = Vec::with_capacity(count);
        let mut day = after.date();
        for _ in 0..SEARCH_DAYS {
            if self.matches_day(day) {
                for hour in bits(self.hours) {
                    for minute in bits(self.minutes) {
                        let Ok(at) = Time::from_hms(hour as u8, minute as u8, 0) else {
                            continue;
                        };
                        let candidate = day.with_time(at).assume_utc();
                        if candidate > after {
                            found.push(candidate);
                            if found.len() == count {
                                return found;
                            }
                        }
                    }
                }
            }
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
        found
    }

    fn matches_day(&self, day: Date) -> bool {
        if !has(self.months, u32::from(u8::from(day.month()))) {
            return false;
        }
        let by_month_day = has(self.days_of_month, u32::from(day.day()));
        let by_week_day = has(
            self.days_of_week,
            u32::from(day.weekday().number_days_from_sunday()),
        );
        match (self.day_of_month_restricted, self.day_of_week_restricted) {
            (true, true) => by_month_day || by_week_day,
            (true, false) => by_month_day,
            (false, true) => by_week_day,
            (false, false) => true,
        }
    }
}

/// Why `expression` is not a valid cron expression, or `None`.
pub fn cron_problem(expression: &str) -> Option<String> {
    CronSchedule::parse(expression).err()
}

/// A window opening at `start` and lasting `duration_seconds`, in words:
/// "Sun 2026-12-06 03:00 UTC, for 2 h 30 min".
pub fn describe_window(start: OffsetDateTime, duration_seconds: i64) -> String {
    let start = start.to_offset(time::UtcOffset::UTC);
    let weekday = start.weekday().to_string();
    let length = Duration::seconds(duration_seconds.max(0));
    let (hours, minutes) = (length.whole_hours(), length.whole_minutes() % 60);
    let length = match (hours, minutes) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    };
    format!(
        "{} {} {:02}:{:02} UTC, for {length}",
        &weekday[..3],
        start.date(),
        start.hour(),
        start.minute()
    )
}

fn has(set: u64, value: u32) -> bool {
    set & (1 << value) != 0
}

fn bits(set: u64) -> impl Iterator<Item = u32> {
    (0..64).filter(move |n| has(set, *n))
}

fn item_values(item: &str, field: &Field) -> Result<u64, String> {
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => (range, Some(step)),
        None => (item, None),
    };
    let step = match step {
        None => 1,
        Some(step) => match step.parse::<u32>() {
            Ok(n) if n >= 1 && n <= field.max => n,
            _ => return Err(format!("has an invalid step {step:?}")),
        },
    };
    let value = |text: &str| -> Option<u32> {
        let lower = text.to_ascii_lowercase();
        if let Some(i) = field.names.iter().position(|n| *n == lower) {
            return u32::try_from(i).ok().map(|i| i + field.min);
        }
        text.parse()
            .ok()
            .filter(|n| (field.min..=field.max).contains(n))
    };
    let (from, to) = if range == "*" {
        (field.min, field.max)
    } else {
        let bounds = match range.split_once('-') {
            Some((from, to)) => value(from).zip(value(to)),
            // "5/15" means from 5 to the end, every 15.
            None if step > 1 => value(range).map(|v| (v, field.max)),
            None => value(range).map(|v| (v, v)),
        };
        match bounds {
            Some((from, to)) if from <= to => (from, to),
            Some(_) => return Err(format!("has a range {range:?} that runs backwards")),
            None => {
                return Err(format!(
                    "must use values from {} to {}",
                    field.min, field.max
                ));
            }
        }
    };
    Ok((from..=to)
        .step_by(step as usize)
        .fold(0, |set, n| set | (1 << n)))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

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

    fn next(expression: &str, after: OffsetDateTime, count: usize) -> Vec<OffsetDateTime> {
        CronSchedule::parse(expression)
            .unwrap()
            .next_occurrences(after, count)
    }

    #[test]
    fn a_weekly_window_opens_on_the_next_sundays() {
        // 2026-12-02 is a Wednesday.
        assert_eq!(
            next("0 3 * * sun", datetime!(2026-12-02 10:00 UTC), 3),
            [
                datetime!(2026-12-06 03:00 UTC),
                datetime!(2026-12-13 03:00 UTC),
                datetime!(2026-12-20 03:00 UTC),
            ]
        );
        // Sunday written as 7 is the same day.
        assert_eq!(
            next("0 3 * * 7", datetime!(2026-12-02 10:00 UTC), 1),
            [datetime!(2026-12-06 03:00 UTC)]
        );
    }

    #[test]
    fn the_start_itself_is_not_an_occurrence_and_steps_count_from_the_range_start() {
        assert_eq!(
            next("*/20 * * * *", datetime!(2026-12-02 10:00 UTC), 3),
            [
                datetime!(2026-12-02 10:20 UTC),
                datetime!(2026-12-02 10:40 UTC),
                datetime!(2026-12-02 11:00 UTC),
            ]
        );
        assert_eq!(
            next("5/30 9 * * *", datetime!(2026-12-02 10:00 UTC), 2),
            [
                datetime!(2026-12-03 09:05 UTC),
                datetime!(2026-12-03 09:35 UTC),
            ]
        );
    }

    #[test]
    fn restricted_day_fields_match_either_day() {
        // The 1st of the month, or any Friday.
        assert_eq!(
            next("0 0 1 * fri", datetime!(2026-12-27 00:00 UTC), 3),
            [
                datetime!(2027-01-01 00:00 UTC),
                datetime!(2027-01-08 00:00 UTC),
                datetime!(2027-01-15 00:00 UTC),
            ]
        );
        // The 31st skips the months without one.
        assert_eq!(
            next("0 0 31 * *", datetime!(2027-01-31 00:00 UTC), 1),
            [datetime!(2027-03-31 00:00 UTC)]
        );
    }

    #[test]
    fn a_window_reads_as_its_start_and_length() {
        assert_eq!(
            describe_window(datetime!(2026-12-06 03:00 UTC), 9000),
            "Sun 2026-12-06 03:00 UTC, for 2 h 30 min"
        );
        assert_eq!(
            describe_window(datetime!(2026-12-06 03:05 UTC), 3600),
            "Sun 2026-12-06 03:05 UTC, for 1 h"
        );
    }

    #[test]
    fn a_schedule_that_never_comes_gives_nothing() {
        assert!(next("0 0 30 feb *", datetime!(2026-12-02 10:00 UTC), 3).is_empty());
    }
}
