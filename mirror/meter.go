package mirror

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Meter counts the bytes sent to a server and, with a limit, keeps their rate under it:
// a bandwidth cap for a shared or metered link. Every connection of a copy shares one
// Meter, so the cap holds for all of them together.
type Meter struct {
	limit float64 // bytes per second; 0: none
	sent  atomic.Int64

	mu   sync.Mutex
	next time.Time // when the bytes granted so far have been sent at the capped rate
}

// burst is how far ahead of the capped rate sending may run (about one chunk per
// connection), so that small reads do not each wait.
const burst = 256 << 10

// NewMeter returns a meter capping the rate at limit bytes per second (0: no cap).
func NewMeter(limit int64) *Meter { return &Meter{limit: float64(max(0, limit))} }

// Throttle is called before n more bytes are sent: it counts them and, under a cap,
// waits until sending them keeps the rate at or under it.
func (m *Meter) Throttle(ctx context.Context, n int) error {
	m.sent.Add(int64(n))
	if m.limit <= 0 {
		return nil
	}
	m.mu.Lock()
	now := time.Now()
	if m.next.Before(now) {
		m.next = now
	}
	m.next = m.next.Add(time.Duration(float64(n) / m.limit * float64(time.Second)))
	wait := m.next.Sub(now) - time.Duration(burst/m.limit*float64(time.Second))
	m.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sent is the number of bytes sent so far (including those of failed attempts).
func (m *Meter) Sent() int64 { return m.sent.Load() }
