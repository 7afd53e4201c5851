// Package version holds the travelkit version, set at link time.
//
// Imports: internal packages only. Today it imports none.
package version
