-- Tokens die with their app (issue 14). Every access token names the app instance (apps.id) and this
-- generation; moving an app out of ACTIVE bumps it, so tokens issued before stay dead after reactivation.
ALTER TABLE apps ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
