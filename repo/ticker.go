package repo

import "time"

// progressEvery calls f every period from its own goroutine until the returned stop is
// called. stop waits for a call in progress, so f never runs after stop returns. With f
// nil nothing runs. Backup and restore report progress through it.
func progressEvery(period time.Duration, f func()) (stop func()) {
	if f == nil {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}
