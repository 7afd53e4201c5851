//go:build !unix

package repo

import "time"

var processStart = time.Now()

// cpuTime stands in for CPU time with wall time where rusage is missing.
func cpuTime() time.Duration { return time.Since(processStart) }
