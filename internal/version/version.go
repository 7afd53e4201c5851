// Package version holds the travelkit version, set at link time.
package version

// Version is set with -ldflags "-X travelkit/internal/version.Version=...".
var Version = "dev"
