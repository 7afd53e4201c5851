package target

import (
	"os"
	"syscall"
)

func usedBytes(st os.FileInfo) int64 { return st.Sys().(*syscall.Stat_t).Blocks * 512 }
