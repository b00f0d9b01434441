-- pgbench script: the SQL one `/dashboard` update executes, statement for
-- statement, for deploy/bench.sh to measure the database's own ceiling.
--
-- IT MUST MIRROR THE CODE: src/front/bot/webhook.rs `apply` for a command
-- that only reads, in the private chat: one statement, `read_update` of
-- src/front/bot/webhook/claim.rs (schema.sql: the chat's advisory lock in
-- shared mode, today's date, the account with its active company, and with
-- `_dashboard` true that company's `dashboard_figures`, which
-- handlers/dashboard.rs then shows). Nothing is claimed or stored: the script
-- writes nothing (deploy/bench.sh checks that no id was claimed). Change one,
-- change this.
--
-- The ids come from the data set's numbering (deploy/bench/data.sql). The
-- column aliases lose sqlx's `!` (a type hint only).
\set uid random(1, 1000)
\set tg 7000000000 + :uid
SELECT today, user_id, language, active_company_id, company_id, company_name, company_cui,
       company_currency, role, section, currency, count, total, paid, outstanding, overdue,
       overdue_count
FROM read_update(:tg, :tg, true);
