// Package memlimit holds the soft memory limit travelkit's commands run under. Go's
// collector lets the heap grow to twice what is live before it collects; near this limit
// it collects sooner instead, so that a command that holds a large index or a deep tree
// stays within the 1 GiB travelkit promises. It is soft: what is really live (a 4 GiB
// Argon2 key derivation of a genuine kit) may exceed it.
//
// Imports: internal packages only. Today it imports none.
package memlimit
