//go:build unix

package luks

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system, all threads) the process has used. Calibration
// measures it rather than wall time, as cryptsetup does, so that a busy machine does not
// make the KDF too cheap.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
