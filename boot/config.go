package boot

import (
	"encoding/json"
	"fmt"
	"time"
)

// ConfigPath is where the initramfs carries its Config.
const ConfigPath = "/etc/travelkit/boot.json"

// FontDir is where the initramfs carries console fonts.
const FontDir = "/usr/share/consolefonts"

// ScreenFontDir is where the initramfs carries the fonts the menu draws with on a
// framebuffer (the bundle's boot/fonts/*.ttf: Arabic and Persian need them).
const ScreenFontDir = "/usr/share/fonts/travelkit"

// Config tells the boot environment what it was built for. It holds no secret.
type Config struct {
	KitID         string    `json:"kit_id"`
	Created       time.Time `json:"created"`
	Languages     []string  `json:"languages"`          // menu languages, first is the default
	Modules       []string  `json:"modules"`            // absolute paths in the initramfs, load order
	Fonts         []string  `json:"fonts"`              // absolute paths; the first that loads is used
	ScreenFonts   []string  `json:"screen_fonts"`       // absolute paths of TrueType fonts, all used
	KernelVersion string    `json:"kernel_version"`     // for the first screen and the logs
	Version       string    `json:"travelkit_version"`  // of the binary inside
	Bundle        []Package `json:"packages,omitempty"` // what the boot chain came from
}

// ParseConfig reads the initramfs config (bounded: it is only ever our own, but the
// environment must not panic on a damaged one).
func ParseConfig(b []byte) (*Config, error) {
	if len(b) > maxManifestSize {
		return nil, fmt.Errorf("%s: too large", ConfigPath)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigPath, err)
	}
	if len(c.Modules) > maxFiles || len(c.Bundle) > maxFiles || len(c.Fonts) > 16 || len(c.ScreenFonts) > 16 || len(c.Languages) > 16 {
		return nil, fmt.Errorf("%s: too many entries", ConfigPath)
	}
	return &c, nil
}
