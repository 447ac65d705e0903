package proxy

import (
	"context"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// quotaRetry is how soon a failed usage reading is tried again (for
// example before the first sign-in).
const quotaRetry = time.Minute

// kickQuota asks pollQuota to read the quota now (coalesced); the relay
// calls it after a usage-limit answer.
func (c *Core) kickQuota() {
	select {
	case c.quotaKick <- struct{}{}:
	default:
	}
}

// pollQuota reads GET {base}/wham/usage as the Codex CLI does: at start,
// every cfg.QuotaRefresh, and at once after a usage-limit answer. The
// reading is merged into the status quota with the response headers'.
func (c *Core) pollQuota(ctx context.Context) {
	if c.cfg.QuotaRefresh <= 0 {
		return
	}
	for {
		wait := c.cfg.QuotaRefresh
		if err := c.readQuota(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Debug("quota reading failed", "err", err)
			wait = min(wait, quotaRetry)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-c.quotaKick:
			t.Stop()
		case <-t.C:
		}
	}
}

func (c *Core) readQuota(ctx context.Context) error {
	account := c.status.Account() // a sign-out while reading drops the reading
	creds, err := c.auth.Credentials(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	body, _, err := c.client.Usage(ctx, creds)
	if err != nil {
		return err
	}
	q, err := upstream.ParseUsage(body, time.Now())
	if err != nil {
		return err
	}
	c.status.SetQuota(account, q)
	return nil
}
