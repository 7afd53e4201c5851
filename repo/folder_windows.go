package repo

// syncDir does nothing on Windows, as in restic: FlushFileBuffers refuses a
// folder's handle ("Access denied"), and NTFS journals a rename itself.
func syncDir(dir string) error { return nil }

// setReadOnly leaves the file as it is on Windows, as restic does: the
// read-only attribute only stands in the way of removing it later.
func setReadOnly(p string) error { return nil }
