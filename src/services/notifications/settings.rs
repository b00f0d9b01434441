//! A person's notification settings, as `/notificari` shows and changes
//! them: the kinds turned on (`notification_settings`, with N days for the
//! kinds that look ahead), their quiet hours (`notification_quiet`) and their
//! low-balance thresholds, one per currency (`notification_thresholds`).

use sqlx::PgConnection;

use super::Kind;
use crate::blocks::money::{Amount, Currency};

/// The N days a look-ahead kind may be set to from its buttons.
pub const DAYS: [u8; 4] = [1, 3, 7, 14];
/// The most days the database accepts.
pub const MAX_DAYS: u8 = 30;
/// N days until the person chooses.
pub const DEFAULT_DAYS: u8 = 3;
/// The threshold `balance_low` starts with when turned on without one:
/// 1.000 RON.
pub const DEFAULT_THRESHOLD: (Currency, Amount) = (Currency::RON, Amount::from_minor(100_000));

/// The hours (Bucharest) when no alert goes: from `from` o'clock to `until`
/// o'clock, across midnight when `from` > `until`; or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours(Option<(u8, u8)>);

impl QuietHours {
    /// Until the person chooses: 21:00 to 08:00.
    pub const DEFAULT: Self = Self(Some((21, 8)));
    /// No quiet hours: alerts at any hour.
    pub const NONE: Self = Self(None);
    /// What the buttons offer.
    pub const PRESETS: [Self; 4] = [
        Self::DEFAULT,
        Self(Some((22, 7))),
        Self(Some((20, 9))),
        Self::NONE,
    ];

    /// From `from` to `until` o'clock; `None` unless both are hours (0–23)
    /// and differ.
    pub fn new(from: u8, until: u8) -> Option<Self> {
        (from < 24 && until < 24 && from != until).then_some(Self(Some((from, until))))
    }

    /// As `notification_quiet` keeps them; anything it could not hold reads
    /// as the default.
    pub fn from_stored(from: Option<i16>, until: Option<i16>) -> Self {
        match (from, until) {
            (None, None) => Self::NONE,
            (Some(from), Some(until)) => u8::try_from(from)
                .ok()
                .zip(u8::try_from(until).ok())
                .and_then(|(from, until)| Self::new(from, until))
                .unwrap_or(Self::DEFAULT),
            _ => Self::DEFAULT,
        }
    }

    /// The hours, if any.
    pub fn hours(self) -> Option<(u8, u8)> {
        self.0
    }

    /// Whether `hour` (0–23, Bucharest) is inside them.
    pub fn holds(self, hour: u8) -> bool {
        match self.0 {
            None => false,
            Some((from, until)) if from < until => (from..until).contains(&hour),
            Some((from, until)) => hour >= from || hour < until,
        }
    }

    /// The code a button carries: `21-8`, `none`.
    pub fn code(self) -> String {
        match self.0 {
            None => "none".to_owned(),
            Some((from, until)) => format!("{from}-{until}"),
        }
    }

    /// The quiet hours a code names; `None` for anything [`Self::code`]
    /// would not write.
    pub fn parse(code: &str) -> Option<Self> {
        if code == "none" {
            return Some(Self::NONE);
        }
        let (from, until) = code.split_once('-')?;
        let hour = |s: &str| {
            let canonical = !s.is_empty() && (s == "0" || !s.starts_with('0'));
            canonical.then(|| s.parse::<u8>().ok()).flatten()
        };
        Self::new(hour(from)?, hour(until)?)
    }
}

/// A change pressed on the `/notificari` screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Turn the kind on or off.
    Toggle(Kind),
    /// Look this many days ahead (and turn the kind on).
    Days(Kind, u8),
    /// These quiet hours.
    Quiet(QuietHours),
}

/// Everything `/notificari` shows of one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The kinds turned on, with their N days.
    pub on: Vec<(Kind, u8)>,
    /// Their quiet hours.
    pub quiet: QuietHours,
    /// Their low-balance thresholds, by currency.
    pub thresholds: Vec<(Currency, Amount)>,
}

impl Settings {
    /// The N days of `kind` if it is on.
    pub fn days(&self, kind: Kind) -> Option<u8> {
        self.on.iter().find(|(k, _)| *k == kind).map(|(_, d)| *d)
    }
}

/// The settings of `user_id`.
///
/// # Errors
/// The database failed.
pub async fn load(db: &mut PgConnection, user_id: i64) -> Result<Settings, sqlx::Error> {
    let kinds = sqlx::query!(
        "SELECT kind, days FROM notification_settings WHERE user_id = $1",
        user_id
    )
    .fetch_all(&mut *db)
    .await?;
    let quiet = sqlx::query!(
        "SELECT quiet_from, quiet_until FROM notification_quiet WHERE user_id = $1",
        user_id
    )
    .fetch_optional(&mut *db)
    .await?;
    let thresholds = sqlx::query!(
        "SELECT currency, amount_minor FROM notification_thresholds
         WHERE user_id = $1 ORDER BY currency <> 'RON', currency",
        user_id
    )
    .fetch_all(&mut *db)
    .await?;
    let mut on: Vec<(Kind, u8)> = kinds
        .iter()
        .filter_map(|row| {
            let days = u8::try_from(row.days).unwrap_or(DEFAULT_DAYS);
            Kind::parse(&row.kind).map(|kind| (kind, days))
        })
        .collect();
    on.sort();
    Ok(Settings {
        on,
        quiet: quiet.map_or(QuietHours::DEFAULT, |q| {
            QuietHours::from_stored(q.quiet_from, q.quiet_until)
        }),
        thresholds: thresholds
            .iter()
            .filter_map(|row| {
                let currency = Currency::parse(&row.currency).ok()?;
                Some((currency, Amount::from_minor(row.amount_minor)))
            })
            .collect(),
    })
}

/// Applies `change` for `user_id`; returns whether the kind it names is now
/// on (`true` for quiet hours).
///
/// # Errors
/// The database failed.
pub async fn apply(
    db: &mut PgConnection,
    user_id: i64,
    change: Change,
) -> Result<bool, sqlx::Error> {
    match change {
        Change::Toggle(kind) => {
            let removed = sqlx::query!(
                "DELETE FROM notification_settings WHERE user_id = $1 AND kind = $2",
                user_id,
                kind.name()
            )
            .execute(&mut *db)
            .await?
            .rows_affected();
            if removed > 0 {
                return Ok(false);
            }
            turn_on(db, user_id, kind, None).await?;
            Ok(true)
        }
        Change::Days(kind, days) => {
            turn_on(db, user_id, kind, Some(days.clamp(1, MAX_DAYS))).await?;
            Ok(true)
        }
        Change::Quiet(hours) => {
            let (from, until) = hours.hours().map_or((None, None), |(f, u)| {
                (Some(i16::from(f)), Some(i16::from(u)))
            });
            sqlx::query!(
                "INSERT INTO notification_quiet (user_id, quiet_from, quiet_until)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (user_id) DO UPDATE
                     SET quiet_from = excluded.quiet_from, quiet_until = excluded.quiet_until",
                user_id,
                from,
                until
            )
            .execute(&mut *db)
            .await?;
            Ok(true)
        }
    }
}

/// Turns `kind` on (with `days` when given, else keeping what it had); a
/// low-balance alert without any threshold gets [`DEFAULT_THRESHOLD`].
async fn turn_on(
    db: &mut PgConnection,
    user_id: i64,
    kind: Kind,
    days: Option<u8>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO notification_settings (user_id, kind, days)
         VALUES ($1, $2, coalesce($3::integer, $4))
         ON CONFLICT (user_id, kind) DO UPDATE
             SET days = coalesce($3, notification_settings.days)",
        user_id,
        kind.name(),
        days.map(i32::from),
        i32::from(DEFAULT_DAYS)
    )
    .execute(&mut *db)
    .await?;
    if kind == Kind::BalanceLow {
        let (currency, amount) = DEFAULT_THRESHOLD;
        sqlx::query!(
            "INSERT INTO notification_thresholds (user_id, currency, amount_minor)
             SELECT $1, $2, $3
             WHERE NOT EXISTS (SELECT FROM notification_thresholds WHERE user_id = $1)",
            user_id,
            currency.as_str(),
            amount.minor()
        )
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

/// Sets `user_id`'s low-balance threshold in `currency` to `amount`, or
/// removes it (`None`), and turns `balance_low` on when one is set.
///
/// # Errors
/// The database failed.
pub async fn set_threshold(
    db: &mut PgConnection,
    user_id: i64,
    currency: Currency,
    amount: Option<Amount>,
) -> Result<(), sqlx::Error> {
    match amount {
        Some(amount) => {
            sqlx::query!(
                "INSERT INTO notification_thresholds (user_id, currency, amount_minor)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (user_id, currency) DO UPDATE SET amount_minor = excluded.amount_minor",
                user_id,
                currency.as_str(),
                amount.minor()
            )
            .execute(&mut *db)
            .await?;
            turn_on(db, user_id, Kind::BalanceLow, None).await
        }
        None => {
            sqlx::query!(
                "DELETE FROM notification_thresholds WHERE user_id = $1 AND currency = $2",
                user_id,
                currency.as_str()
            )
            .execute(&mut *db)
            .await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_hold_across_midnight_and_within_a_day() {
        let night = QuietHours::DEFAULT;
        for (hour, held) in [
            (20, false),
            (21, true),
            (23, true),
            (0, true),
            (7, true),
            (8, false),
            (12, false),
        ] {
            assert_eq!(night.holds(hour), held, "21-8 at {hour}");
        }
        let lunch = QuietHours::new(12, 14).expect("valid");
        for (hour, held) in [(11, false), (12, true), (13, true), (14, false)] {
            assert_eq!(lunch.holds(hour), held, "12-14 at {hour}");
        }
        assert!((0..24).all(|hour| !QuietHours::NONE.holds(hour)));
    }

    #[test]
    fn codes_round_trip_and_anything_else_is_refused() {
        for hours in QuietHours::PRESETS {
            assert_eq!(QuietHours::parse(&hours.code()), Some(hours));
        }
        assert_eq!(QuietHours::parse("0-6"), QuietHours::new(0, 6));
        for (code, why) in [
            ("", "empty"),
            ("21", "one hour"),
            ("21-08", "leading zero"),
            ("24-8", "not an hour"),
            ("8-8", "no length"),
            ("-1-8", "negative"),
            ("None", "case"),
        ] {
            assert_eq!(QuietHours::parse(code), None, "{why}: {code}");
        }
    }

    #[test]
    fn stored_hours_read_back_and_odd_rows_read_as_the_default() {
        assert_eq!(QuietHours::from_stored(None, None), QuietHours::NONE);
        assert_eq!(
            QuietHours::from_stored(Some(22), Some(7)),
            QuietHours::new(22, 7).expect("valid")
        );
        assert_eq!(QuietHours::from_stored(Some(22), None), QuietHours::DEFAULT);
        assert_eq!(
            QuietHours::from_stored(Some(99), Some(7)),
            QuietHours::DEFAULT
        );
    }
}
