package menu

import (
	"errors"
	"fmt"
	"testing"
)

// TestKeepWarnings: a backup or restore shows the first five warnings, each as "path: error".
func TestKeepWarnings(t *testing.T) {
	var w []string
	warn := keepWarnings(&w)
	for i := range 7 {
		warn(fmt.Sprintf("/home/f%d", i), errors.New("permission denied"))
	}
	if len(w) != 5 || w[0] != "/home/f0: permission denied" || w[4] != "/home/f4: permission denied" {
		t.Fatalf("kept %q, want the first five as path: error", w)
	}
}
