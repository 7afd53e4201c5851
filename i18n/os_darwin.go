package i18n

import (
	"context"
	"os/exec"
	"time"
)

// userLanguages are the languages of System Settings > Language & Region, in order, as
// `defaults read -g AppleLanguages` prints them. A program started from the Finder has
// no LANG, so this is what a double-click sees.
func userLanguages() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/defaults", "read", "-g", "AppleLanguages").Output()
	if err != nil {
		return nil
	}
	return parseAppleLanguages(string(out))
}
