//go:build !killpoints

package killpoint

// Here marks a step boundary.
func Here(name string) {}
