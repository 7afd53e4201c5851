package drive

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParseRetire: the retire list is read from the encrypted volume's trusted state; a
// damaged one gives an error, and what is accepted survives a rewrite unchanged.
func FuzzParseRetire(f *testing.F) {
	s := &State{Retire: []int{0, 3, 31}, RetireRepoKeys: []string{strings.Repeat("0a", 32)}}
	f.Add(s.marshalRetire())
	f.Add([]byte("keyslot 32\n"))
	f.Add([]byte("repo-key " + strings.Repeat("A", 64) + "\n\n  \nkeyslot -1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s State
		if err := s.parseRetire(b); err != nil {
			return
		}
		for _, k := range s.Retire {
			if k < 0 || k >= 32 {
				t.Fatalf("keyslot %d accepted", k)
			}
		}
		var again State
		if err := again.parseRetire(s.marshalRetire()); err != nil || !slices.Equal(again.Retire, s.Retire) || !slices.Equal(again.RetireRepoKeys, s.RetireRepoKeys) {
			t.Fatalf("accepted retire list changed in a rewrite: %v", err)
		}
	})
}
