-- (PostgreSQL twin of sqlite/2202_refund_retry.sql) Retrying refunds the vendor refused: a retry is a new refund row of the
-- same amount (new refund number) pointing at the failed one (retry_of,
-- unique: each failed refund is retried once, whoever asks); attempt counts
-- the tries; retry_at is when the leader retries a failed one (NULL: not
-- automatically any more, staff may still).
ALTER TABLE refunds ADD COLUMN attempt BIGINT NOT NULL DEFAULT 1;
ALTER TABLE refunds ADD COLUMN retry_of BIGINT;
ALTER TABLE refunds ADD COLUMN retry_at BIGINT;
CREATE UNIQUE INDEX refunds_retry_of ON refunds(retry_of);
CREATE INDEX refunds_retry_at ON refunds(retry_at);
