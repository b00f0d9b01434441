-- pgbench script: the SQL one `/dashboard` update executes, statement for
-- statement, for deploy/bench.sh to measure the database's own ceiling.
--
-- IT MUST MIRROR THE CODE: src/webhook.rs `apply` for a command that only
-- reads (no transaction around it, no reply stored): the claim of
-- src/webhook/claim.rs (`claim_update` in schema.sql: the chat's advisory
-- lock, the claim, today's date, the account with its active company), then
-- the handler, here handlers/dashboard.rs → src/finance/dashboard.rs
-- `compute`. Change one, change this.
--
-- The ids come from the data set's numbering (deploy/bench/data.sql); the
-- company and its currency are read with \gset as the code reads them;
-- `today` and `month_start` (computed in Rust from the claim's date) are
-- passed with -D by deploy/bench.sh. sqlx declares parameter types (a `Date`
-- is sent as `date`); pgbench lets the server infer them, hence the `::date`
-- casts where inference would pick another type. The claim's column aliases
-- lose sqlx's `!` (a type hint only) so that \gset can name variables after
-- them.
-- The claim's last argument is `_reads_only`: true, as the code passes it for
-- a command that only reads (its claim commits without waiting for the disk).
\set uid random(1, 1000)
\set tg 7000000000 + :uid
-- Unique update ids, far above the load generator's: a collision in 8e18
-- values is not expected (deploy/bench.sh checks the rows claimed).
\set upd random(1000000000000000000, 9000000000000000000)
SELECT claimed, today, response, user_id, language, active_company_id,
       company_id, company_name, company_cui, company_currency AS currency, role
FROM claim_update(:upd, :tg, :tg, true) \gset
SELECT section AS "section!", currency AS "currency!", count AS "count!",
                  total AS "total!", paid AS "paid!",
                  overdue AS "overdue!", overdue_count AS "overdue_count!"
           FROM (
               SELECT 'treasury' AS section, currency, count(*) AS count,
                      sum(balance_minor)::int8 AS total, 0::int8 AS paid,
                      0::int8 AS overdue, 0::int8 AS overdue_count
               FROM treasury_accounts WHERE company_id = :company_id
               GROUP BY currency
               UNION ALL
               SELECT direction, currency, count(*),
                      sum(total_minor)::int8, sum(paid_minor)::int8,
                      coalesce(sum(total_minor - paid_minor) FILTER (WHERE due_date < :today::date), 0)::int8,
                      count(*) FILTER (WHERE paid_minor < total_minor AND due_date < :today::date)
               FROM invoices WHERE company_id = :company_id
               GROUP BY direction, currency
               UNION ALL
               SELECT 'cash', currency, count(*),
                      coalesce(sum(amount_minor) FILTER (WHERE amount_minor > 0), 0)::int8,
                      coalesce(-sum(amount_minor) FILTER (WHERE amount_minor < 0), 0)::int8,
                      0, 0
               FROM cash_entries
               WHERE company_id = :company_id AND entry_date >= :month_start::date
                 AND entry_date < (:month_start::date + interval '1 month')::date
               GROUP BY currency
           ) AS figures
           ORDER BY section, currency <> :currency, currency;
