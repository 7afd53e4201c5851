// Package testutil holds helpers shared by the image tests.
//
// Imports: internal packages only. Today it imports none.
package testutil
