//! A webhook's optional rate limit, `max_rps`: requests per second to that webhook from each
//! worker process, spaced evenly (README "Endpoint health").

use crate::webhook::FieldError;

/// The highest `max_rps` accepted.
pub const MAX_RPS_LIMIT: i64 = 10_000;

/// Checks an admin's `max_rps`: a whole number from 1 to [`MAX_RPS_LIMIT`].
pub fn validate_max_rps(value: i64) -> Result<i32, FieldError> {
    if (1..=MAX_RPS_LIMIT).contains(&value) {
        Ok(value as i32)
    } else {
        Err(FieldError::new("max_rps", format!("max_rps must be a whole number from 1 to {MAX_RPS_LIMIT}, got {value}")))
    }
}

/// Parses `max_rps` as typed on the command line: a number, or `off` (also `none`) for no limit.
pub fn parse_max_rps(raw: &str) -> Result<Option<i32>, FieldError> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("off") || raw.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let value: i64 = raw.parse().map_err(|_| {
        FieldError::new("max_rps", format!("max_rps must be a whole number from 1 to {MAX_RPS_LIMIT}, or off; got {raw:?}"))
    })?;
    validate_max_rps(value).map(Some)
}

/// How many requests may go out back to back before the spacing applies: a tenth of a second's
/// worth, at least one. Low rates are spaced strictly (`max_rps` 5: one request every 200 ms); high
/// ones may go in small bursts, since a claim every 100 µs is not something to ask of Postgres.
pub fn burst(max_rps: u32) -> u32 {
    (max_rps / 10).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_rps_is_a_positive_whole_number_up_to_the_limit() {
        assert_eq!(validate_max_rps(1), Ok(1));
        assert_eq!(validate_max_rps(10_000), Ok(10_000));
        for bad in [0, -1, 10_001, i64::MAX] {
            let err = validate_max_rps(bad).unwrap_err();
            assert_eq!(err.field, "max_rps", "{bad}");
            assert!(err.message.contains("10000"), "{err}");
        }
    }

    #[test]
    fn the_command_line_takes_a_number_or_off() {
        assert_eq!(parse_max_rps(" 25 "), Ok(Some(25)));
        assert_eq!(parse_max_rps("off"), Ok(None));
        assert_eq!(parse_max_rps("NONE"), Ok(None));
        assert_eq!(parse_max_rps("0").unwrap_err().field, "max_rps");
        assert_eq!(parse_max_rps("2.5").unwrap_err().field, "max_rps");
        assert_eq!(parse_max_rps("fast").unwrap_err().field, "max_rps");
    }

    #[test]
    fn bursts_are_a_tenth_of_a_second_at_least_one() {
        assert_eq!(burst(1), 1);
        assert_eq!(burst(19), 1);
        assert_eq!(burst(20), 2);
        assert_eq!(burst(10_000), 1_000);
    }
}
