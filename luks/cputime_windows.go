package luks

import (
	"time"

	"golang.org/x/sys/windows"
)

// cpuTime is the CPU time (user + kernel, all threads) the process has used, from
// GetProcessTimes. Calibration measures it rather than wall time, as cryptsetup does.
func cpuTime() time.Duration {
	var creation, exit, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(windows.CurrentProcess(), &creation, &exit, &kernel, &user); err != nil {
		return 0
	}
	// FILETIMEs of a duration count 100 ns units
	ticks := func(f windows.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) }
	return time.Duration(ticks(kernel)+ticks(user)) * 100
}
