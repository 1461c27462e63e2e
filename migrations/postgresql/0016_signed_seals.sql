-- depends: 0015_settlement_lines
-- Signed daily heads (DailySeal.Sealed version 3): the head as signed (canonical JSON) and its
-- Ed25519 signature, for /v1/seals and the log of heads. Null for a seal sealed unsigned.
ALTER TABLE daily_seals ADD COLUMN head text;
ALTER TABLE daily_seals ADD COLUMN signature text;
