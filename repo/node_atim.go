//go:build linux || openbsd

package repo

import (
	"syscall"
	"time"
)

func statTimes(st *syscall.Stat_t) (atime, ctime time.Time) {
	return timespecTime(st.Atim), timespecTime(st.Ctim)
}
