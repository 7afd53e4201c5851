// Package rsscheck runs part of a test in a child process (the test binary itself) and
// reports the child's peak resident memory as the kernel counted it, so that a test can
// assert a memory bound on whatever crafted input it grows. A watchdog stops a child well
// above the bound, so that a regression fails the test without exhausting the shared
// machine (Linux only). AllocCap bounds what one call allocates in the test's own
// process, on every OS. For tests only.
//
// Imports: internal packages only. Today it imports none.
package rsscheck
