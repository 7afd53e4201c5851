package i18n_test

import (
	"slices"
	"testing"

	"travelkit/i18n"
	"travelkit/kit"
)

// The kit's RESTORE pages and the catalogue speak the same languages.
func TestLanguagesAreTheKits(t *testing.T) {
	if !slices.Equal(i18n.Languages(), kit.Languages()) {
		t.Errorf("i18n.Languages() = %v, kit.Languages() = %v", i18n.Languages(), kit.Languages())
	}
}
