// Package boottest writes small synthetic boot bundles for tests that need one without
// Debian's packages (plan, build, verify). A kit built with one does not boot; the
// tests that boot use the real bundle (vmtest.BootBundle).
//
// Imports: boot and internal packages only.
package boottest
