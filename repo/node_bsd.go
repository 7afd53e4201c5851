//go:build darwin || freebsd || netbsd

package repo

import (
	"syscall"
	"time"
)

func statTimes(st *syscall.Stat_t) (atime, ctime time.Time) {
	return timespecTime(st.Atimespec), timespecTime(st.Ctimespec)
}
