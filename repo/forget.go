package repo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ForgetPolicy says which snapshots to keep; the rest are removed. Each
// rule keeps the newest snapshot of its last N periods that have one.
type ForgetPolicy struct {
	Last, Daily, Weekly, Monthly int
}

// Empty reports whether the policy keeps nothing explicitly.
func (p ForgetPolicy) Empty() bool {
	return p.Last <= 0 && p.Daily <= 0 && p.Weekly <= 0 && p.Monthly <= 0
}

// ApplyPolicy splits snapshots (of one group) into keep and remove.
func ApplyPolicy(sns []*Snapshot, p ForgetPolicy) (keep, remove []*Snapshot) {
	list := append([]*Snapshot(nil), sns...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Time.After(list[j].Time) })
	type rule struct {
		n   int
		key func(time.Time) string
	}
	rules := []*rule{
		{p.Last, nil},
		{p.Daily, func(t time.Time) string { return t.Format("2006-01-02") }},
		{p.Weekly, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-%02d", y, w) }},
		{p.Monthly, func(t time.Time) string { return t.Format("2006-01") }},
	}
	last := make([]string, len(rules))
	for _, sn := range list {
		k := false
		for i, r := range rules {
			if r.n <= 0 {
				continue
			}
			if r.key == nil {
				r.n--
				k = true
				continue
			}
			v := r.key(sn.Time)
			if v != last[i] {
				last[i] = v
				r.n--
				k = true
			}
		}
		if k {
			keep = append(keep, sn)
		} else {
			remove = append(remove, sn)
		}
	}
	return keep, remove
}

// groupKey groups snapshots by host and paths, as restic does by default.
func groupKey(sn *Snapshot) string {
	p := append([]string(nil), sn.Paths...)
	sort.Strings(p)
	return sn.Hostname + "\x00" + strings.Join(p, "\x00")
}

// ForgetGroup is the outcome for one host+paths group.
type ForgetGroup struct {
	Host   string
	Paths  []string
	Keep   []*Snapshot
	Remove []*Snapshot
}

// Forget removes the snapshots the policy does not keep (grouped by host
// and paths) and returns what it decided. It needs an exclusive lock.
func (r *Repository) Forget(ctx context.Context, p ForgetPolicy, dryRun bool) ([]ForgetGroup, error) {
	if p.Empty() {
		return nil, fmt.Errorf("no policy given: nothing would be kept; say what to keep (--keep-last N, ...)")
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	groups := map[string][]*Snapshot{}
	var order []string
	for _, sn := range sns {
		k := groupKey(sn)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], sn)
	}
	var out []ForgetGroup
	for _, k := range order {
		keep, remove := ApplyPolicy(groups[k], p)
		g := ForgetGroup{Host: groups[k][0].Hostname, Paths: groups[k][0].Paths, Keep: keep, Remove: remove}
		if !dryRun {
			for _, sn := range remove {
				if err := r.st.Remove(ctx, Handle{SnapshotFile, sn.ID.String()}); err != nil {
					return out, fmt.Errorf("failed to remove snapshot %s: %w", sn.ID.Str(), err)
				}
			}
		}
		out = append(out, g)
	}
	return out, nil
}
