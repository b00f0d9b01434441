-- ledgerbot's whole data model: the single source of truth.
--
-- `ledgerbot migrate` runs this file under an advisory lock, so it must stay
-- idempotent: every statement is `IF NOT EXISTS` (or `OR REPLACE`), and a change
-- to an existing table is an `ALTER TABLE ... ADD COLUMN IF NOT EXISTS` placed
-- after it. `ledgerbot migrate` records the SHA-256 of this file in
-- `schema_version`, so the version needs no hand-kept number.
--
-- Money is integer minor units (bani, cents) in `bigint` columns named `*_minor`;
-- never a float. Telegram ids are `bigint`: user ids exceed 2^31.

CREATE TABLE IF NOT EXISTS schema_version (
    checksum   text        PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- webhook intake

-- One row per Telegram update applied. Claimed in the same transaction as the
-- update's effects, so a retried update is never applied twice and an update
-- whose transaction failed is not marked as done. `response` is the Bot API
-- method we answered with, replayed verbatim if Telegram retries after losing
-- our answer.
CREATE TABLE IF NOT EXISTS telegram_updates (
    update_id   bigint      PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    response    text
);
CREATE INDEX IF NOT EXISTS telegram_updates_received_at ON telegram_updates (received_at);

-- ---------------------------------------------------------------- accounts

-- The one normalisation of an email in SQL, the same as Rust's
-- `services::accounts::email::normalize`: trimmed of Unicode whitespace (the
-- characters Rust's `char::is_whitespace` takes) and lowercased with Unicode's
-- full mapping (ICU's root locale, as Rust's `to_lowercase`: `ẞ` → `ß`,
-- final sigma). tests/api/auth.rs proves the two agree on tricky inputs.
-- Every statement that stores or looks up an email applies it, and
-- `users_email_normalized` holds every stored email to it.
CREATE OR REPLACE FUNCTION normalized_email(_email text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT lower(btrim(_email, E'\t\n\u000b\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000')
                 COLLATE "und-x-icu")
$$;

CREATE TABLE IF NOT EXISTS users (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- normalized_email(); NULL for a Telegram-only account made by /register
    email         text        UNIQUE,
    -- argon2id PHC string; NULL for a Telegram-only account
    password_hash text,
    first_name    text,
    -- set by /language; NULL means "follow Telegram's language_code"
    language      text        CHECK (language IN ('ro', 'en')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint
                   WHERE conrelid = 'users'::regclass AND conname = 'users_email_normalized') THEN
        -- NOT VALID: rows stored before are not re-read under the upgrade's
        -- lock (they were normalised by the same Rust function); every new
        -- or changed row is checked.
        ALTER TABLE users ADD CONSTRAINT users_email_normalized
            CHECK (email = normalized_email(email)) NOT VALID;
    END IF;
END
$$;

-- A Telegram user linked to a person: one to one in both directions.
CREATE TABLE IF NOT EXISTS telegram_accounts (
    telegram_user_id  bigint      PRIMARY KEY,
    user_id           bigint      NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    chat_id           bigint      NOT NULL,
    username          text,
    first_name        text,
    linked_at         timestamptz NOT NULL DEFAULT now()
);

-- Opaque refresh tokens, stored as SHA-256. Each login starts a family; every
-- refresh rotates within it. Presenting a token already used revokes the family.
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  uuid        NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- Web page sessions (`/login`, `/register`): the browser holds a random id in
-- an HttpOnly cookie; only its SHA-256 is stored. `csrf_token` is the token
-- every POST form of the session must carry. Seven days; deleted on logout.
CREATE TABLE IF NOT EXISTS web_sessions (
    id_hash    bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token text        NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS web_sessions_user ON web_sessions (user_id);
CREATE INDEX IF NOT EXISTS web_sessions_expires_at ON web_sessions (expires_at);

-- One-time link codes, stored as SHA-256 (the code itself is never stored).
-- `link`: asked for by a person on the web or API (`user_id`), typed or
-- scanned into the bot. `confirm`: asked for by a Telegram user with /link
-- (`telegram_user_id`, `chat_id`, ...), confirmed by a person logged in on
-- the web or API. Single use (`used_at`), 15 minutes (`expires_at`); used and
-- expired rows stay a day so the answer can say "used" or "expired" rather
-- than "unknown". At most one unused code per person and per Telegram user:
-- a new one replaces the previous (upsert on the partial unique indexes).
CREATE TABLE IF NOT EXISTS link_codes (
    code_hash        bytea       PRIMARY KEY,
    purpose          text        NOT NULL CHECK (purpose IN ('link', 'confirm')),
    user_id          bigint      REFERENCES users (id) ON DELETE CASCADE,
    telegram_user_id bigint,
    chat_id          bigint,
    username         text,
    first_name       text,
    -- the Telegram user's language when it asked, for the confirmation message
    language         text        CHECK (language IN ('ro', 'en')),
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (purpose <> 'link' OR user_id IS NOT NULL),
    CHECK (purpose <> 'confirm' OR (telegram_user_id IS NOT NULL AND chat_id IS NOT NULL))
);
CREATE UNIQUE INDEX IF NOT EXISTS link_codes_one_open_per_user
    ON link_codes (user_id) WHERE purpose = 'link' AND used_at IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS link_codes_one_open_per_telegram_user
    ON link_codes (telegram_user_id) WHERE purpose = 'confirm' AND used_at IS NULL;
CREATE INDEX IF NOT EXISTS link_codes_expires_at ON link_codes (expires_at);

-- Fixed-window counters shared by every instance: attempts per (action, key),
-- such as ('login', client IP) or ('bot_code_failure', Telegram user id).
-- One upsert counts an attempt and starts a new window when the old one is over.
CREATE TABLE IF NOT EXISTS rate_limits (
    action       text        NOT NULL,
    key          text        NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL,
    PRIMARY KEY (action, key)
);
CREATE INDEX IF NOT EXISTS rate_limits_window_start ON rate_limits (window_start);

-- Wrong passwords per account, whatever the client address: `key_hash` is
-- SHA-256 of the normalised email typed (an unknown email is counted the same,
-- so the lock tells nothing about who is registered). Past a few failures each
-- one locks the key for a doubling time (services::rate_limit::Backoff); a
-- right password deletes the row; housekeeping deletes rows a day after their
-- last failure.
CREATE TABLE IF NOT EXISTS login_failures (
    key_hash        bytea       PRIMARY KEY,
    failures        integer     NOT NULL,
    last_failure_at timestamptz NOT NULL,
    locked_until    timestamptz
);
CREATE INDEX IF NOT EXISTS login_failures_last_failure_at ON login_failures (last_failure_at);

-- Telegram-signed payloads (Login Widget data, Mini App initData) already
-- accepted: each is accepted once. `replay_key` is SHA-256 of the payload's
-- kind and MAC (blocks::telegram_auth); the row is kept until the payload
-- would be refused as stale anyway, then housekeeping deletes it.
CREATE TABLE IF NOT EXISTS telegram_auth_seen (
    replay_key bytea       PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS telegram_auth_seen_expires_at ON telegram_auth_seen (expires_at);

-- One-time links to choose a password on the web ("Forgot password", sent to
-- the linked Telegram chat; the bot's /password), stored as SHA-256. Single
-- use, 15 minutes; one unused per person (a new one replaces it).
CREATE TABLE IF NOT EXISTS password_tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS password_tokens_user ON password_tokens (user_id);
CREATE INDEX IF NOT EXISTS password_tokens_expires_at ON password_tokens (expires_at);

-- ---------------------------------------------------------------- company finances

CREATE TABLE IF NOT EXISTS companies (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- Romanian fiscal code, digits only, check digit verified by the API
    cui        text,
    currency   text        NOT NULL DEFAULT 'RON' CHECK (currency ~ '^[A-Z]{3}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS company_members (
    company_id bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text        NOT NULL CHECK (role IN ('owner', 'accountant', 'viewer')),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, user_id)
);
-- A person's companies and a company's members are keyset pages read from
-- one index each (src/services/finance/companies.rs, issue 18 item 3): a
-- page costs its own rows however many companies a person belongs to or
-- members a company has. A person's companies are in name order, and the
-- name lives in `companies`: its sort key is copied into the membership row
-- (kept by the triggers below), so that one range of
-- company_members_user_name is a page. It replaces the plain (user_id)
-- index, which it begins with.
ALTER TABLE company_members ADD COLUMN IF NOT EXISTS company_name_key text;
CREATE OR REPLACE FUNCTION company_members_name_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.company_name_key := (SELECT lower(c.name) FROM companies c WHERE c.id = NEW.company_id);
    RETURN NEW;
END
$$;
CREATE OR REPLACE FUNCTION companies_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE company_members SET company_name_key = lower(NEW.name) WHERE company_id = NEW.id;
    RETURN NULL;
END
$$;
-- Created once: a migration that finds them leaves the tables unlocked.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = 'company_members'::regclass
                                            AND tgname = 'company_members_name_key') THEN
        CREATE TRIGGER company_members_name_key
            BEFORE INSERT OR UPDATE OF company_id ON company_members
            FOR EACH ROW EXECUTE FUNCTION company_members_name_key();
    END IF;
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = 'companies'::regclass
                                            AND tgname = 'companies_renamed') THEN
        CREATE TRIGGER companies_renamed AFTER UPDATE OF name ON companies
            FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
            EXECUTE FUNCTION companies_renamed();
    END IF;
END
$$;
-- Rows written before the column existed (after that, nothing to do).
UPDATE company_members m SET company_name_key = lower(c.name)
FROM companies c
WHERE c.id = m.company_id AND m.company_name_key IS DISTINCT FROM lower(c.name);
CREATE INDEX IF NOT EXISTS company_members_user_name
    ON company_members (user_id, company_name_key, company_id);
DROP INDEX IF EXISTS company_members_user;
-- Members: owners, then accountants, then viewers (company_member_rank),
-- then by account number.
CREATE OR REPLACE FUNCTION company_member_rank(_role text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE _role WHEN 'owner' THEN 0 WHEN 'accountant' THEN 1 ELSE 2 END
$$;
CREATE INDEX IF NOT EXISTS company_members_company_rank
    ON company_members (company_id, company_member_rank(role), user_id);

-- The company a Telegram account works on; chosen with /selectcompany.
ALTER TABLE telegram_accounts
    ADD COLUMN IF NOT EXISTS active_company_id bigint REFERENCES companies (id) ON DELETE SET NULL;
CREATE INDEX IF NOT EXISTS telegram_accounts_active_company ON telegram_accounts (active_company_id);

-- The key that tells one partner from another on received invoices: the
-- partner's CUI (digits) when the invoice carries one, else its name folded to
-- lowercase ASCII letters and digits (Romanian diacritics in either spelling
-- folded to their letters, everything else dropped), so that "ACME S.R.L."
-- and "Acme SRL" are one supplier. Issued invoices all have the key '': the
-- company itself numbers them, so their number alone identifies them.
-- `services::finance::invoices::partner_key` is the same function in Rust (a
-- test holds the two together). IMMUTABLE, and with its collation spelled
-- out, because a stored generated column uses it: changing its body would
-- leave the stored keys stale (give a new function a new name instead).
CREATE OR REPLACE FUNCTION invoice_partner_key(_direction text, _partner_cui text, _partner text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN _direction = 'issued' THEN ''
        WHEN _partner_cui IS NOT NULL THEN _partner_cui
        ELSE 'name:' || regexp_replace(
            lower(translate(_partner, 'ĂÂÎȘŞȚŢăâîșşțţ', 'AAISSTTaaisstt') COLLATE "C"),
            '[^a-z0-9]+', '', 'g')
    END
$$;

-- Invoices pushed by an ERP or imported from e-Factura: issued (to
-- customers, receivables) and received (from suppliers, payables). An issued
-- invoice is identified by its number (series included) within the company;
-- a received one by its supplier (`partner_key`, above) and number, since two
-- suppliers may both send an invoice "1". A re-push with the same key updates
-- it in place. Totals are negative on storno invoices and credit notes;
-- `paid` above the total is an overpayment, a credit to the partner; `paid`
-- has the total's sign (or is 0).
CREATE TABLE IF NOT EXISTS invoices (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id  bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    direction   text        NOT NULL CHECK (direction IN ('issued', 'received')),
    number      text        NOT NULL CHECK (length(number) BETWEEN 1 AND 100),
    partner     text        NOT NULL CHECK (length(partner) BETWEEN 1 AND 300),
    -- the partner's CUI, digits only (validate::Cui), when known
    partner_cui text        CONSTRAINT invoices_partner_cui_digits CHECK (partner_cui ~ '^[1-9][0-9]{1,9}$'),
    partner_key text        NOT NULL GENERATED ALWAYS AS (invoice_partner_key(direction, partner_cui, partner)) STORED,
    issue_date  date        NOT NULL,
    due_date    date        NOT NULL,
    total_minor bigint      NOT NULL,
    paid_minor  bigint      NOT NULL,
    currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- when the row was first written (NULL: before this column existed); an
    -- update leaves it. The `imported` notification announces the received
    -- invoices written in the last day (src/services/notifications/imported.rs).
    created_at  timestamptz DEFAULT now(),
    CHECK (due_date >= issue_date),
    CONSTRAINT invoices_paid_sign CHECK ((paid_minor >= 0 AND total_minor >= 0) OR (paid_minor <= 0 AND total_minor <= 0))
);
-- The upgrade from the first model (commit 31037b2: unique by direction and
-- number, no negative totals, paid at most the total), in the order that
-- keeps every step safe to repeat: new columns (the generated key is computed
-- for every existing row), the new identity beside the old one, then the old
-- constraints go. docs/schema-upgrades.md says what instances of the previous
-- build can still do meanwhile.
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS partner_cui text
    CONSTRAINT invoices_partner_cui_digits CHECK (partner_cui ~ '^[1-9][0-9]{1,9}$');
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS partner_key text NOT NULL
    GENERATED ALWAYS AS (invoice_partner_key(direction, partner_cui, partner)) STORED;
CREATE UNIQUE INDEX IF NOT EXISTS invoices_identity
    ON invoices (company_id, direction, partner_key, number);
ALTER TABLE invoices DROP CONSTRAINT IF EXISTS invoices_company_id_direction_number_key;
ALTER TABLE invoices DROP CONSTRAINT IF EXISTS invoices_total_minor_check;
ALTER TABLE invoices DROP CONSTRAINT IF EXISTS invoices_check1;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint
                   WHERE conrelid = 'invoices'::regclass AND conname = 'invoices_paid_sign') THEN
        ALTER TABLE invoices ADD CONSTRAINT invoices_paid_sign
            CHECK ((paid_minor >= 0 AND total_minor >= 0) OR (paid_minor <= 0 AND total_minor <= 0));
    END IF;
END
$$;
CREATE INDEX IF NOT EXISTS invoices_company_due ON invoices (company_id, due_date);
-- Added without a default first, so existing rows stay NULL (not "created at
-- the upgrade", which would announce every old invoice as new), then the
-- default for the rows written from now on.
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS created_at timestamptz;
ALTER TABLE invoices ALTER COLUMN created_at SET DEFAULT now();
-- The `imported` notification's look at a company's newly written received
-- invoices (old rows, NULL, are not in it).
CREATE INDEX IF NOT EXISTS invoices_received_created ON invoices (company_id, created_at)
    WHERE direction = 'received' AND created_at IS NOT NULL;
-- The dashboard's totals per direction and currency (src/finance/dashboard.rs)
-- from the index alone: a company's invoices arrive over years, interleaved
-- with every other company's, so reading them from the table touches a page
-- per invoice. Index-only scans rely on the visibility map, which autovacuum
-- keeps current.
CREATE INDEX IF NOT EXISTS invoices_company_totals
    ON invoices (company_id, direction, currency) INCLUDE (total_minor, paid_minor, due_date);
-- The invoice list's keyset pages (src/services/finance/invoices.rs,
-- `list_after`): a page is a range read from one of these per direction
-- (and per paid state) listed, whatever the company's size, however deep
-- the page and however rare the direction or state asked for: no OFFSET
-- walking past earlier pages, no count of them all, no rows of the other
-- direction or state read and thrown away. Newest first, by whether the
-- invoice is settled (`paid >= total`, the "paid" filter); the unpaid ones
-- most urgent first.
CREATE INDEX IF NOT EXISTS invoices_company_settled_newest
    ON invoices (company_id, direction, (paid_minor >= total_minor), issue_date DESC, id DESC);
CREATE INDEX IF NOT EXISTS invoices_company_direction_unpaid_due
    ON invoices (company_id, direction, due_date, id) WHERE paid_minor < total_minor;
-- They replace the previous build's (company_id, issue_date DESC, id DESC)
-- and its unpaid twin, which read both directions and states in one range,
-- filtering: kept beside these, the planner could still choose them, and a
-- rare direction would then read the other's rows (docs/schema-upgrades.md).
DROP INDEX IF EXISTS invoices_company_newest;
DROP INDEX IF EXISTS invoices_company_unpaid_due;
-- A partner's name on the partners' list (src/services/finance/partners.rs)
-- is the one its newest open invoice (something left to pay, or owed back)
-- writes: the first entry of this index under the partner, for each partner
-- of a page. A partner is its CUI, else its folded name, in both directions
-- (the 'received' form of invoice_partner_key). The figures themselves are
-- kept (partner_totals, below).
DO $$
BEGIN
    -- The previous build's, in partner order only: replaced, once.
    IF EXISTS (SELECT FROM pg_indexes WHERE indexname = 'invoices_company_open_partners'
                                        AND indexdef NOT LIKE '%issue_date DESC%') THEN
        DROP INDEX invoices_company_open_partners;
    END IF;
END
$$;
CREATE INDEX IF NOT EXISTS invoices_company_open_partners
    ON invoices (company_id, direction, invoice_partner_key('received', partner_cui, partner), currency,
                 issue_date DESC, id DESC)
    INCLUDE (partner)
    WHERE paid_minor <> total_minor;
-- Invoice search (`?q=`, `/facturi <text>`; src/services/finance/invoices.rs,
-- `list_after`): the text a search is compared with, folded as partners'
-- names are (lowercase ASCII letters and digits), the name and the number
-- apart (a search holds no space, so it never spans the two). A search that
-- does not fill a page from a few hundred rows of the list's ranges is rare
-- in the company, and reads its matches from the trigram index here
-- instead: the company's matching invoices, never all of them. pg_trgm and
-- btree_gin (for the company and the CUI in the same index) are contrib
-- modules, in Debian's postgresql-15 and on every managed PostgreSQL we know
-- of (fly, RDS, Cloud SQL, Azure); both are "trusted", so the database's
-- owner may create them (docs/operations.md).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE OR REPLACE FUNCTION invoice_search_text(_partner text, _number text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT substr(invoice_partner_key('received', NULL, _partner), 6) || ' '
        || substr(invoice_partner_key('received', NULL, _number), 6)
$$;
CREATE INDEX IF NOT EXISTS invoices_company_search ON invoices
    USING gin (company_id, invoice_search_text(partner, number) gin_trgm_ops, partner_cui);
-- Whether an invoice matches a search (folded, `Search::as_str`) or the CUI
-- it names (NULL, not false, when it names none: test it `IS TRUE` outside a
-- WHERE). Inlined where it is called, so `invoices_company_search` serves it
-- as if written there.
CREATE OR REPLACE FUNCTION invoice_search_hit(_partner text, _number text, _partner_cui text,
                                              _search text, _cui text)
RETURNS bool LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT invoice_search_text(_partner, _number) LIKE '%' || _search || '%'
        OR _partner_cui = _cui
$$;
-- One range of the invoice list's page (`list_after`): the company's
-- invoices of one direction after the cursor, the unpaid ones by due date
-- (`invoices_company_direction_unpaid_due`), else those of one paid state
-- newest first (`invoices_company_settled_newest`), read in that order, at
-- most 500 of them (`SEARCH_SCAN`), stopping at the `_fetch`-th that matches
-- the search (all do without one). The 500th row read comes too, marked
-- `cut`, matching or not: the range stopped there. The cap is written as a
-- number, not passed: the planner then knows the range is short and reads
-- it in order from its index in the generic plan too (a LIMIT parameter is
-- guessed at a tenth of the range, which it would rather sort). Inlined
-- into the caller (one SELECT, LANGUAGE sql, STABLE, not STRICT), so the
-- plan is the caller's: the branch `_unpaid` rules out is skipped at run
-- time (a One-Time Filter), and the last LIMIT takes the rows as the other
-- yields them, in its index's order (an ORDER BY there would sort, reading
-- the 500 rows first; the caller merges the ranges in the list's order).
CREATE OR REPLACE FUNCTION invoice_list_range(
    _company bigint, _direction text, _unpaid bool, _settled bool,
    _after_date date, _after_id bigint, _search text, _cui text, _fetch bigint)
RETURNS TABLE (id bigint, number text, direction text, partner text, partner_cui text,
               issue_date date, due_date date, total_minor bigint, paid_minor bigint,
               currency text, hit bool, cut bool)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT w.id, w.number, w.direction, w.partner, w.partner_cui, w.issue_date, w.due_date,
           w.total_minor, w.paid_minor, w.currency, w.hit, w.n = 500
    FROM (
        SELECT s.*, _search IS NULL
                    OR invoice_search_hit(s.partner, s.number, s.partner_cui, _search, _cui) IS TRUE
                    AS hit
        FROM (
            (SELECT u.*, row_number() OVER (ORDER BY u.due_date, u.id) AS n
             FROM (SELECT i.id, i.number, i.direction, i.partner, i.partner_cui, i.issue_date,
                          i.due_date, i.total_minor, i.paid_minor, i.currency
                   FROM invoices i
                   WHERE _unpaid AND i.company_id = _company AND i.direction = _direction
                     AND i.paid_minor < i.total_minor
                     AND (i.due_date, i.id) > (_after_date, _after_id)
                   ORDER BY i.due_date, i.id
                   LIMIT 500) u)
            UNION ALL
            (SELECT u.*, row_number() OVER (ORDER BY u.issue_date DESC, u.id DESC) AS n
             FROM (SELECT i.id, i.number, i.direction, i.partner, i.partner_cui, i.issue_date,
                          i.due_date, i.total_minor, i.paid_minor, i.currency
                   FROM invoices i
                   WHERE NOT _unpaid AND i.company_id = _company AND i.direction = _direction
                     AND (i.paid_minor >= i.total_minor) = _settled
                     AND (i.issue_date, i.id) < (_after_date, _after_id)
                   ORDER BY i.issue_date DESC, i.id DESC
                   LIMIT 500) u)
        ) s
    ) w
    WHERE w.hit OR w.n = 500
    LIMIT _fetch
$$;

-- Bank and cash accounts with their balance as the ERP last reported it.
CREATE TABLE IF NOT EXISTS treasury_accounts (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id    bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind          text        NOT NULL CHECK (kind IN ('bank', 'cash')),
    -- electronic form, checked by the API (validate::Iban)
    iban          text,
    currency      text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    balance_minor bigint      NOT NULL,
    as_of         date,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, name)
);

-- Cash income (+) and expenses (-) recorded with /add. `telegram_update_id`
-- is UNIQUE: the same Telegram update can never record two entries, even if
-- its claim in telegram_updates were lost.
CREATE TABLE IF NOT EXISTS cash_entries (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id         bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    amount_minor       bigint      NOT NULL CHECK (amount_minor <> 0),
    currency           text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    note               text        NOT NULL CHECK (length(note) BETWEEN 1 AND 200),
    entry_date         date        NOT NULL,
    created_by         bigint      REFERENCES users (id) ON DELETE SET NULL,
    telegram_update_id bigint      UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now()
);
-- A company's entries by day, and within a day in the order recorded: the
-- charts' months (a range of days) and `/cash`'s latest entries (read
-- backwards, the latest day's last entry first, no sort). It replaces the
-- index on (company_id, entry_date) alone, which it serves for.
CREATE INDEX IF NOT EXISTS cash_entries_company_date_id ON cash_entries (company_id, entry_date, id);
DROP INDEX IF EXISTS cash_entries_company_date;
-- GET .../cash-entries pages a company's entries in the order recorded (by id).
CREATE INDEX IF NOT EXISTS cash_entries_company_id ON cash_entries (company_id, id);

-- Group chats an owner bound to a company on purpose (/group): in a group,
-- the finance commands answer only when it is bound, and only about its
-- company, to members of it. Unbound, they refuse: one member's figures are
-- never posted to everyone in a group by accident.
CREATE TABLE IF NOT EXISTS group_chats (
    chat_id    bigint      PRIMARY KEY,
    company_id bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    bound_by   bigint      REFERENCES users (id) ON DELETE SET NULL,
    bound_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS group_chats_company ON group_chats (company_id);

-- Set when Telegram answers 403 (the person blocked the bot): nothing more is
-- sent to the chat until the person writes to the bot again.
ALTER TABLE telegram_accounts ADD COLUMN IF NOT EXISTS blocked_at timestamptz;

-- Invitations to a company, made by an owner (`/invite`, the API) and
-- accepted by whoever opens the link (the bot's `/start inv_<code>`, the
-- `/invite/{code}` page). The code is 32 random bytes; only its SHA-256 is
-- stored. One use (`used_at`), seven days (`expires_at`), revocable
-- (`revoked_at`, also set when the invitee declines). Spent rows stay a day
-- past their expiry, so a late visitor is told "used" or "expired", not
-- "unknown". `language`: the inviter's, for telling them of the answer.
CREATE TABLE IF NOT EXISTS invitations (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code_hash  bytea       NOT NULL UNIQUE,
    company_id bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    role       text        NOT NULL CHECK (role IN ('owner', 'accountant', 'viewer')),
    invited_by bigint      REFERENCES users (id) ON DELETE SET NULL,
    language   text        CHECK (language IN ('ro', 'en')),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    used_by    bigint      REFERENCES users (id) ON DELETE SET NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS invitations_company ON invitations (company_id);
CREATE INDEX IF NOT EXISTS invitations_expires_at ON invitations (expires_at);

-- ---------------------------------------------------------------- the outbox

-- Every message the bot sends that is not the webhook's answer, written in
-- the transaction of the change that caused it and sent by whichever
-- instance takes it (src/infra/outbox.rs). `method` is the Bot API call in
-- its webhook-reply JSON form; a photo's PNG is in `photo`. A row goes
-- pending -> sending (committed before the call) -> sent, or back to pending
-- with a later `not_before` (5xx, unreachable, 429), or ends blocked (403,
-- or the chat had blocked the bot), failed (refused, or out of attempts),
-- expired (a button's answer past its use) or uncertain (the call broke off,
-- or the sender died mid-call: it may have arrived, and is never sent again).
-- Once done, the text and image are wiped (they may carry a code), and
-- housekeeping deletes the row after a week.
CREATE TABLE IF NOT EXISTS outbox (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id    bigint,
    method     jsonb       NOT NULL,
    photo      bytea,
    photo_name text,
    state      text        NOT NULL DEFAULT 'pending' CHECK (state IN
                   ('pending', 'sending', 'sent', 'blocked', 'failed', 'expired', 'uncertain')),
    attempts   integer     NOT NULL DEFAULT 0,
    not_before timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    taken_at   timestamptz,
    done_at    timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS outbox_open ON outbox (id) WHERE state IN ('pending', 'sending');
CREATE INDEX IF NOT EXISTS outbox_open_chat ON outbox (chat_id, id) WHERE state IN ('pending', 'sending');
CREATE INDEX IF NOT EXISTS outbox_done_at ON outbox (done_at) WHERE done_at IS NOT NULL;

-- The one gate every sender passes, across instances: the earliest moment
-- the next message may go (Telegram's messages per second in all), and a
-- pause a 429's `retry_after` set for everyone.
CREATE TABLE IF NOT EXISTS outbox_gate (
    id           boolean     PRIMARY KEY DEFAULT true CHECK (id),
    next_at      timestamptz NOT NULL DEFAULT 'epoch',
    paused_until timestamptz NOT NULL DEFAULT 'epoch'
);
INSERT INTO outbox_gate (id) VALUES (true) ON CONFLICT DO NOTHING;

-- Per chat, the earliest moment its next message may go (one a second in a
-- private chat, 20 a minute in a group).
CREATE TABLE IF NOT EXISTS outbox_chats (
    chat_id bigint      PRIMARY KEY,
    next_at timestamptz NOT NULL
);

-- ---------------------------------------------------------------- notifications

-- What each person asked to be told on their own (/notificari), a row per
-- kind turned on (src/services/notifications/: `Kind` is the table of kinds).
-- `days`: how far ahead `due_soon` and `payables_due` look.
CREATE TABLE IF NOT EXISTS notification_settings (
    user_id bigint  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    text    NOT NULL,
    days    integer NOT NULL DEFAULT 3 CHECK (days BETWEEN 1 AND 30),
    PRIMARY KEY (user_id, kind)
);
-- The kinds there are: replaced whole on every migrate, so that a new kind is
-- one edit here (the first schema had it unnamed, inline).
ALTER TABLE notification_settings DROP CONSTRAINT IF EXISTS notification_settings_kind_check;
ALTER TABLE notification_settings DROP CONSTRAINT IF EXISTS notification_settings_kind;
ALTER TABLE notification_settings ADD CONSTRAINT notification_settings_kind
    CHECK (kind IN ('due_soon', 'payables_due', 'overdue', 'imported', 'balance_low'));

-- A person's quiet hours (Bucharest), when no alert goes: from `quiet_from`
-- o'clock to `quiet_until` o'clock, across midnight when from > until; both
-- NULL: none. No row: the default, 21 to 8.
CREATE TABLE IF NOT EXISTS notification_quiet (
    user_id     bigint   PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    quiet_from  smallint CHECK (quiet_from BETWEEN 0 AND 23),
    quiet_until smallint CHECK (quiet_until BETWEEN 0 AND 23),
    CONSTRAINT notification_quiet_both CHECK ((quiet_from IS NULL) = (quiet_until IS NULL)
                                              AND (quiet_from IS NULL OR quiet_from <> quiet_until))
);

-- `balance_low`: per person and currency, the balance under which a bank or
-- cash account of their active company in that currency is announced (no
-- exchange rates: an account in another currency is not compared).
CREATE TABLE IF NOT EXISTS notification_thresholds (
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    currency     text   NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor bigint NOT NULL,
    PRIMARY KEY (user_id, currency)
);

-- One row per subject of an alert sent: at most one per person, kind,
-- subject (`company:<id>` for the invoice alerts, `invoice:<id>` for an
-- imported one, `account:<id>` for a low balance) and day (Europe/
-- Bucharest), whatever the instances and restarts, because the rows and the
-- outbox message commit together.
CREATE TABLE IF NOT EXISTS notifications_sent (
    user_id bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    text        NOT NULL,
    subject text        NOT NULL,
    day     date        NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, kind, subject, day)
);
CREATE INDEX IF NOT EXISTS notifications_sent_day ON notifications_sent (day);

-- The daily digest (src/services/notifications/digest.rs), set from
-- /notificari: whether it is on, the hour (Europe/Bucharest) from which the
-- day's digest goes, and whether a chart follows it. A row is made on the
-- first change and kept when the digest is turned off, with its hour. Sent
-- digests are rows of notifications_sent (kind `digest`, `digest_chart`).
CREATE TABLE IF NOT EXISTS digest_settings (
    user_id bigint   PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    enabled boolean  NOT NULL DEFAULT false,
    hour    smallint NOT NULL DEFAULT 8 CHECK (hour BETWEEN 0 AND 23),
    chart   boolean  NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS digest_settings_on ON digest_settings (hour) WHERE enabled;

-- ---------------------------------------------------------------- the webhook's claim

-- A Telegram account as every update reads it (`claim_update`, `read_update`):
-- the person, the active company and the membership that makes it usable
-- (the company columns are NULL when the person is no longer a member). A
-- view, so the join is written once: the definition of the kept rows below,
-- which the updates read.
CREATE OR REPLACE VIEW telegram_account_context AS
SELECT t.telegram_user_id, t.blocked_at, u.id AS user_id, u.language, t.active_company_id,
       c.id AS company_id, c.name AS company_name, c.cui AS company_cui,
       c.currency AS company_currency, m.role
FROM telegram_accounts t JOIN users u ON u.id = t.user_id
LEFT JOIN company_members m ON m.company_id = t.active_company_id AND m.user_id = t.user_id
LEFT JOIN companies c ON c.id = m.company_id;

-- The same rows, kept: one per Telegram account, which `claim_update` and
-- `read_update` read by its key instead of joining the four tables on every
-- update (callgrind, the functions' own instructions per call on the
-- benchmark's data: `read_update` for a private `/dashboard` 0.79 of what
-- it took with the join, `claim_update` 0.54, its lock's assignment
-- included). The view above stays the one definition of a row: the
-- triggers below recompute an account's row from it whenever one of the
-- tables it reads changes what the row shows, in the writer's transaction,
-- so every write path (the API, the bot, the web pages, a previous build's
-- statements, psql, a company's deletion cascading) keeps it current and
-- none can forget to. `rebuild_account_context()` builds it from scratch:
-- `ledgerbot migrate` the first time (`build_once`, below), a TRUNCATE of a
-- source table, a repair.
CREATE TABLE IF NOT EXISTS telegram_account_context_kept (
    telegram_user_id  bigint      PRIMARY KEY,
    blocked_at        timestamptz,
    user_id           bigint      NOT NULL,
    language          text,
    active_company_id bigint,
    company_id        bigint,
    company_name      text,
    company_cui       text,
    company_currency  text,
    role              text
);
CREATE INDEX IF NOT EXISTS telegram_account_context_kept_user
    ON telegram_account_context_kept (user_id);
CREATE INDEX IF NOT EXISTS telegram_account_context_kept_company
    ON telegram_account_context_kept (company_id);

-- Recomputes the rows of a person's Telegram account from the view (at most
-- one: an account belongs to one person). Concurrent writers must not leave
-- a row computed from a snapshot that missed the other's change (say, one
-- changes the person's role while another switches the account's active
-- company), so each statement here sees what committed before it, in order:
--   1. the person's row lock (FOR NO KEY UPDATE: the foreign keys' checks,
--      FOR KEY SHARE, do not wait for it): every recomputation of one
--      person's row runs one at a time, and the second sees the first's
--      writes committed, its own base-table write included (made before
--      the lock). The lock and not the kept row's, which does not exist yet
--      when an account and a membership are written at once.
--   2. the active company's row FOR SHARE: a change to its name, CUI or
--      currency in flight is waited for (and one starting waits for this
--      transaction), so the copy below is never older than the company.
--      (`account_context_company_changed` writes those columns to the kept
--      rows directly, without the person's lock.)
--   3. the row from the view, written only when it differs.
CREATE OR REPLACE FUNCTION refresh_account_context(_user_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM FROM users WHERE id = _user_id FOR NO KEY UPDATE;
    PERFORM FROM companies c
    WHERE c.id = (SELECT t.active_company_id FROM telegram_accounts t WHERE t.user_id = _user_id)
    FOR SHARE;
    DELETE FROM telegram_account_context_kept k
    WHERE k.user_id = _user_id
      AND NOT EXISTS (SELECT FROM telegram_accounts t
                      WHERE t.telegram_user_id = k.telegram_user_id AND t.user_id = _user_id);
    INSERT INTO telegram_account_context_kept AS k
        (telegram_user_id, blocked_at, user_id, language, active_company_id, company_id,
         company_name, company_cui, company_currency, role)
    SELECT a.telegram_user_id, a.blocked_at, a.user_id, a.language, a.active_company_id,
           a.company_id, a.company_name, a.company_cui, a.company_currency, a.role
    FROM telegram_account_context a
    WHERE a.user_id = _user_id
    ON CONFLICT (telegram_user_id) DO UPDATE
    SET (blocked_at, user_id, language, active_company_id, company_id, company_name,
         company_cui, company_currency, role)
      = (excluded.blocked_at, excluded.user_id, excluded.language, excluded.active_company_id,
         excluded.company_id, excluded.company_name, excluded.company_cui,
         excluded.company_currency, excluded.role)
    WHERE (k.blocked_at, k.user_id, k.language, k.active_company_id, k.company_id,
           k.company_name, k.company_cui, k.company_currency, k.role)
          IS DISTINCT FROM
          (excluded.blocked_at, excluded.user_id, excluded.language, excluded.active_company_id,
           excluded.company_id, excluded.company_name, excluded.company_cui,
           excluded.company_currency, excluded.role);
END
$$;

-- A row of telegram_accounts, company_members or users written: the
-- people's rows it touches, recomputed (two people, when a Telegram account
-- moves from one to another: in id order, so that two such moves do not
-- wait for each other crosswise).
CREATE OR REPLACE FUNCTION account_context_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _old bigint;
    _new bigint;
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        _new := NEW.id;
    ELSE
        IF TG_OP <> 'INSERT' THEN
            _old := OLD.user_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            _new := NEW.user_id;
        END IF;
    END IF;
    IF _old IS NOT NULL AND _new IS NOT NULL AND _old <> _new THEN
        PERFORM refresh_account_context(least(_old, _new));
        PERFORM refresh_account_context(greatest(_old, _new));
    ELSE
        PERFORM refresh_account_context(coalesce(_new, _old));
    END IF;
    RETURN NULL;
END
$$;

-- A company's name, CUI or currency changed: copied to the rows that show
-- it. Its row lock, held to the end of the transaction, orders this against
-- `refresh_account_context`'s FOR SHARE (whichever comes second sees the
-- other's commit). A company's deletion needs nothing here: it deletes the
-- memberships and clears the active companies pointing at it, whose
-- triggers recompute those rows.
CREATE OR REPLACE FUNCTION account_context_company_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE telegram_account_context_kept
    SET company_name = NEW.name, company_cui = NEW.cui, company_currency = NEW.currency
    WHERE company_id = NEW.id;
    RETURN NULL;
END
$$;

-- Builds every row from the view, from scratch. Takes the four tables'
-- SHARE lock so that no write slips between the two steps.
CREATE OR REPLACE FUNCTION rebuild_account_context()
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE telegram_accounts, users, company_members, companies IN SHARE MODE;
    DELETE FROM telegram_account_context_kept;
    INSERT INTO telegram_account_context_kept
        (telegram_user_id, blocked_at, user_id, language, active_company_id, company_id,
         company_name, company_cui, company_currency, role)
    SELECT a.telegram_user_id, a.blocked_at, a.user_id, a.language, a.active_company_id,
           a.company_id, a.company_name, a.company_cui, a.company_currency, a.role
    FROM telegram_account_context a;
END
$$;

-- TRUNCATE has no rows to recompute: everything is built again.
CREATE OR REPLACE FUNCTION account_context_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rebuild_account_context();
    RETURN NULL;
END
$$;

-- The triggers, created once (a migration that finds them leaves the tables
-- unlocked). Row triggers only on the columns the rows show, and only when
-- a value changes (a message from a known sender writes none of them).
DO $$
DECLARE
    _trigger text[];
BEGIN
    FOREACH _trigger SLICE 1 IN ARRAY ARRAY[
        ['telegram_accounts', 'telegram_accounts_context', 'INSERT OR DELETE', 'ROW', '',
         'account_context_changed'],
        ['telegram_accounts', 'telegram_accounts_context_update',
         'UPDATE OF telegram_user_id, user_id, active_company_id, blocked_at', 'ROW',
         'WHEN ((OLD.telegram_user_id, OLD.user_id, OLD.active_company_id, OLD.blocked_at)
                IS DISTINCT FROM (NEW.telegram_user_id, NEW.user_id, NEW.active_company_id, NEW.blocked_at))',
         'account_context_changed'],
        ['company_members', 'company_members_context', 'INSERT OR DELETE', 'ROW', '',
         'account_context_changed'],
        ['company_members', 'company_members_context_update', 'UPDATE OF company_id, user_id, role',
         'ROW',
         'WHEN ((OLD.company_id, OLD.user_id, OLD.role) IS DISTINCT FROM (NEW.company_id, NEW.user_id, NEW.role))',
         'account_context_changed'],
        ['users', 'users_context_update', 'UPDATE OF language', 'ROW',
         'WHEN (OLD.language IS DISTINCT FROM NEW.language)', 'account_context_changed'],
        ['companies', 'companies_context_update', 'UPDATE OF name, cui, currency', 'ROW',
         'WHEN ((OLD.name, OLD.cui, OLD.currency) IS DISTINCT FROM (NEW.name, NEW.cui, NEW.currency))',
         'account_context_company_changed'],
        ['telegram_accounts', 'telegram_accounts_context_truncate', 'TRUNCATE', 'STATEMENT', '',
         'account_context_truncated'],
        ['company_members', 'company_members_context_truncate', 'TRUNCATE', 'STATEMENT', '',
         'account_context_truncated'],
        ['users', 'users_context_truncate', 'TRUNCATE', 'STATEMENT', '', 'account_context_truncated'],
        ['companies', 'companies_context_truncate', 'TRUNCATE', 'STATEMENT', '',
         'account_context_truncated']
    ] LOOP
        CONTINUE WHEN EXISTS (SELECT FROM pg_trigger
                              WHERE tgrelid = _trigger[1]::regclass AND tgname = _trigger[2]);
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I FOR EACH %s %s EXECUTE FUNCTION %I()',
                       _trigger[2], _trigger[3], _trigger[1], _trigger[4], _trigger[5], _trigger[6]);
    END LOOP;
END
$$;

-- Lifts the block a sender once put on the bot (they wrote to it again), from
-- a read: rare, and harmless to lose in a crash (the next message lifts it
-- again), so the read's commit does not wait for the disk. True, so that a
-- query can call it as a condition on the account's row.
CREATE OR REPLACE FUNCTION unblock_telegram_account(_telegram_user_id bigint)
RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    SET LOCAL synchronous_commit = off;
    UPDATE telegram_accounts SET blocked_at = NULL WHERE telegram_user_id = _telegram_user_id;
    RETURN true;
END
$$;

-- The first statement of every update that may write (src/front/bot/webhook.rs),
-- one round trip:
--   1. the chat's advisory lock, exclusive, held to the end of the caller's
--      transaction: one chat's writes are applied one at a time, whichever
--      instance receives them, and its reads wait for them (`read_update`);
--   2. the claim of the update id: `claimed` is false when it was claimed
--      before, and `response` is then the answer stored with it;
--   3. today's date in Romania (`now()` is the transaction's start);
--   4. the sender's account, if linked, with its active company and the
--      membership that makes it usable; writing to the bot lifts a block the
--      sender once put on it.
-- `_reads_only`: kept for the previous build during a rolling deploy (it
-- claimed reads too, in autocommit, without waiting for the disk); this build
-- passes false and reads through `read_update`, which claims nothing.
-- PL/pgSQL and VOLATILE so that each step takes a fresh snapshot after the
-- lock wait: a single SQL statement's snapshot is taken before it waits, and
-- would miss what the chat's previous update committed meanwhile.
-- The webhook's two functions, `claim_update` here and `read_update` below,
-- return rows of named types, `claim_update_row` and `read_update_row`
-- (created once; a column added later is an `ALTER TYPE ... ADD
-- ATTRIBUTE`): for a function declared with result columns (`RETURNS
-- TABLE`, as earlier builds had them), PostgreSQL builds the row's
-- description from the function's catalogue row on every call, detoasting
-- its argument arrays (compressed there when the body is long), where a
-- named type's comes from the type cache (callgrind on the benchmark's
-- data: 0.95 of a private `/dashboard` statement's instructions, 0.90 of a
-- private read's, 0.987 of an `/add`'s). A function of another result type
-- (result columns of its own; `read_update` before its group columns too)
-- is dropped here and created again below, in the migration's transaction,
-- since CREATE OR REPLACE cannot change the result type. The columns are
-- the same, and the previous build names those it reads, so it reads both
-- unchanged.
DO $$
DECLARE
    _function text[];
BEGIN
    IF to_regtype('claim_update_row') IS NULL THEN
        CREATE TYPE claim_update_row AS (
            claimed boolean, today date, response text, user_id bigint, language text,
            active_company_id bigint, company_id bigint, company_name text,
            company_cui text, company_currency text, role text);
    END IF;
    IF to_regtype('read_update_row') IS NULL THEN
        CREATE TYPE read_update_row AS (
            today date, user_id bigint, language text, active_company_id bigint,
            company_id bigint, company_name text, company_cui text, company_currency text,
            role text, section text, currency text, count bigint, total bigint, paid bigint,
            outstanding bigint, overdue bigint, overdue_count bigint,
            group_company_id bigint, group_company_name text, group_company_cui text,
            group_company_currency text, group_role text);
    END IF;
    FOREACH _function SLICE 1 IN ARRAY ARRAY[
        ['claim_update(bigint, bigint, bigint, boolean)', 'claim_update_row'],
        ['read_update(bigint, bigint, boolean)', 'read_update_row']
    ] LOOP
        IF EXISTS (SELECT FROM pg_proc
                   WHERE oid = to_regprocedure(_function[1])
                     AND prorettype <> _function[2]::regtype) THEN
            EXECUTE format('DROP FUNCTION %s', _function[1]);
        END IF;
    END LOOP;
END
$$;
CREATE OR REPLACE FUNCTION claim_update(_update_id bigint, _chat_id bigint, _telegram_user_id bigint,
                                        _reads_only boolean)
RETURNS SETOF claim_update_row
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    -- The row returned, filled step by step.
    _row claim_update_row;
    _blocked boolean;
    _locked boolean;
BEGIN
    IF _reads_only THEN
        SET LOCAL synchronous_commit = off;
    END IF;
    -- An assignment, not PERFORM, as in `read_update`.
    _locked := pg_advisory_xact_lock(_chat_id) IS NOT NULL;
    INSERT INTO telegram_updates (update_id) VALUES (_update_id) ON CONFLICT DO NOTHING;
    _row.claimed := FOUND;
    _row.today := (now() AT TIME ZONE 'Europe/Bucharest')::date;
    IF NOT _row.claimed THEN
        SELECT u.response INTO _row.response FROM telegram_updates u WHERE u.update_id = _update_id;
    END IF;
    SELECT a.user_id, a.language, a.active_company_id, a.company_id, a.company_name,
           a.company_cui, a.company_currency, a.role, a.blocked_at IS NOT NULL
    INTO _row.user_id, _row.language, _row.active_company_id, _row.company_id, _row.company_name,
         _row.company_cui, _row.company_currency, _row.role, _blocked
    FROM telegram_account_context_kept a
    WHERE a.telegram_user_id = _telegram_user_id;
    IF _blocked THEN
        UPDATE telegram_accounts SET blocked_at = NULL WHERE telegram_user_id = _telegram_user_id;
    END IF;
    RETURN NEXT _row;
END
$$;

-- ---------------------------------------------------------------- the dashboard's figures

-- Per-company totals the dashboard reads instead of the rows they sum, so
-- that its cost does not grow with the company (issue 18). Kept by
-- statement-level triggers on the tables they sum: every write path (the
-- API's JSON and CSV upserts, e-Factura imports, deletes, `/add`, a
-- company's deletion cascading, a previous build's statements, psql) keeps
-- them current in the same transaction, and none can forget to. A trigger
-- sees the statement's rows before and after (transition tables) and adds
-- the difference, grouped, in key order (so that two writers of one company
-- lock its totals rows in the same order). No foreign keys: a company's
-- totals drop to zero as its rows are deleted, whatever order a cascade
-- takes; rows at zero stay and are not shown.
--
-- Invoices: per direction and currency, the sums the dashboard shows, and
-- what is left to pay per due date. "Overdue" is what is outstanding minus
-- what falls due today or later: the date moving rewrites nothing, and the
-- dashboard reads only the buckets not yet due (days ahead, not years back).
CREATE TABLE IF NOT EXISTS invoice_totals (
    company_id        bigint NOT NULL,
    direction         text   NOT NULL,
    currency          text   NOT NULL,
    count             bigint NOT NULL,
    total             bigint NOT NULL,
    paid              bigint NOT NULL,
    -- the positive remainders (total − paid), and how many invoices have one
    outstanding       bigint NOT NULL,
    outstanding_count bigint NOT NULL,
    PRIMARY KEY (company_id, direction, currency)
);
CREATE TABLE IF NOT EXISTS invoice_due_buckets (
    company_id  bigint NOT NULL,
    direction   text   NOT NULL,
    currency    text   NOT NULL,
    due_date    date   NOT NULL,
    outstanding bigint NOT NULL,
    count       bigint NOT NULL,
    PRIMARY KEY (company_id, direction, currency, due_date)
);
-- Cash entries per calendar month, in slots, which a reader sums. Cash
-- entries are the one total many people of one company write at once
-- (`/add`): with one row per month, each writer held that row's lock from
-- its INSERT to its durable commit, and the others waited in line
-- (`Lock:transactionid`; on the benchmark's one-company set, 16 clients
-- managed ~390 writes/s, `/add` p99 18 ms). Now a write adds to slot 0
-- unless another transaction is writing the company's cash at that moment
-- (a try of a transaction-scoped advisory lock, which never waits): then to
-- its connection's slot, 1 to 7. Writers do not wait for each other, and a
-- month holds more than one row per currency only if its writers met: each
-- slot a `/dashboard` reads costs its statement about 1 % (pgbench). The
-- other totals are written by pushes and imports, not by many people at
-- once, and stay one row per key.
--
-- A database of the build before has the unslotted table under the view's
-- name: renamed, and its rows become slot 0.
DO $$
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('cash_month_totals')) = 'r' THEN
        ALTER TABLE cash_month_totals RENAME TO cash_month_slots;
        ALTER TABLE cash_month_slots ADD COLUMN slot smallint NOT NULL DEFAULT 0;
        ALTER TABLE cash_month_slots DROP CONSTRAINT cash_month_totals_pkey,
            ADD CONSTRAINT cash_month_slots_pkey PRIMARY KEY (company_id, month, currency, slot);
    END IF;
END
$$;
CREATE TABLE IF NOT EXISTS cash_month_slots (
    company_id bigint   NOT NULL,
    month      date     NOT NULL,
    currency   text     NOT NULL,
    slot       smallint NOT NULL DEFAULT 0,
    count      bigint   NOT NULL,
    income     bigint   NOT NULL,
    expenses   bigint   NOT NULL,
    CONSTRAINT cash_month_slots_pkey PRIMARY KEY (company_id, month, currency, slot)
);
-- The months' totals, slots summed, under the table's former name: for the
-- build before's statements during a rolling deploy, and for people in
-- psql. This build reads the slots (src/services/finance/cash.rs sums
-- them; `dashboard_figures` returns them as they are, as an aggregate there
-- cost its statement ~10 %, pgbench).
CREATE OR REPLACE VIEW cash_month_totals AS
    SELECT company_id, month, currency, sum(count)::int8 AS count, sum(income)::int8 AS income,
           sum(expenses)::int8 AS expenses
    FROM cash_month_slots
    GROUP BY company_id, month, currency;
-- Treasury balances per currency.
CREATE TABLE IF NOT EXISTS treasury_totals (
    company_id bigint NOT NULL,
    currency   text   NOT NULL,
    count      bigint NOT NULL,
    balance    bigint NOT NULL,
    PRIMARY KEY (company_id, currency)
);

-- The rows a statement-level trigger adds (+1) and takes away (−1): its
-- transition tables, `new_rows` and `old_rows`, as `_op` has them.
CREATE OR REPLACE FUNCTION transition_rows(_op text, _columns text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE _op
        WHEN 'INSERT' THEN format('SELECT 1 AS sign, %s FROM new_rows', _columns)
        WHEN 'DELETE' THEN format('SELECT -1 AS sign, %s FROM old_rows', _columns)
        ELSE format('SELECT 1 AS sign, %1$s FROM new_rows UNION ALL SELECT -1 AS sign, %1$s FROM old_rows',
                    _columns)
    END
$$;

-- The totals' arithmetic, once: the statements that add `_rows` (a query of
-- sign and the summed table's columns) to each totals table of `_table`. The
-- trigger functions generated below hold them as static statements on their
-- transition rows (which only a trigger function itself can read, hence
-- statements and not a function that runs them); `rebuild_dashboard_totals`
-- runs them on the whole table.
CREATE OR REPLACE FUNCTION dashboard_totals_sql(_table text, _rows text)
RETURNS text[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF _table = 'invoices' THEN
        RETURN ARRAY[format($q$
            INSERT INTO invoice_totals AS t
                (company_id, direction, currency, count, total, paid, outstanding, outstanding_count)
            SELECT company_id, direction, currency, sum(sign), sum(sign * total_minor),
                   sum(sign * paid_minor), sum(sign * greatest(total_minor - paid_minor, 0)),
                   sum(sign * (paid_minor < total_minor)::int)
            FROM (%s) AS r
            GROUP BY company_id, direction, currency
            ORDER BY company_id, direction, currency
            ON CONFLICT (company_id, direction, currency) DO UPDATE
            SET count = t.count + excluded.count, total = t.total + excluded.total,
                paid = t.paid + excluded.paid, outstanding = t.outstanding + excluded.outstanding,
                outstanding_count = t.outstanding_count + excluded.outstanding_count
        $q$, _rows), format($q$
            INSERT INTO invoice_due_buckets AS b
                (company_id, direction, currency, due_date, outstanding, count)
            SELECT company_id, direction, currency, due_date,
                   sum(sign * (total_minor - paid_minor)), sum(sign)
            FROM (%s) AS r
            WHERE paid_minor < total_minor
            GROUP BY company_id, direction, currency, due_date
            ORDER BY company_id, direction, currency, due_date
            ON CONFLICT (company_id, direction, currency, due_date) DO UPDATE
            SET outstanding = b.outstanding + excluded.outstanding, count = b.count + excluded.count
        $q$, _rows)];
    ELSIF _table = 'cash_entries' THEN
        RETURN ARRAY[format($q$
            INSERT INTO cash_month_slots AS t
                (company_id, month, currency, slot, count, income, expenses)
            SELECT company_id, date_trunc('month', entry_date)::date, currency,
                   -- slot 0, unless another transaction is writing this
                   -- company's cash totals (`cash_month_slots`): then the
                   -- connection's own. 1667330920 is 'cash' in ASCII: the
                   -- key space of these locks (two int4 keys, apart from
                   -- the chats' bigint ones).
                   CASE WHEN pg_try_advisory_xact_lock(1667330920, (company_id %% 2147483647)::int4)
                        THEN 0 ELSE 1 + pg_backend_pid() %% 7 END,
                   sum(sign), sum(sign * greatest(amount_minor, 0)),
                   sum(sign * greatest(-amount_minor, 0))
            FROM (%s) AS r
            GROUP BY 1, 2, 3
            ORDER BY 1, 2, 3
            ON CONFLICT (company_id, month, currency, slot) DO UPDATE
            SET count = t.count + excluded.count, income = t.income + excluded.income,
                expenses = t.expenses + excluded.expenses
        $q$, _rows)];
    ELSIF _table = 'treasury_accounts' THEN
        RETURN ARRAY[format($q$
            INSERT INTO treasury_totals AS t (company_id, currency, count, balance)
            SELECT company_id, currency, sum(sign), sum(sign * balance_minor)
            FROM (%s) AS r
            GROUP BY 1, 2
            ORDER BY 1, 2
            ON CONFLICT (company_id, currency) DO UPDATE
            SET count = t.count + excluded.count, balance = t.balance + excluded.balance
        $q$, _rows)];
    ELSE
        RAISE EXCEPTION 'no dashboard totals for %', _table;
    END IF;
END
$$;

-- The columns each summed table's totals read.
CREATE OR REPLACE FUNCTION dashboard_totals_columns(_table text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE _table
        WHEN 'invoices' THEN 'company_id, direction, currency, due_date, total_minor, paid_minor'
        WHEN 'cash_entries' THEN 'company_id, entry_date, currency, amount_minor'
        WHEN 'treasury_accounts' THEN 'company_id, currency, balance_minor'
    END
$$;

-- The trigger functions, one per summed table and event
-- (`keep_<table>_totals_on_<event>`), generated here from
-- `dashboard_totals_sql`, so the arithmetic stays in one place: their
-- statements are static, and PL/pgSQL plans them once per connection. (A
-- single function that EXECUTEs the statements parses and plans them on
-- every write: measured, that made `/add`'s INSERT several times dearer;
-- BENCHMARKS.md.) Regenerated by every migration, like the functions above.
DO $$
DECLARE
    _table text;
    _event text;
BEGIN
    FOREACH _table IN ARRAY ARRAY['invoices', 'cash_entries', 'treasury_accounts'] LOOP
        FOREACH _event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
            EXECUTE format('CREATE OR REPLACE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql AS %L',
                           format('keep_%s_totals_on_%s', _table, _event),
                           format(E'BEGIN\n%s;\nRETURN NULL;\nEND',
                                  array_to_string(dashboard_totals_sql(
                                      _table, transition_rows(upper(_event), dashboard_totals_columns(_table))),
                                  E';\n')));
        END LOOP;
    END LOOP;
END
$$;

-- Builds every total from the rows, from scratch: `ledgerbot migrate` the
-- first time (below), and a repair should one ever be needed. Takes the
-- summed tables' SHARE lock so that no write slips between the two steps.
CREATE OR REPLACE FUNCTION rebuild_dashboard_totals()
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    _table text;
    _statement text;
BEGIN
    LOCK TABLE invoices, cash_entries, treasury_accounts IN SHARE MODE;
    DELETE FROM invoice_totals;
    DELETE FROM invoice_due_buckets;
    DELETE FROM cash_month_slots;
    DELETE FROM treasury_totals;
    FOREACH _table IN ARRAY ARRAY['invoices', 'cash_entries', 'treasury_accounts'] LOOP
        FOREACH _statement IN ARRAY dashboard_totals_sql(
            _table, format('SELECT 1 AS sign, %s FROM %I', dashboard_totals_columns(_table), _table)) LOOP
            EXECUTE _statement;
        END LOOP;
    END LOOP;
END
$$;

-- The triggers, three per summed table (a trigger with transition tables
-- has one event), and TRUNCATE, which has no rows to subtract.
CREATE OR REPLACE FUNCTION forget_dashboard_totals()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CASE TG_TABLE_NAME
        WHEN 'invoices' THEN DELETE FROM invoice_totals; DELETE FROM invoice_due_buckets;
        WHEN 'cash_entries' THEN DELETE FROM cash_month_slots;
        ELSE DELETE FROM treasury_totals;
    END CASE;
    RETURN NULL;
END
$$;
-- Created once (no CREATE OR REPLACE TRIGGER before PostgreSQL 14; and a
-- migration that finds them as they should be leaves the tables unlocked).
-- A trigger that runs another function (the single EXECUTE-ing
-- `keep_dashboard_totals` of the build before) is replaced, in the
-- migration's transaction: writes to that table wait for its commit, once.
DO $$
DECLARE
    _table text;
    _event text;
    _function text;
BEGIN
    FOREACH _table IN ARRAY ARRAY['invoices', 'cash_entries', 'treasury_accounts'] LOOP
        FOREACH _event IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
            _function := CASE _event WHEN 'truncate' THEN 'forget_dashboard_totals'
                                     ELSE format('keep_%s_totals_on_%s', _table, _event) END;
            CONTINUE WHEN EXISTS (SELECT FROM pg_trigger
                                  WHERE tgrelid = _table::regclass
                                    AND tgname = format('%s_totals_%s', _table, _event)
                                    AND tgfoid = _function::regproc);
            EXECUTE format('DROP TRIGGER IF EXISTS %1$s_totals_%2$s ON %1$I', _table, _event);
            EXECUTE format('CREATE TRIGGER %1$s_totals_%2$s AFTER %2$s ON %1$I %3$s FOR EACH STATEMENT
                            EXECUTE FUNCTION %4$I()',
                           _table, _event,
                           CASE _event
                               WHEN 'insert' THEN 'REFERENCING NEW TABLE AS new_rows'
                               WHEN 'update' THEN 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                               WHEN 'delete' THEN 'REFERENCING OLD TABLE AS old_rows'
                               ELSE ''
                           END,
                           _function);
        END LOOP;
    END LOOP;
END
$$;
DROP FUNCTION IF EXISTS keep_dashboard_totals();

-- Kept figures that `ledgerbot migrate` has built from the rows, one row per
-- name ('dashboard_totals' here; 'partner_totals' and the kept account rows,
-- 'account_context', below): what existed before their triggers is counted
-- once, and never again.
CREATE TABLE IF NOT EXISTS built_figures (
    name text PRIMARY KEY,
    built_at timestamptz NOT NULL DEFAULT now()
);
-- Runs `rebuild_<name>()` the first time it is asked for the name, and
-- records that it did (in the migration's transaction: a failed build
-- records nothing). The function is named from `_name` as an identifier, so
-- a name without one is an error, never other SQL.
CREATE OR REPLACE FUNCTION build_once(_name text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO built_figures (name) VALUES (_name) ON CONFLICT (name) DO NOTHING;
    IF FOUND THEN
        EXECUTE format('SELECT %I()', 'rebuild_' || _name);
    END IF;
END
$$;
-- Earlier builds kept a table per name, `<name>_built`, with a row once
-- built: the row moves here (its time with it), so built figures are not
-- built again, and the table goes. A table that is missing or empty moves
-- nothing, and `build_once` builds those figures.
DO $$
DECLARE
    _name text;
BEGIN
    FOREACH _name IN ARRAY ARRAY['dashboard_totals', 'partner_totals'] LOOP
        CONTINUE WHEN to_regclass(_name || '_built') IS NULL;
        EXECUTE format('INSERT INTO built_figures (name, built_at)
                        SELECT %L, min(built_at) FROM %I HAVING count(*) > 0
                        ON CONFLICT (name) DO NOTHING',
                       _name, _name || '_built');
        EXECUTE format('DROP TABLE %I', _name || '_built');
    END LOOP;
END
$$;

-- Built once, for the rows that existed before the triggers: the build
-- locks the three tables against writes to the end of the migration's
-- transaction (which created the triggers), so it misses no row and counts
-- none twice.
SELECT build_once('dashboard_totals');

-- The figures behind `/dashboard` and `GET .../dashboard`
-- (src/services/finance/dashboard.rs reads them), from the totals above, on
-- `_today` (whose month is `_month`): a row per section and currency, in no
-- particular order: `assemble` puts the company's own currency first (a
-- Sort here, with the subquery scan it needs, cost PostgreSQL ~14 % of a
-- `/dashboard` update; BENCHMARKS.md). The three sections share the
-- columns: `total` is the treasury balance, the invoices' total, or the cash
-- income; `paid` is what invoices had paid, or the cash expenses; columns a
-- section has no use for are 0. An invoice's remainder (total − paid) counts
-- as outstanding when positive (and overdue once its due date is before
-- `_today`), and as credit when negative, so that one customer's
-- overpayment does not hide another's debt. What it reads does not grow
-- with the number of invoices: a few totals rows, and the buckets of
-- invoices not yet due.
-- Today and its month are arguments apart, each a value the caller computes
-- once (`read_update`: PL/pgSQL variables): the buckets' lower bound and the
-- month's cash row are then index keys the plan evaluates once, whichever
-- plan PostgreSQL caches. Computed here from `_today`, or in the caller's
-- statement from now(), either was evaluated again for every bucket row
-- filtered (a company of a million invoices has ~120), or the generic plan
-- scanned every company's cash row of the month (BENCHMARKS.md).
CREATE OR REPLACE FUNCTION dashboard_figures(_company_id bigint, _today date, _month date)
RETURNS TABLE (section text, currency text, count bigint, total bigint, paid bigint,
               outstanding bigint, overdue bigint, overdue_count bigint)
LANGUAGE sql STABLE AS $$
    SELECT section, currency, count, total, paid, outstanding, overdue, overdue_count
    FROM (
        SELECT 'treasury' AS section, currency, count, balance AS total, 0::int8 AS paid,
               0::int8 AS outstanding, 0::int8 AS overdue, 0::int8 AS overdue_count
        FROM treasury_totals WHERE company_id = _company_id AND count > 0
        UNION ALL
        SELECT t.direction, t.currency, t.count, t.total, t.paid, t.outstanding,
               t.outstanding - coalesce(later.outstanding, 0),
               t.outstanding_count - coalesce(later.count, 0)
        FROM invoice_totals t
        LEFT JOIN LATERAL (
            SELECT sum(b.outstanding)::int8 AS outstanding, sum(b.count)::int8 AS count
            FROM invoice_due_buckets b
            WHERE b.company_id = t.company_id AND b.direction = t.direction
              AND b.currency = t.currency AND b.due_date >= _today
        ) AS later ON true
        WHERE t.company_id = _company_id AND t.count > 0
        UNION ALL
        -- int8 like the first branch's: a cast would cost a subquery scan.
        -- A row per slot, none left out: a slot's count may be 0 or below
        -- (an entry counted in one slot, deleted while another writer held
        -- slot 0); `assemble` sums a currency's slots and shows the month
        -- if its count is above 0.
        SELECT 'cash', currency, count, income, expenses, 0::int8, 0::int8, 0::int8
        FROM cash_month_slots
        WHERE company_id = _company_id AND month = _month
    ) AS figures
$$;
-- The previous build's signature, kept for its calls during a rolling deploy
-- (its API's dashboard): the month from today, and `_currency` unused (it
-- only chose an order the function no longer gives).
CREATE OR REPLACE FUNCTION dashboard_figures(_company_id bigint, _today date, _currency text)
RETURNS TABLE (section text, currency text, count bigint, total bigint, paid bigint,
               outstanding bigint, overdue bigint, overdue_count bigint)
LANGUAGE sql STABLE AS $$
    SELECT * FROM dashboard_figures(_company_id, _today, date_trunc('month', _today)::date)
$$;

-- ---------------------------------------------------------------- the partners' figures

-- What each partner owes or is owed (src/services/finance/partners.rs),
-- kept per partner so that a page of partners reads its own rows and the
-- company-wide lines a few kept rows, not every open invoice of the company
-- (issue 18 item 3). A partner is its CUI, else its folded name, in both
-- directions (the 'received' form of invoice_partner_key), per currency.
-- Only open invoices count (something left to pay, or owed back: paid <>
-- total); a partner without one has no row.
--
-- `debt` sums the positive remainders (total − paid), `credits` the negative
-- ones (as a positive amount: credit notes, stornos, overpayments). Credits
-- settle the oldest debt first, oldest being the earliest due date: an order
-- that does not depend on today, so how much of each due date's debt the
-- credits settle (`partner_due.absorbed`) is known when the invoices are
-- written, and the ageing as of any day is a sum over due dates. The name
-- (the newest open invoice's) is read with the page, one probe of
-- invoices_company_open_partners per partner; the CUI is the key itself
-- when the key is not a name.
CREATE TABLE IF NOT EXISTS partner_totals (
    company_id    bigint NOT NULL,
    direction     text   NOT NULL,
    partner_key   text   NOT NULL,
    currency      text   NOT NULL,
    open_invoices bigint NOT NULL,
    debt          bigint NOT NULL,
    credits       bigint NOT NULL,
    outstanding   bigint NOT NULL GENERATED ALWAYS AS (greatest(debt - credits, 0)) STORED,
    credit        bigint NOT NULL GENERATED ALWAYS AS (greatest(credits - debt, 0)) STORED,
    PRIMARY KEY (company_id, direction, partner_key, currency)
);
-- The list's order within one direction and currency: a page is a range of
-- this per direction and currency listed, merged (a company has few).
CREATE INDEX IF NOT EXISTS partner_totals_list
    ON partner_totals (company_id, direction, currency, (-outstanding), partner_key COLLATE "C");
-- Per partner and due date: the positive remainders, and the part of them
-- the partner's credits settle.
CREATE TABLE IF NOT EXISTS partner_due (
    company_id  bigint NOT NULL,
    direction   text   NOT NULL,
    partner_key text   NOT NULL,
    currency    text   NOT NULL,
    due_date    date   NOT NULL,
    debt        bigint NOT NULL,
    absorbed    bigint NOT NULL,
    PRIMARY KEY (company_id, direction, partner_key, currency, due_date)
);
CREATE INDEX IF NOT EXISTS partner_due_absorbed
    ON partner_due (company_id, direction, partner_key, currency, due_date) WHERE absorbed > 0;
-- The company-wide lines: per direction and currency, the partners and
-- their sums; per due date, the sums of `partner_due`. Rows at zero stay.
CREATE TABLE IF NOT EXISTS partner_list_totals (
    company_id  bigint NOT NULL,
    direction   text   NOT NULL,
    currency    text   NOT NULL,
    partners    bigint NOT NULL,
    outstanding bigint NOT NULL,
    credit      bigint NOT NULL,
    PRIMARY KEY (company_id, direction, currency)
);
CREATE TABLE IF NOT EXISTS partner_due_totals (
    company_id bigint NOT NULL,
    direction  text   NOT NULL,
    currency   text   NOT NULL,
    due_date   date   NOT NULL,
    debt       bigint NOT NULL,
    absorbed   bigint NOT NULL,
    PRIMARY KEY (company_id, direction, currency, due_date)
);

-- Lays one partner's credits over its debts, oldest due date first, anew:
-- takes what they settled before out of the company's sums and puts in
-- what they settle now. Walks only the due dates the credits reach.
CREATE OR REPLACE FUNCTION settle_partner_credits(_company_id bigint, _direction text,
                                                  _partner_key text, _currency text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    _left bigint;
    _due record;
    _take bigint;
BEGIN
    UPDATE partner_due_totals t SET absorbed = t.absorbed - d.absorbed
    FROM partner_due d
    WHERE d.company_id = _company_id AND d.direction = _direction AND d.partner_key = _partner_key
      AND d.currency = _currency AND d.absorbed > 0
      AND t.company_id = _company_id AND t.direction = _direction AND t.currency = _currency
      AND t.due_date = d.due_date;
    UPDATE partner_due SET absorbed = 0
    WHERE company_id = _company_id AND direction = _direction AND partner_key = _partner_key
      AND currency = _currency AND absorbed > 0;
    SELECT credits INTO _left FROM partner_totals
    WHERE company_id = _company_id AND direction = _direction AND partner_key = _partner_key
      AND currency = _currency;
    IF coalesce(_left, 0) <= 0 THEN
        RETURN;
    END IF;
    FOR _due IN SELECT due_date, debt FROM partner_due
                WHERE company_id = _company_id AND direction = _direction
                  AND partner_key = _partner_key AND currency = _currency AND debt > 0
                ORDER BY due_date LOOP
        _take := least(_due.debt, _left);
        UPDATE partner_due SET absorbed = _take
        WHERE company_id = _company_id AND direction = _direction AND partner_key = _partner_key
          AND currency = _currency AND due_date = _due.due_date;
        UPDATE partner_due_totals SET absorbed = absorbed + _take
        WHERE company_id = _company_id AND direction = _direction AND currency = _currency
          AND due_date = _due.due_date;
        _left := _left - _take;
        EXIT WHEN _left = 0;
    END LOOP;
END
$$;

-- The kept figures' arithmetic, once: the statements that add `_rows` (a
-- query of sign and the invoices' columns, as transition_rows gives) to
-- them, in order: lock the lanes (direction and currency) touched, in key
-- order; add the remainders per partner and due date, per partner, per
-- lane; the partners whose credits are to be laid over their debts anew
-- (a query, for settle_partner_credits); drop the partners and due dates
-- left with nothing. A partner's figures are read and rewritten under its
-- lane's lock (the dashboard's totals already serialise a lane's writers),
-- so two writers neither deadlock nor read each other's half. The trigger
-- functions below hold them as static statements (PL/pgSQL plans them once
-- per connection); `rebuild_partner_totals` runs them on the whole table.
-- An update that moves no remainder (a re-pushed invoice) changes nothing.
CREATE OR REPLACE FUNCTION partner_totals_sql(_rows text)
RETURNS text[] LANGUAGE sql IMMUTABLE AS $f$
    SELECT ARRAY[format($q$
        WITH delta AS (%1$s)
        INSERT INTO partner_list_totals AS t (company_id, direction, currency, partners, outstanding, credit)
        SELECT DISTINCT company_id, direction, currency, 0, 0, 0 FROM delta
        ORDER BY 1, 2, 3
        ON CONFLICT (company_id, direction, currency) DO UPDATE SET partners = t.partners
    $q$, d), format($q$
        WITH delta AS (%1$s), due AS (
            INSERT INTO partner_due AS p (company_id, direction, partner_key, currency, due_date, debt, absorbed)
            SELECT company_id, direction, partner_key, currency, due_date, debt, 0 FROM delta
            WHERE debt <> 0
            ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (company_id, direction, partner_key, currency, due_date) DO UPDATE
            SET debt = p.debt + excluded.debt
        ), due_totals AS (
            INSERT INTO partner_due_totals AS t (company_id, direction, currency, due_date, debt, absorbed)
            SELECT company_id, direction, currency, due_date, sum(debt), 0 FROM delta
            WHERE debt <> 0
            GROUP BY 1, 2, 3, 4
            ORDER BY 1, 2, 3, 4
            ON CONFLICT (company_id, direction, currency, due_date) DO UPDATE
            SET debt = t.debt + excluded.debt
        ), moved AS (
            SELECT company_id, direction, partner_key, currency, sum(n)::int8 AS n,
                   sum(debt)::int8 AS debt, sum(credits)::int8 AS credits
            FROM delta
            GROUP BY 1, 2, 3, 4
        ), before AS (
            SELECT p.company_id, p.direction, p.currency, p.open_invoices, p.outstanding, p.credit
            FROM partner_totals p JOIN moved USING (company_id, direction, partner_key, currency)
        ), after AS (
            INSERT INTO partner_totals AS p (company_id, direction, partner_key, currency, open_invoices, debt, credits)
            SELECT * FROM moved
            ORDER BY 1, 2, 3, 4
            ON CONFLICT (company_id, direction, partner_key, currency) DO UPDATE
            SET open_invoices = p.open_invoices + excluded.open_invoices, debt = p.debt + excluded.debt,
                credits = p.credits + excluded.credits
            RETURNING p.company_id, p.direction, p.currency, p.open_invoices, p.outstanding, p.credit
        )
        UPDATE partner_list_totals t
        SET partners = t.partners + c.partners, outstanding = t.outstanding + c.outstanding,
            credit = t.credit + c.credit
        FROM (SELECT company_id, direction, currency, sum(partners)::int8 AS partners,
                     sum(outstanding)::int8 AS outstanding, sum(credit)::int8 AS credit
              FROM (SELECT company_id, direction, currency, (open_invoices > 0)::int AS partners,
                           outstanding, credit
                    FROM after
                    UNION ALL
                    SELECT company_id, direction, currency, -(open_invoices > 0)::int, -outstanding, -credit
                    FROM before) AS x
              GROUP BY 1, 2, 3) AS c
        WHERE t.company_id = c.company_id AND t.direction = c.direction AND t.currency = c.currency
    $q$, d), format($q$
        WITH delta AS (%1$s)
        SELECT DISTINCT p.company_id, p.direction, p.partner_key, p.currency
        FROM delta JOIN partner_totals p USING (company_id, direction, partner_key, currency)
        WHERE p.credits > 0
           OR EXISTS (SELECT FROM partner_due a
                      WHERE a.company_id = p.company_id AND a.direction = p.direction
                        AND a.partner_key = p.partner_key AND a.currency = p.currency AND a.absorbed > 0)
        ORDER BY 1, 2, 3, 4
    $q$, d), format($q$
        WITH delta AS (%1$s), due AS (
            DELETE FROM partner_due p USING delta
            WHERE p.company_id = delta.company_id AND p.direction = delta.direction
              AND p.partner_key = delta.partner_key AND p.currency = delta.currency
              AND p.due_date = delta.due_date AND p.debt = 0
        )
        DELETE FROM partner_totals p USING delta
        WHERE p.company_id = delta.company_id AND p.direction = delta.direction
          AND p.partner_key = delta.partner_key AND p.currency = delta.currency
          AND p.open_invoices = 0
    $q$, d)]
    FROM (SELECT format($q$
              SELECT company_id, direction, partner_key, currency, due_date, sum(sign)::int8 AS n,
                     sum(sign * greatest(rest, 0))::int8 AS debt,
                     sum(sign * greatest(-rest, 0))::int8 AS credits
              FROM (SELECT sign, company_id, direction,
                           invoice_partner_key('received', partner_cui, partner) AS partner_key,
                           currency, due_date, total_minor - paid_minor AS rest
                    FROM (%s) AS r
                    WHERE total_minor <> paid_minor) AS r
              GROUP BY company_id, direction, partner_key, currency, due_date
              HAVING (sum(sign), sum(sign * greatest(rest, 0)), sum(sign * greatest(-rest, 0))) <> (0, 0, 0)
          $q$, _rows) AS d) AS delta
$f$;

-- The invoices' columns the kept figures read.
CREATE OR REPLACE FUNCTION partner_totals_columns()
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT 'company_id, direction, partner, partner_cui, currency, due_date, total_minor, paid_minor'
$$;

-- The trigger functions, one per event (`keep_partner_totals_on_<event>`),
-- generated from `partner_totals_sql` as the dashboard's are.
DO $$
DECLARE
    _event text;
    _sql text[];
BEGIN
    FOREACH _event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
        _sql := partner_totals_sql(transition_rows(upper(_event), partner_totals_columns()));
        EXECUTE format('CREATE OR REPLACE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql AS %L',
                       format('keep_partner_totals_on_%s', _event),
                       format(E'DECLARE\n_partner record;\nBEGIN\n%s;\n%s;\nFOR _partner IN %s LOOP\n'
                              'PERFORM settle_partner_credits(_partner.company_id, _partner.direction, '
                              '_partner.partner_key, _partner.currency);\nEND LOOP;\n%s;\nRETURN NULL;\nEND',
                              _sql[1], _sql[2], _sql[3], _sql[4]));
    END LOOP;
END
$$;

-- Builds the kept figures from the invoices, from scratch: `ledgerbot
-- migrate` the first time (below), and a repair should one ever be needed.
-- Takes the invoices' SHARE lock so that no write slips in meanwhile.
CREATE OR REPLACE FUNCTION rebuild_partner_totals()
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    _sql text[] := partner_totals_sql(format('SELECT 1 AS sign, %s FROM invoices', partner_totals_columns()));
    _partner record;
BEGIN
    LOCK TABLE invoices IN SHARE MODE;
    DELETE FROM partner_totals;
    DELETE FROM partner_due;
    DELETE FROM partner_list_totals;
    DELETE FROM partner_due_totals;
    EXECUTE _sql[1];
    EXECUTE _sql[2];
    FOR _partner IN EXECUTE _sql[3] LOOP
        PERFORM settle_partner_credits(_partner.company_id, _partner.direction,
                                       _partner.partner_key, _partner.currency);
    END LOOP;
    EXECUTE _sql[4];
END
$$;

CREATE OR REPLACE FUNCTION forget_partner_totals()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM partner_totals;
    DELETE FROM partner_due;
    DELETE FROM partner_list_totals;
    DELETE FROM partner_due_totals;
    RETURN NULL;
END
$$;
-- Created once, as the dashboard's triggers are.
DO $$
DECLARE
    _event text;
BEGIN
    FOREACH _event IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
        CONTINUE WHEN EXISTS (SELECT FROM pg_trigger
                              WHERE tgrelid = 'invoices'::regclass
                                AND tgname = format('invoices_partners_%s', _event));
        EXECUTE format('CREATE TRIGGER invoices_partners_%1$s AFTER %1$s ON invoices %2$s FOR EACH STATEMENT
                        EXECUTE FUNCTION %3$I()',
                       _event,
                       CASE _event
                           WHEN 'insert' THEN 'REFERENCING NEW TABLE AS new_rows'
                           WHEN 'update' THEN 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                           WHEN 'delete' THEN 'REFERENCING OLD TABLE AS old_rows'
                           ELSE ''
                       END,
                       CASE _event WHEN 'truncate' THEN 'forget_partner_totals'
                                   ELSE format('keep_partner_totals_on_%s', _event) END);
    END LOOP;
END
$$;

-- Built once, for the invoices that existed before the triggers, locked
-- against writes to the end of the migration's transaction.
SELECT build_once('partner_totals');

-- The kept account rows (`telegram_account_context_kept`, above), built once
-- for the accounts that existed before their triggers, as the figures are.
SELECT build_once('account_context');

-- ---------------------------------------------------------------- the webhook's reads

-- The one statement of an update that only reads (src/front/bot/webhook.rs),
-- one round trip, and it writes nothing: no claim (a read Telegram retries
-- is answered afresh, from the data as it is then):
--   1. the chat's advisory lock in shared mode, released when the statement
--      ends: reads of one chat do not wait for each other, but do wait for
--      the chat's write in flight (`claim_update` holds the lock exclusively
--      until it commits), so `/add` then `/dashboard` shows the entry;
--   2. today's date in Romania, and the sender's account as `claim_update`
--      reads it (a sender who had blocked the bot is unblocked: the one
--      write, and only then);
--   3. in a group chat (any chat but the sender's private one, whose id is
--      the sender's), the company an owner bound it to with /group
--      (`group_company_id`, NULL when unbound) and, when the sender is a
--      member of it, that company and the sender's role there (the
--      `group_*` columns): what `front/bot/require.rs` would otherwise ask
--      for in two more statements;
--   4. with `_dashboard`, the figures (`dashboard_figures`, read after the
--      wait) of the company the chat shows: in the private chat the
--      account's usable active company, in a group the bound company when
--      the sender is a member of it.
-- The first row is the account (its figure columns NULL); each further row
-- is a figure, with today's date and its own columns only (the account's and
-- the group's NULL: not built, sent and decoded again for every figure;
-- callgrind, a backend serving psql: 0.988 of the hot path's instructions,
-- CASE expressions included). A private chat's `/dashboard`, the hot path,
-- reads the account and the figures in one statement after the lock (a
-- statement costs PostgreSQL the start-up of every node of its plan;
-- BENCHMARKS.md); the other reads take the steps above one by one: one
-- statement for every case would start, on the hot path too, the plan nodes
-- of the cases it is not (the group's joins; for a read, the figures), which
-- cost PostgreSQL more than the statements saved (measured: 1.3x the hot
-- path's instructions, 2.5x a private read's; BENCHMARKS.md). PL/pgSQL
-- and VOLATILE for the fresh snapshot after the wait, as `claim_update`.
-- Nothing outlives the statement (no session state; the function's own
-- setting below is undone as it returns), so it runs as well through
-- PgBouncer's transaction mode.
-- The `group_*` columns came with issue 18's group /dashboard; the rows are
-- of the type `read_update_row` (above `claim_update`, which says why).
CREATE OR REPLACE FUNCTION read_update(_chat_id bigint, _telegram_user_id bigint, _dashboard boolean)
RETURNS SETOF read_update_row
LANGUAGE plpgsql VOLATILE
-- Its statements are lookups by key of rows the cache holds: priced so, the
-- plans PostgreSQL keeps for them read each table by its index, even a
-- table of a few pages (the benchmark's totals), where the default price of
-- a random read made a scan of every company's rows look cheaper.
SET random_page_cost = 1.1
AS $$
#variable_conflict use_column
DECLARE
    -- The account's row, filled step by step (the general path).
    _row read_update_row;
    _blocked boolean;
    _shown bigint;
    -- Today and its month, once (`dashboard_figures` says why); the month
    -- only for the figures, of a date, so without a time zone to convert.
    _today date := (now() AT TIME ZONE 'Europe/Bucharest')::date;
    _month date;
    _locked boolean;
BEGIN
    -- An assignment, not PERFORM: PL/pgSQL evaluates it as an expression,
    -- where PERFORM would start a query's plan (1-3 % of the function).
    _locked := pg_advisory_xact_lock_shared(_chat_id) IS NOT NULL;
    IF _dashboard THEN
        _month := date_trunc('month', _today::timestamp)::date;
    END IF;
    IF _dashboard AND _chat_id = _telegram_user_id THEN
        -- `/dashboard` in the private chat, the hot path: the account and
        -- its figures in the one statement after the wait.
        RETURN QUERY
            SELECT _today, CASE WHEN f.section IS NULL THEN a.user_id END,
                   CASE WHEN f.section IS NULL THEN a.language END,
                   CASE WHEN f.section IS NULL THEN a.active_company_id END,
                   CASE WHEN f.section IS NULL THEN a.company_id END,
                   CASE WHEN f.section IS NULL THEN a.company_name END,
                   CASE WHEN f.section IS NULL THEN a.company_cui END,
                   CASE WHEN f.section IS NULL THEN a.company_currency END,
                   CASE WHEN f.section IS NULL THEN a.role END, f.section, f.currency, f.count,
                   f.total, f.paid, f.outstanding, f.overdue, f.overdue_count, NULL::int8, NULL,
                   NULL, NULL, NULL
            FROM telegram_account_context_kept a
            CROSS JOIN LATERAL (
                -- the account's row first, as the general path below has it
                SELECT NULL AS section, NULL AS currency, NULL::int8 AS count, NULL::int8 AS total,
                       NULL::int8 AS paid, NULL::int8 AS outstanding, NULL::int8 AS overdue,
                       NULL::int8 AS overdue_count
                UNION ALL
                SELECT * FROM dashboard_figures(a.company_id, _today, _month)) AS f
            WHERE a.telegram_user_id = _telegram_user_id
              AND (a.blocked_at IS NULL OR unblock_telegram_account(_telegram_user_id));
        IF FOUND THEN
            RETURN;
        END IF;
        -- No account: the one row below, with today's date only.
    END IF;
    _row.today := _today;
    SELECT a.user_id, a.language, a.active_company_id, a.company_id, a.company_name,
           a.company_cui, a.company_currency, a.role, a.blocked_at IS NOT NULL
    INTO _row.user_id, _row.language, _row.active_company_id, _row.company_id, _row.company_name,
         _row.company_cui, _row.company_currency, _row.role, _blocked
    FROM telegram_account_context_kept a
    WHERE a.telegram_user_id = _telegram_user_id;
    IF _blocked THEN
        PERFORM unblock_telegram_account(_telegram_user_id);
    END IF;
    IF _chat_id <> _telegram_user_id THEN
        SELECT g.company_id, c.name, c.cui, c.currency, m.role
        INTO _row.group_company_id, _row.group_company_name, _row.group_company_cui,
             _row.group_company_currency, _row.group_role
        FROM group_chats g
        LEFT JOIN company_members m ON m.company_id = g.company_id AND m.user_id = _row.user_id
        LEFT JOIN companies c ON c.id = m.company_id
        WHERE g.chat_id = _chat_id;
        _shown := CASE WHEN _row.group_role IS NOT NULL THEN _row.group_company_id END;
    ELSE
        _shown := _row.company_id;
    END IF;
    RETURN NEXT _row;
    IF _dashboard AND _shown IS NOT NULL THEN
        RETURN QUERY
            SELECT _today, NULL::int8, NULL, NULL::int8, NULL::int8, NULL, NULL, NULL, NULL,
                   f.section, f.currency, f.count, f.total, f.paid, f.outstanding, f.overdue,
                   f.overdue_count, NULL::int8, NULL, NULL, NULL, NULL
            FROM dashboard_figures(_shown, _today, _month) AS f;
    END IF;
END
$$;
