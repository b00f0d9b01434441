//! Inline-keyboard button data: what our buttons carry, parsed strictly.
//! The data comes back from Telegram untrusted (anyone can send any string),
//! so handlers re-check everything it names, membership above all.

use crate::blocks::invite_code::InviteCode;
use crate::blocks::link_code::{self, LinkCode};
use crate::services::finance::companies::{MemberCursor, Place};
use crate::services::finance::invoices::{Cursor, Search};
use crate::services::finance::{PaidFilter, Role};
use crate::services::notifications::{self, Change, Kind, QuietHours};

/// What a button press asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callback {
    /// `co:<company id>`: make this the active company.
    SelectCompany(i64),
    /// `cp:f` (the first), `cp:a<company id>` (just after that company),
    /// `cp:b<company id>` (just before it): a keyset page of the
    /// `/selectcompany` list. The page numbers of the previous build
    /// (`cp:2`) read as nothing: that button is no longer valid.
    SelectPage(Place),
    /// `cu:<cash entry id>`: undo this `/add` entry.
    UndoCash(i64),
    /// `st:<reg|link|help>`: a button of the welcome of a bare `/start`.
    Start(StartChoice),
    /// `inv:<a|u|p>:<cursor>:<search>`: show the page of the invoice list
    /// that starts after the cursor (`2026-01-10.4711`; empty: the first
    /// page), of the invoices the search finds (empty: all). The search is
    /// kept folded (`brasov`), so it is always ASCII and short.
    InvoicePage {
        /// All, unpaid or paid.
        filter: PaidFilter,
        /// Where the page starts; the first page when `None`.
        after: Option<Cursor>,
        /// What the list was searched for, if anything.
        search: Option<Search>,
    },
    /// `mv:<link code>`: yes, move this (linked) Telegram account to the
    /// person the code belongs to.
    MoveLink([u8; link_code::LENGTH]),
    /// `mv:no`: no, keep the link as it is.
    KeepLink,
    /// `ia:<code>` / `id:<code>`: accept or decline the invitation. The
    /// code itself, never an id: a button naming an invitation by number
    /// could be forged to join any company.
    Invitation {
        /// The invitation's code.
        code: InviteCode,
        /// Accept (`true`) or decline.
        accept: bool,
    },
    /// `ml:<company>`: the company's members (`/members`), the first page;
    /// `ml:<company>:<rank>.<user>`: the page after that member
    /// ([`MemberCursor`]).
    Members(i64, Option<MemberCursor>),
    /// A change on the `/notify` screen: `nt:<kind>` turns the kind on or
    /// off, `nt:<kind>:<days>` sets how far ahead it looks (1–30),
    /// `nt:quiet:<from>-<until>` or `nt:quiet:none` the quiet hours.
    Notify(Change),
    /// `dg:show`: the daily digest's settings (from `/notify`); `dg:on`,
    /// `dg:off`, `dg:h:<00–23>`, `dg:chart:<on|off>`: change them (see
    /// [`digest_data`]).
    Digest(Option<crate::services::notifications::digest::Change>),
    /// A step in managing one member of a company (see [`MemberStep`]).
    Member {
        /// `companies.id`.
        company: i64,
        /// `users.id` of the member.
        user: i64,
        /// What the press asks for.
        step: MemberStep,
    },
}

/// What a press on a member's buttons asks for: each change is asked and
/// then confirmed, so one stray tap changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberStep {
    /// `mm:c:u`: the member's options.
    Options,
    /// `mq:c:u:<o|a|v>`: ask to confirm the new role.
    AskRole(Role),
    /// `mr:c:u:<o|a|v>`: confirmed: give the role.
    SetRole(Role),
    /// `mx:c:u`: ask to confirm the removal.
    AskRemove,
    /// `my:c:u`: confirmed: remove.
    Remove,
}

impl MemberStep {
    fn tag(self) -> &'static str {
        match self {
            Self::Options => "mm",
            Self::AskRole(_) => "mq",
            Self::SetRole(_) => "mr",
            Self::AskRemove => "mx",
            Self::Remove => "my",
        }
    }

    /// Whether the step only reads.
    fn reads_only(self) -> bool {
        !matches!(self, Self::SetRole(_) | Self::Remove)
    }
}

fn role_letter(role: Role) -> char {
    match role {
        Role::Owner => 'o',
        Role::Accountant => 'a',
        Role::Viewer => 'v',
    }
}

fn role_of_letter(s: &str) -> Option<Role> {
    match s {
        "o" => Some(Role::Owner),
        "a" => Some(Role::Accountant),
        "v" => Some(Role::Viewer),
        _ => None,
    }
}

/// The buttons of the welcome to someone not linked yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartChoice {
    /// Create a Telegram-only account here (`/register`).
    Register,
    /// Link an existing web account (`/link`).
    Link,
    /// What the bot can do (`/help`).
    Help,
}

impl StartChoice {
    const ALL: [(Self, &'static str); 3] = [
        (Self::Register, "reg"),
        (Self::Link, "link"),
        (Self::Help, "help"),
    ];

    fn code(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(choice, _)| *choice == self)
            .map_or("help", |(_, code)| code)
    }

    fn parse(code: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, c)| *c == code)
            .map(|(choice, _)| *choice)
    }
}

impl Callback {
    /// Reads button data; `None` for anything we did not produce.
    pub fn parse(data: &str) -> Option<Self> {
        let mut parts = data.split(':');
        let callback = match parts.next()? {
            "co" => Self::SelectCompany(positive(parts.next()?, i64::MAX)?),
            "st" => Self::Start(StartChoice::parse(parts.next()?)?),
            "cu" => Self::UndoCash(positive(parts.next()?, i64::MAX)?),
            "cp" => Self::SelectPage(select_place(parts.next()?)?),
            "inv" => Self::InvoicePage {
                filter: match parts.next()? {
                    "a" => PaidFilter::All,
                    "u" => PaidFilter::Unpaid,
                    "p" => PaidFilter::Paid,
                    _ => return None,
                },
                after: match parts.next()? {
                    "" => None,
                    cursor => Some(Cursor::parse(cursor)?),
                },
                search: match parts.next()? {
                    "" => None,
                    // Only a search exactly as it is kept (folded, within its length).
                    text => Some(Search::parse(text).filter(|s| s.as_str() == text)?),
                },
            },
            "mv" => match parts.next()? {
                "no" => Self::KeepLink,
                code => Self::MoveLink(canonical_code(code)?),
            },
            tag @ ("ia" | "id") => Self::Invitation {
                code: InviteCode::parse(parts.next()?)?,
                accept: tag == "ia",
            },
            "ml" => Self::Members(
                positive(parts.next()?, i64::MAX)?,
                match parts.next() {
                    None => None,
                    Some(cursor) => Some(MemberCursor::parse(cursor)?),
                },
            ),
            "nt" => Self::Notify(notify_change(parts.next()?, parts.next())?),
            "dg" => Self::Digest(parse_digest(&mut parts)?),
            tag @ ("mm" | "mq" | "mr" | "mx" | "my") => {
                let company = positive(parts.next()?, i64::MAX)?;
                let user = positive(parts.next()?, i64::MAX)?;
                let step = match tag {
                    "mm" => MemberStep::Options,
                    "mq" => MemberStep::AskRole(role_of_letter(parts.next()?)?),
                    "mr" => MemberStep::SetRole(role_of_letter(parts.next()?)?),
                    "mx" => MemberStep::AskRemove,
                    _ => MemberStep::Remove,
                };
                Self::Member {
                    company,
                    user,
                    step,
                }
            }
            _ => return None,
        };
        parts.next().is_none().then_some(callback)
    }

    /// Whether the press only reads (see [`crate::front::bot::Spec::reads_only`]).
    pub fn reads_only(self) -> bool {
        match self {
            Self::InvoicePage { .. }
            | Self::SelectPage(_)
            | Self::Start(StartChoice::Help)
            | Self::Members(..) => true,
            Self::Member { step, .. } => step.reads_only(),
            Self::SelectCompany(_)
            | Self::Start(_)
            | Self::UndoCash(_)
            | Self::MoveLink(_)
            | Self::KeepLink
            | Self::Notify(_)
            | Self::Digest(_)
            | Self::Invitation { .. } => false,
        }
    }

    /// The button data (at most 64 bytes, Telegram's limit).
    pub fn data(self) -> String {
        match self {
            Self::SelectCompany(id) => format!("co:{id}"),
            Self::Start(choice) => format!("st:{}", choice.code()),
            Self::UndoCash(id) => format!("cu:{id}"),
            Self::SelectPage(Place::First) => "cp:f".to_owned(),
            Self::SelectPage(Place::After(id)) => format!("cp:a{id}"),
            Self::SelectPage(Place::Before(id)) => format!("cp:b{id}"),
            Self::InvoicePage {
                filter,
                after,
                search,
            } => {
                let f = match filter {
                    PaidFilter::All => 'a',
                    PaidFilter::Unpaid => 'u',
                    PaidFilter::Paid => 'p',
                };
                let after = after.map(Cursor::encode).unwrap_or_default();
                let search = search.as_ref().map_or("", Search::as_str);
                format!("inv:{f}:{after}:{search}")
            }
            Self::MoveLink(code) => format!("mv:{}", String::from_utf8_lossy(&code)),
            Self::KeepLink => "mv:no".to_owned(),
            Self::Invitation { code, accept } => {
                format!("{}:{code}", if accept { "ia" } else { "id" })
            }
            Self::Members(company, None) => format!("ml:{company}"),
            Self::Members(company, Some(after)) => format!("ml:{company}:{}", after.encode()),
            Self::Notify(Change::Toggle(kind)) => format!("nt:{}", kind.name()),
            Self::Notify(Change::Days(kind, days)) => format!("nt:{}:{days}", kind.name()),
            Self::Notify(Change::Quiet(hours)) => format!("nt:quiet:{}", hours.code()),
            Self::Digest(press) => digest_data(press),
            Self::Member {
                company,
                user,
                step,
            } => match step {
                MemberStep::AskRole(role) | MemberStep::SetRole(role) => {
                    format!("{}:{company}:{user}:{}", step.tag(), role_letter(role))
                }
                _ => format!("{}:{company}:{user}", step.tag()),
            },
        }
    }

    /// The button that moves a linked Telegram account to `code`'s person.
    pub fn move_link(code: &LinkCode) -> Self {
        let bytes = code.as_str().as_bytes().try_into();
        Self::MoveLink(bytes.expect("a code is LENGTH ASCII characters"))
    }

    /// The code of a [`Self::MoveLink`] button.
    pub fn link_code(code: [u8; link_code::LENGTH]) -> Option<LinkCode> {
        LinkCode::parse(std::str::from_utf8(&code).ok()?)
    }
}

/// The place a `cp:` button names, exactly as [`Callback::data`] writes it.
fn select_place(text: &str) -> Option<Place> {
    if text == "f" {
        return Some(Place::First);
    }
    let (tag, id) = text.split_at_checked(1)?;
    let id = positive(id, i64::MAX)?;
    match tag {
        "a" => Some(Place::After(id)),
        "b" => Some(Place::Before(id)),
        _ => None,
    }
}

/// The change a `nt:` button names: a kind alone, a look-ahead kind and its
/// days, or `quiet` and the hours.
fn notify_change(first: &str, second: Option<&str>) -> Option<Change> {
    if first == "quiet" {
        return Some(Change::Quiet(QuietHours::parse(second?)?));
    }
    let kind = Kind::parse(first)?;
    match second {
        None => Some(Change::Toggle(kind)),
        Some(days) => {
            let days = positive(days, i64::from(notifications::settings::MAX_DAYS))?;
            let days = u8::try_from(days).ok()?;
            kind.has_days().then_some(Change::Days(kind, days))
        }
    }
}

/// The daily digest's button data (`dg:`), the inverse of [`parse_digest`].
fn digest_data(press: Option<crate::services::notifications::digest::Change>) -> String {
    use crate::services::notifications::digest::Change;
    match press {
        None => "dg:show".to_owned(),
        Some(Change::On) => "dg:on".to_owned(),
        Some(Change::Off) => "dg:off".to_owned(),
        Some(Change::Hour(hour)) => format!("dg:h:{:02}", hour.get()),
        Some(Change::Chart(on)) => format!("dg:chart:{}", if on { "on" } else { "off" }),
    }
}

/// The rest of a `dg:` button, exactly as [`digest_data`] writes it
/// (`Some(None)`: show the settings).
fn parse_digest(
    parts: &mut std::str::Split<'_, char>,
) -> Option<Option<crate::services::notifications::digest::Change>> {
    use crate::services::notifications::digest::{Change, Hour};
    Some(match parts.next()? {
        "show" => None,
        "on" => Some(Change::On),
        "off" => Some(Change::Off),
        "h" => {
            let hour = parts.next()?;
            let two_digits = hour.len() == 2 && hour.bytes().all(|b| b.is_ascii_digit());
            Some(Change::Hour(Hour::new(
                two_digits.then(|| hour.parse().ok()).flatten()?,
            )?))
        }
        "chart" => Some(Change::Chart(match parts.next()? {
            "on" => true,
            "off" => false,
            _ => return None,
        })),
        _ => return None,
    })
}

/// A link code exactly as we write it (no lowercase, no dashes).
fn canonical_code(s: &str) -> Option<[u8; link_code::LENGTH]> {
    let code = LinkCode::parse(s).filter(|c| c.as_str() == s)?;
    code.as_str().as_bytes().try_into().ok()
}

/// A number from 1 to `max` in canonical decimal (no sign, no leading
/// zero), as every id is written ([`crate::blocks::id`]).
fn positive(s: &str, max: i64) -> Option<i64> {
    crate::blocks::id::parse(s).filter(|n| *n <= max)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::services::notifications::digest::{self, Hour};

    #[test]
    fn our_buttons_round_trip() {
        for callback in [
            Callback::SelectCompany(42),
            Callback::InvoicePage {
                filter: PaidFilter::Unpaid,
                after: Cursor::parse("2026-01-10.4711"),
                search: Search::parse("Brașov"),
            },
            Callback::InvoicePage {
                filter: PaidFilter::All,
                after: None,
                search: None,
            },
            Callback::move_link(&LinkCode::parse("K7TQ3MXA").unwrap()),
            Callback::KeepLink,
            Callback::Start(StartChoice::Register),
            Callback::Start(StartChoice::Link),
            Callback::Start(StartChoice::Help),
            Callback::UndoCash(7),
            Callback::SelectPage(Place::First),
            Callback::SelectPage(Place::After(7)),
            Callback::SelectPage(Place::Before(i64::MAX)),
            Callback::Notify(Change::Toggle(Kind::Overdue)),
            Callback::Notify(Change::Days(Kind::PayablesDue, 14)),
            Callback::Notify(Change::Quiet(QuietHours::NONE)),
            Callback::Notify(Change::Quiet(QuietHours::DEFAULT)),
            Callback::Digest(None),
            Callback::Digest(Some(digest::Change::On)),
            Callback::Digest(Some(digest::Change::Off)),
            Callback::Digest(Some(digest::Change::Chart(true))),
            Callback::Digest(Some(digest::Change::Chart(false))),
            Callback::Digest(Some(digest::Change::Hour(Hour::new(0).unwrap()))),
            Callback::Digest(Some(digest::Change::Hour(Hour::new(23).unwrap()))),
        ] {
            assert_eq!(Callback::parse(&callback.data()), Some(callback));
            assert!(callback.data().len() <= 64);
        }
    }

    #[test]
    fn anything_else_is_refused() {
        let cases = [
            ("", "empty"),
            ("co:", "no id"),
            ("co:abc", "not a number"),
            ("co:-1", "negative"),
            ("co:0", "zero"),
            ("co:007", "leading zero"),
            ("co:1:2", "extra part"),
            ("nt:digest_x", "unknown kind"),
            ("nt:overdue:3", "days on a kind that does not look ahead"),
            ("nt:due_soon:0", "zero days"),
            ("nt:due_soon:31", "more days than the database takes"),
            ("nt:due_soon:07", "leading zero"),
            ("nt:due_soon:3:1", "extra part"),
            ("nt:quiet", "no hours"),
            ("nt:quiet:21-08", "hours not as we write them"),
            ("co:99999999999999999999", "overflow"),
            ("inv:x::", "unknown filter"),
            (
                "inv:a:2",
                "a page number, as buttons before keyset pages had",
            ),
            ("inv:u", "no cursor"),
            ("inv:u:", "no search part"),
            ("inv:u:2026-01-10:", "a cursor without id"),
            ("inv:u:2026-02-30.4:", "a day not in the calendar"),
            ("inv:u:2026-01-10.04:", "a cursor not as we write it"),
            ("inv:u:2026-01-10.0:", "id zero"),
            ("inv:u::Brasov", "a search not folded"),
            ("inv:u::bra sov", "a space in the search"),
            (
                "inv:u::abcdefghijklmnopqrstuvwxyz",
                "a search past its length",
            ),
            ("inv:u:::", "extra part"),
            ("other:1", "unknown kind"),
            ("mv:k7tq3mxa", "a code not as we write it"),
            ("mv:K7TQ-3MXA", "a dashed code"),
            ("mv:K7TQ3MX0", "not a code"),
            ("mv:K7TQ3MXA:1", "extra part"),
            ("mv:", "no code"),
            ("st:", "no choice"),
            ("cu:0", "entry zero"),
            ("cp:2", "a page number of the previous build"),
            ("cp:a0", "company zero"),
            ("cp:a07", "a leading zero"),
            ("cp:c7", "no such direction"),
            ("cp:f7", "the first page names no company"),
            ("cp:", "no place"),
            ("cp:a", "no company"),
            ("cu:-5", "negative entry"),
            ("cu:5:5", "extra part"),
            ("st:admin", "unknown choice"),
            ("st:reg:1", "extra part"),
            ("st:REG", "another case"),
            ("ia:", "no code"),
            ("ia:K7TQ3MXA", "a link code is no invitation code"),
            ("mq:1:2", "no role"),
            ("mq:1:2:x", "unknown role"),
            ("mm:1", "no member"),
            ("mm:1:0", "member zero"),
            ("my:1:2:o", "extra part"),
            ("ml:-1", "negative company"),
            ("ml:1:3.5", "no such rank"),
            ("ml:1:0.05", "a leading zero"),
            ("ml:1:0.5:1", "extra part"),
            ("dg:", "no digest action"),
            ("dg:show:1", "extra part"),
            ("dg:h:24", "no such hour"),
            ("dg:h:7", "an hour not as we write it"),
            ("dg:h:+7", "a signed hour"),
            ("dg:h:007", "three digits"),
            ("dg:h", "no hour"),
            ("dg:h:07:1", "extra part"),
            ("dg:chart", "no chart choice"),
            ("dg:chart:yes", "unknown chart choice"),
            ("dg:ON", "another case"),
        ];
        for (data, why) in cases {
            assert_eq!(Callback::parse(data), None, "{why}: {data:?}");
        }
    }

    fn any_callback() -> impl Strategy<Value = Callback> {
        let filter = prop_oneof![
            Just(PaidFilter::All),
            Just(PaidFilter::Unpaid),
            Just(PaidFilter::Paid)
        ];
        let id = || prop_oneof![Just(1), Just(i64::MAX), 1..=i64::MAX];
        let role = || {
            prop_oneof![
                Just(Role::Owner),
                Just(Role::Accountant),
                Just(Role::Viewer)
            ]
        };
        let step = prop_oneof![
            Just(MemberStep::Options),
            role().prop_map(MemberStep::AskRole),
            role().prop_map(MemberStep::SetRole),
            Just(MemberStep::AskRemove),
            Just(MemberStep::Remove),
        ];
        prop_oneof![
            // The extremes are where the 64-byte limit would bite.
            id().prop_map(Callback::SelectCompany),
            any::<bool>().prop_map(|accept| Callback::Invitation {
                code: InviteCode::generate(),
                accept,
            }),
            (id(), proptest::option::of((0..=2_i32, id()))).prop_map(|(company, after)| {
                Callback::Members(
                    company,
                    after.and_then(|(rank, user)| MemberCursor::parse(&format!("{rank}.{user}"))),
                )
            }),
            (id(), id(), step).prop_map(|(company, user, step)| Callback::Member {
                company,
                user,
                step,
            }),
            id().prop_map(Callback::UndoCash),
            prop_oneof![
                Just(Place::First),
                id().prop_map(Place::After),
                id().prop_map(Place::Before)
            ]
            .prop_map(Callback::SelectPage),
            (
                filter,
                proptest::option::of((1000..=9999_i32, 1..=365_u16, id())),
                proptest::option::of("[a-z0-9]{1,24}"),
            )
                .prop_map(|(filter, after, search)| Callback::InvoicePage {
                    filter,
                    after: after.map(|(year, day, id)| Cursor {
                        date: time::Date::from_ordinal_date(year, day).expect("a day of the year"),
                        id,
                    }),
                    search: search.as_deref().and_then(Search::parse),
                }),
            proptest::sample::select(StartChoice::ALL.map(|(c, _)| c).to_vec())
                .prop_map(Callback::Start),
            prop_oneof![
                Just(None),
                Just(Some(digest::Change::On)),
                Just(Some(digest::Change::Off)),
                any::<bool>().prop_map(|on| Some(digest::Change::Chart(on))),
                (0..24_u8).prop_map(|h| Hour::new(h).map(digest::Change::Hour)),
            ]
            .prop_map(Callback::Digest),
        ]
    }

    proptest! {
        #[test]
        fn every_button_fits_telegrams_64_bytes_and_parses_back(callback in any_callback()) {
            let data = callback.data();
            prop_assert!(data.len() <= 64, "{} is {} bytes", data, data.len());
            prop_assert_eq!(Callback::parse(&data), Some(callback));
        }

        #[test]
        fn arbitrary_data_never_panics_and_only_our_own_encoding_is_accepted(
            data in prop_oneof![
                "\\PC{0,80}",
                "(co|inv|st|cu|cp|x|ml|mm|mq|mr|mx|my)(:[aupov0-9+\\- ]{0,22}){0,4}",
                "inv:[aupx]:([0-9]{4}-[0-9]{2}-[0-9]{2}\\.[0-9]{1,4})?:[a-zA-Z0-9 ]{0,26}",
                "st:(reg|link|help|x)(:.{0,3})?",
                "dg(:(show|on|off|h|chart|x|[0-9+\\-]{0,3})){0,3}",
            ],
        ) {
            // Strict parsing: whatever is accepted is exactly what we would have produced.
            if let Some(callback) = Callback::parse(&data) {
                prop_assert_eq!(callback.data(), data);
            }
        }
    }
}
