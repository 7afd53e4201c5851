package register

import (
	"slices"
	"strings"
	"time"

	"travelkit/i18n"
	"travelkit/internal/version"
)

// Kit is what the register says of one kit: its latest event, and what is due.
type Kit struct {
	Last     Event    `json:"last"`   // the latest event
	Events   int      `json:"events"` // how many events the register holds for it
	KeysDue  bool     `json:"keys_due"`
	ToolsDue bool     `json:"tools_due"`
	Erased   bool     `json:"erased,omitempty"`  // the last event was an erase: revival pending
	Reasons  []string `json:"reasons,omitempty"` // in English
	// ReasonMessages are the Reasons, for any language.
	ReasonMessages []i18n.Message `json:"-"`
	latestOrder    int
}

// Kits folds events into kits: one per LUKS UUID (a kit keeps its UUID over its life);
// when a kit_id was built again (a new UUID), only the newest kit of that id is kept.
func Kits(events []Event) []Kit {
	byUUID := map[string]*Kit{}
	var order []string
	for i, e := range events {
		key := e.LUKSUUID
		if key == "" {
			key = "kit:" + e.KitID
		}
		k := byUUID[key]
		if k == nil {
			k = &Kit{}
			byUUID[key] = k
			order = append(order, key)
		}
		k.Events++
		if k.Events == 1 || !e.Date.Before(k.Last.Date) {
			k.Last, k.latestOrder = e, i
		}
	}
	newest := map[string]*Kit{}
	for _, key := range order {
		k := byUUID[key]
		if n := newest[k.Last.KitID]; n == nil || k.Last.Date.After(n.Last.Date) || k.Last.Date.Equal(n.Last.Date) && k.latestOrder > n.latestOrder {
			newest[k.Last.KitID] = k
		}
	}
	var out []Kit
	for _, key := range order {
		k := byUUID[key]
		if newest[k.Last.KitID] == k {
			out = append(out, *k)
		}
	}
	slices.SortStableFunc(out, func(a, b Kit) int { return strings.Compare(a.Last.KitID, b.Last.KitID) })
	return out
}

// Check marks what is due in each kit, at now, for a renewal period and the running
// travelkit's version: the recovery key when it was made before now-period; the tools when
// they were written before now-period or are older than the running travelkit.
func Check(kits []Kit, p Period, now time.Time, running string) []Kit {
	cut := p.Before(now)
	en := i18n.New("en")
	out := make([]Kit, len(kits))
	for i, k := range kits {
		k.KeysDue, k.ToolsDue, k.Reasons, k.ReasonMessages = false, false, nil, nil
		reason := func(key string, args ...any) {
			m := i18n.M(key, args...)
			k.ReasonMessages = append(k.ReasonMessages, m)
			k.Reasons = append(k.Reasons, m.In(en))
		}
		e := k.Last
		k.Erased = e.Event == Erase
		if k.Erased {
			reason("cli.register.reason_erased", day(e.Date))
		}
		if !e.RecoveryKeyRotated.IsZero() && e.RecoveryKeyRotated.Before(cut) {
			k.KeysDue = true
			reason("cli.register.reason_keys", day(e.RecoveryKeyRotated), p.String(), "travelkit keys rotate-recovery")
		}
		if !e.ToolsWritten.IsZero() && e.ToolsWritten.Before(cut) {
			k.ToolsDue = true
			reason("cli.register.reason_tools", day(e.ToolsWritten), p.String(), "travelkit refresh")
		}
		if c, ok := version.Compare(e.Version, running); ok && c < 0 {
			k.ToolsDue = true
			reason("cli.register.reason_version", e.Version, running, "travelkit refresh")
		}
		out[i] = k
	}
	return out
}

// Due returns the kits with something due.
func Due(kits []Kit) []Kit {
	var out []Kit
	for _, k := range kits {
		if k.KeysDue || k.ToolsDue {
			out = append(out, k)
		}
	}
	return out
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
