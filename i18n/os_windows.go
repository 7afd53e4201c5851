package i18n

import "golang.org/x/sys/windows"

// userLanguages are the user's display languages in order ("fa-IR", "en-US"), from
// GetUserPreferredUILanguages.
func userLanguages() []string {
	l, err := windows.GetUserPreferredUILanguages(windows.MUI_LANGUAGE_NAME)
	if err != nil {
		return nil
	}
	return l
}
