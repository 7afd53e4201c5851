package drive

import (
	"travelkit/image/ext4"
	"travelkit/luks"
)

// SetOpenEarlyFS replaces how UnlockEarly opens its candidate's file system, until the
// returned function restores it.
func SetOpenEarlyFS(f func(v *luks.Volume, o ext4.Options) (*ext4.FS, error)) (restore func()) {
	old := openEarlyFS
	openEarlyFS = f
	return func() { openEarlyFS = old }
}
