package i18n

import "strings"

// parseAppleLanguages reads the property list `defaults read -g AppleLanguages` prints,
//
//	(
//	    "fa-IR",
//	    "en-US"
//	)
//
// into its items. It is in every build so that its test runs everywhere.
func parseAppleLanguages(s string) []string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "(")
	s = strings.TrimSuffix(s, ")")
	var out []string
	for _, item := range strings.Split(s, ",") {
		item = strings.Trim(strings.TrimSpace(item), `"`)
		if item != "" && len(out) < 32 {
			out = append(out, item)
		}
	}
	return out
}
