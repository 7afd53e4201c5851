package drive

import (
	"errors"
	"fmt"

	"travelkit/image/fat32"
	"travelkit/internal/version"
	"travelkit/kit"
)

// VerifyReport is what `travelkit verify` finds on a kit. Strings in it come from the
// drive: escape them before printing them on a terminal.
type VerifyReport struct {
	Complete    bool             `json:"complete"`
	KitID       string           `json:"kit_id,omitempty"`
	LUKSUUID    string           `json:"luks_uuid,omitempty"`
	Trusted     bool             `json:"checked_against_trusted_copy"`
	OK          bool             `json:"ok"`
	Differences []kit.Difference `json:"differences,omitempty"`
	Problems    []string         `json:"problems,omitempty"`
	// Interrupted: a refresh or key change did not finish; `travelkit refresh` completes it.
	Interrupted bool `json:"interrupted_change,omitempty"`
	// ToolsVersion is the travelkit version of the kit's tools; ToolsOlder says they are
	// older than the running travelkit.
	ToolsVersion string `json:"tools_version,omitempty"`
	ToolsOlder   bool   `json:"tools_older,omitempty"`
}

// Verify checks a kit as the operating systems that will mount it see it: its partition
// tables (CheckLayout), its LUKS2 header, its tools partition read by the strict FAT32
// reader, and every file against the manifest. With u (the volume unlocked with a
// secret), the manifest is the trusted copy inside the encrypted volume, and the tools
// partition's metadata is also rebuilt from it and compared byte for byte (CheckTools);
// without, the tools partition's own manifest is used, which finds damage but not a
// careful attacker.
//
// Problems go into the report; the error is for callers that need to tell a check that
// could not run (none today: every failure is a problem in the report).
func (d *Drive) Verify(u *Unlocked) (*VerifyReport, error) {
	return d.verify(u), nil
}

func (d *Drive) verify(u *Unlocked) *VerifyReport {
	rep := &VerifyReport{Complete: true}
	rep.Problems = append(rep.Problems, d.CheckLayout()...)
	c, err := d.Container()
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return rep
	}
	rep.LUKSUUID = c.UUID()
	if c.NeedsRepair() {
		rep.Problems = append(rep.Problems, "a LUKS2 header copy is damaged or stale (repair it with travelkit luks repair on the data partition)")
	}
	fs, fsErr := d.ToolsFS()
	var ae *fat32.AmbiguousError
	switch {
	case errors.As(fsErr, &ae):
		for _, p := range ae.Problems {
			rep.Problems = append(rep.Problems, "tools partition: "+p.String())
		}
	case fsErr != nil:
		rep.Complete = false
		rep.Problems = append(rep.Problems, fsErr.Error()+": the tools partition is incomplete (a refresh or key change was interrupted, or the drive is damaged); run travelkit refresh")
	}
	var man, sums []byte
	if u != nil {
		rep.Trusted = true
		cur, pending, err := u.ReadState()
		if err != nil {
			rep.Problems = append(rep.Problems, "the encrypted volume has no usable trusted manifest copy ("+MetaDir+"/"+kit.ManifestName+"): "+err.Error())
			return rep
		}
		st := cur
		if pending != nil {
			st = pending
			rep.Interrupted, rep.Complete = true, false
			rep.Problems = append(rep.Problems, "a refresh or key change was interrupted: the tools partition is incomplete; run travelkit refresh to complete it")
		}
		man, sums = st.ManifestJSON, st.Sums
	} else {
		if fsErr != nil {
			return rep
		}
		if man, err = fs.ReadFile(kit.ManifestName, kit.MaxManifestSize); err == nil {
			sums, err = fs.ReadFile(kit.SumsName, kit.MaxManifestSize)
		}
		if err != nil {
			rep.Problems = append(rep.Problems, "the tools partition has no usable manifest.json or SHA256SUMS: "+err.Error())
			return rep
		}
	}
	m, err := kit.ParseManifest(man)
	if err != nil {
		rep.Problems = append(rep.Problems, "manifest: "+err.Error())
		return rep
	}
	rep.KitID, rep.ToolsVersion = m.KitID, m.Version
	if c, ok := version.Compare(m.Version, version.Version); ok && c < 0 {
		rep.ToolsOlder = true
	}
	if m.LUKSUUID != c.UUID() {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the manifest names LUKS UUID %s, the drive has %s", m.LUKSUUID, c.UUID()))
	}
	if u != nil && (fsErr == nil || ae != nil) {
		mm, err := d.CheckTools(m, man, sums)
		if err != nil {
			rep.Problems = append(rep.Problems, err.Error())
		}
		for _, x := range mm {
			rep.Problems = append(rep.Problems, "tools partition not as travelkit wrote it: "+x.String())
		}
	}
	if fsErr == nil {
		r, err := kit.Verify(fatTree{fs}, man, sums)
		if err != nil {
			rep.Problems = append(rep.Problems, err.Error())
			return rep
		}
		rep.Differences = r.Differences // OS additions too, reported by name
		rep.OK = len(rep.Problems) == 0 && r.OK()
	}
	return rep
}

// Manifest reads the tools partition's own manifest.json (untrusted: for naming the kit
// before it is unlocked).
func (d *Drive) Manifest() (*kit.Manifest, error) {
	fs, err := d.ToolsFS()
	if err != nil {
		return nil, err
	}
	b, err := fs.ReadFile(kit.ManifestName, kit.MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("tools partition: %w", err)
	}
	return kit.ParseManifest(b)
}
