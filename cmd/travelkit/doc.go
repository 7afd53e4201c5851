// Command travelkit turns a USB drive into an encrypted travel kit. See README.md.
//
// Imports: any package of travelkit but the test helpers (internal/layering's test checks
// that the binary depends on none of them).
package main
