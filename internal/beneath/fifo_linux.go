package beneath

import "golang.org/x/sys/unix"

func mkfifoat(dirfd int, name string, mode uint32) error { return unix.Mkfifoat(dirfd, name, mode) }
