//go:build !linux

package wintest

// reportToGo writes to go test's output only on Linux (reruns_linux_test.go).
func reportToGo(string) bool { return false }
