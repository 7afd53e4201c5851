//go:build !windows && !darwin

package i18n

// userLanguages: on Linux and the BSDs the environment (LANG, LANGUAGE) is the user's
// setting; there is nothing else to ask.
func userLanguages() []string { return nil }
