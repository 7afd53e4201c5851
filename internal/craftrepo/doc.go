// Package craftrepo writes restic-format repositories (format version 2) byte by byte,
// independently of package repo, so that tests can make hostile ones: every size, name,
// count and compressed stream is the caller's choice. It follows restic's doc/design.rst
// and shares no code with package repo, so a bug in one is not hidden by the other.
//
// It is for tests only; nothing in the shipped program imports it.
//
// Imports: internal packages only. Today it imports none; never repo, which it tests.
package craftrepo
