-- Lodestar's database and its two roles on a PostgreSQL server. Run it as a
-- superuser with psql (it uses psql's \gexec and \connect), once or again:
--
--     psql -v ON_ERROR_STOP=1 -f deploy/roles.sql
--
-- then give each role its password in psql with `\password lodestar` and
-- `\password lodestar_viewer` (psql hashes it before it leaves your machine,
-- so the server's log never sees it). `make team` runs this file too.
--
--   lodestar         owns the database: the dashboard's editors and the command
--                    line write through it (LODESTAR_DATABASE_URL). Lodestar
--                    creates and upgrades its tables itself on first use.
--   lodestar_viewer  may read and nothing else: the dashboard's viewers read
--                    through it (LODESTAR_VIEWER_DATABASE_URL), so a write a
--                    page forgot to hide is refused by the server itself.

select format('create role %I login', name)
  from unnest(array['lodestar', 'lodestar_viewer']) as name
 where not exists (select from pg_roles where rolname = name)
\gexec

-- Every transaction of a viewer is read-only, even one that asks otherwise.
alter role lodestar_viewer set default_transaction_read_only = on;

-- Text sorts by code point ('C'), as in DuckDB: the same order of rows on both.
select 'create database lodestar owner lodestar encoding ''UTF8'' locale_provider libc '
       'lc_collate ''C'' template template0'
 where not exists (select from pg_database where datname = 'lodestar')
\gexec

-- Only Lodestar's roles connect to its database.
revoke all on database lodestar from public;
grant connect on database lodestar to lodestar_viewer;

\connect lodestar
revoke all on schema public from public;
grant usage on schema public to lodestar_viewer;
grant select on all tables in schema public to lodestar_viewer;
-- Tables the app creates later (a first start, an upgrade) are readable too.
alter default privileges for role lodestar in schema public grant select on tables to lodestar_viewer;
