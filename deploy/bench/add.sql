-- pgbench script: the SQL one `/add` update executes, statement for
-- statement, for deploy/bench.sh's mixed load (`-f dashboard.sql@9 -f
-- add.sql@1`: 90 % reads, 10 % writes, as `webhook-load --adds-percent 10`).
--
-- IT MUST MIRROR THE CODE: src/front/bot/webhook.rs `apply` for a command
-- that may write: a transaction (sqlx's BEGIN; ledgerbot sends it in the
-- claim's flight and the COMMIT in the stored answer's, pgbench each on its
-- own), `claim_update` of
-- src/front/bot/webhook/claim.rs (the chat's advisory lock held to the
-- commit, the claim of the update id, today's date, the account with its
-- active company), handlers/add.rs through `cash::record`
-- (src/services/finance/cash.rs: the INSERT, whose statement-level trigger
-- keeps the month's cash totals), the answer stored for a retry, and the
-- commit, durable (`synchronous_commit` as the server has it: on). No
-- outbox row: `/add` has one reply, the webhook's answer. Change one,
-- change this.
--
-- Writers only: users 1-600 are owners and accountants (deploy/bench/data.sql).
-- The update ids are random above the webhook load's (which count up from
-- 1): a repeat is as unlikely as not to matter, and deploy/bench.sh checks
-- that every transaction claimed its id and recorded one entry. Needs
-- `-M prepared` (the \gset variables go in as parameters, typed by the
-- statement); the stored answer is a typical one in length.
\set uid random(1, 600)
\set tg 7000000000 + :uid
\set update_id random(1000000000000, 999999999999999)
BEGIN;
SELECT claimed, today, response, user_id, language, active_company_id, company_id, company_name,
       company_cui, company_currency, role
FROM claim_update(:update_id, :tg, :tg, false) \gset
INSERT INTO cash_entries
     (company_id, amount_minor, currency, note, entry_date, created_by, telegram_update_id)
 VALUES (:company_id, -1250, :company_currency, 'bench', :today, :user_id, :update_id)
 ON CONFLICT (telegram_update_id) DO NOTHING
 RETURNING id;
UPDATE telegram_updates SET response = '{"method":"sendMessage","chat_id":7000000001,"text":"Recorded an expense of <b>12.50 RON</b>: bench (Firma 1 SRL).","parse_mode":"HTML","reply_markup":{"inline_keyboard":[[{"text":"↩️ Undo","callback_data":"cu:123456"}]]}}' WHERE update_id = :update_id;
COMMIT;
