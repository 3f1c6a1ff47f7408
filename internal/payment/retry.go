package payment

import (
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// A refund the vendor refused (status failed: a closed card, the account
// short of funds, a vendor outage answering "failed") is retried as a new
// refund of the same amount under a new refund number — the vendors treat
// a failed refund number as final — linked to the failed one (RetryOf).
// Each failed refund is retried at most once (a unique key on RetryOf), so
// the leader's automatic retry and staff's button racing make one refund.
// The leader retries after RetryBackoff(attempt) up to MaxAutoAttempts
// attempts in all; after that only staff retry, by hand.
const MaxAutoAttempts = 5

// RetryBackoff is how long after the attempt-th try failed the leader
// tries again: 1 min, 5 min, 30 min, 2 h.
func RetryBackoff(attempt int) time.Duration {
	steps := []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}
	if attempt < 1 {
		attempt = 1
	}
	return steps[min(attempt, len(steps))-1]
}

// RetryActor is who the leader's retries are by.
const RetryActor = "system:refund-retry"

// ErrNotRetryable refuses to retry a refund that did not fail (or that is
// not the order's).
var ErrNotRetryable = apperr.New(apperr.Conflict, "refund_not_retryable", "只能重试退款失败的退款", "Only a refund the provider refused can be retried.")
