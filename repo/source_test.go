package repo

import (
	"errors"
	"os"
	"testing"
)

// checkOpened's decision: a regular file is read, through a second handle
// when it is a reparse point (Windows' deduplicated files); anything else is
// refused with NotRegularError.
func TestCheckOpened(t *testing.T) {
	for _, c := range []struct {
		mode   os.FileMode
		attrs  uint32
		reopen bool
		refuse bool
	}{
		{0o644, 0, false, false},
		{0o644, fileAttributeReparsePoint, true, false},
		{0o444, 0x20 | 0x1, false, false}, // archive, read-only
		{os.ModeSymlink | 0o666, fileAttributeReparsePoint, false, true},
		{os.ModeIrregular | 0o666, fileAttributeReparsePoint, false, true},
		{os.ModeDir | 0o777, 0x10, false, true},
		{os.ModeNamedPipe | 0o600, 0, false, true},
		{os.ModeDevice | os.ModeCharDevice | 0o666, 0, false, true},
	} {
		reopen, err := checkOpened("p", c.mode, c.attrs)
		var nr *NotRegularError
		if reopen != c.reopen || (err != nil) != c.refuse || err != nil && (!errors.As(err, &nr) || nr.Mode != c.mode) {
			t.Errorf("checkOpened(%v, %#x): reopen %v, %v; want reopen %v, refused %v", c.mode, c.attrs, reopen, err, c.reopen, c.refuse)
		}
	}
}
