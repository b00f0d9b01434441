-- The benchmark's data sets, loaded set-based (generate_series) into a fresh
-- database that already has schema.sql. Two psql variables choose the set:
-- `invoices`, per company (250, 10000, 100000 or 1000000 in deploy/bench.sh),
-- and `companies` (200 for the default 250-invoice set; fewer for the larger
-- ones, so that every set loads in bounded time: see deploy/bench/common.sh).
-- Always 1,000 users, each linked to a Telegram account with an active
-- company they are a member of, 3 treasury accounts per company and 2,000
-- cash entries. The numbering is deterministic, so deploy/bench/*.sql can
-- derive each user's ids from `uid` alone:
--
--   users.id                        = uid                    (1 .. 1000)
--   telegram_accounts.telegram_user_id = chat id = 7000000000 + uid
--   active company                  = (uid - 1) % companies + 1
--   role                            owner (uid 1-200), accountant (201-600),
--                                   viewer (601-1000): /add takes uid <= 600
--
-- Every company has `invoices` invoices (about 55 % issued, 10 % in EUR,
-- dates over the last six months: paid, partly paid, unpaid and overdue
-- ones), a RON bank account, a EUR bank account and a cash register, and
-- cash entries over the last 20 days. Every tenth company keeps its books in
-- EUR. The invoices go in with one INSERT ... SELECT, so the statement-level
-- triggers keep the dashboard's totals once for the whole set.

INSERT INTO companies (id, name, cui, currency) OVERRIDING SYSTEM VALUE
SELECT n, format('Firma %s SRL', n), (10000000 + n)::text,
       CASE WHEN n % 10 = 0 THEN 'EUR' ELSE 'RON' END
FROM generate_series(1, :companies) AS n;

INSERT INTO users (id, email, first_name, language) OVERRIDING SYSTEM VALUE
SELECT n, format('bench%s@example.ro', n), format('Bench %s', n),
       (ARRAY['ro', 'en', NULL])[n % 3 + 1]
FROM generate_series(1, 1000) AS n;

INSERT INTO telegram_accounts (telegram_user_id, user_id, chat_id, username, first_name, active_company_id)
SELECT 7000000000 + n, n, 7000000000 + n, format('bench%s', n), format('Bench %s', n), (n - 1) % :companies + 1
FROM generate_series(1, 1000) AS n;

INSERT INTO company_members (company_id, user_id, role)
SELECT (n - 1) % :companies + 1, n,
       CASE WHEN n <= 200 THEN 'owner' WHEN n <= 600 THEN 'accountant' ELSE 'viewer' END
FROM generate_series(1, 1000) AS n;

INSERT INTO invoices (company_id, direction, number, partner, issue_date, due_date,
                      total_minor, paid_minor, currency)
SELECT company_id, CASE WHEN k % 9 < 5 THEN 'issued' ELSE 'received' END,
       format('B-%s', i), format('Partener %s SRL', i % 97),
       issue_date, issue_date + 15 * (1 + i * 31 % 4)::int, total,
       CASE k % 4 WHEN 0 THEN total WHEN 1 THEN total / 2 ELSE 0 END,
       CASE WHEN k % 10 = 0 THEN 'EUR' ELSE 'RON' END
FROM (
    -- k: the invoice's index within its company
    SELECT i, (i - 1) % :companies + 1 AS company_id, (i - 1) / :companies AS k,
           current_date - (i * 7919 % 180)::int AS issue_date,
           10000 + i::bigint * 104729 % 5000000 AS total
    FROM generate_series(1, :invoices::bigint * :companies) AS i
) AS g;

INSERT INTO treasury_accounts (company_id, name, kind, currency, balance_minor, as_of)
SELECT c, a.name, a.kind, a.currency, (c::bigint * 7919 * a.k) % 10000000, current_date
FROM generate_series(1, :companies) AS c,
     (VALUES (1, 'Banca RON', 'bank', 'RON'), (2, 'Banca EUR', 'bank', 'EUR'),
             (3, 'Casierie', 'cash', 'RON')) AS a (k, name, kind, currency);

INSERT INTO cash_entries (company_id, amount_minor, currency, note, entry_date, created_by)
SELECT (k - 1) % :companies + 1,
       CASE WHEN k % 3 = 0 THEN 5000 + k ELSE -(1000 + k) END,
       'RON', format('Numerar %s', k), current_date - k % 20, NULL
FROM generate_series(1, 2000) AS k;

SELECT setval(pg_get_serial_sequence('companies', 'id'), :companies);
SELECT setval(pg_get_serial_sequence('users', 'id'), 1000);

-- What autovacuum does to a live database soon after a bulk load: statistics,
-- and the visibility map that lets the dashboard read invoice totals from its
-- index alone (invoices_company_totals).
VACUUM ANALYZE;
