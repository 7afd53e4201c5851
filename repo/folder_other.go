//go:build !windows

package repo

import (
	"errors"
	"fmt"
	"os"
)

// syncDir makes a folder's new entries durable (a rename into it, say).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("failed to sync %s: %w", dir, err)
	}
	return nil
}

// setReadOnly makes a saved repository file read-only, as restic does.
func setReadOnly(p string) error { return os.Chmod(p, 0o400) }

// openShared opens a file for reading.
func openShared(p string) (*os.File, error) { return os.Open(p) }
