//go:build !unix && !windows

package luks

import "time"

// cpuTime is not available here; calibration falls back to wall time.
func cpuTime() time.Duration { return 0 }
