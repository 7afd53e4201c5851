package drive

import (
	"fmt"

	"travelkit/kit"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	KitID       string           `json:"kit_id,omitempty"`
	LUKSUUID    string           `json:"luks_uuid,omitempty"`
	Trusted     bool             `json:"checked_against_trusted_copy"`
	OK          bool             `json:"ok"`
	Differences []kit.Difference `json:"differences,omitempty"`
	Problems    []string         `json:"problems,omitempty"`
}

// Verify checks the kit's LUKS2 header copies and every file of its tools partition.
// With u (the unlocked volume) the tools partition is compared with the copy of its
// manifest kept inside the encrypted volume, which nobody can change without a key;
// without, only with its own manifest, which finds damage but not a careful attacker.
// Problems go into the report; an error is returned only when the check could not run.
func (d *Drive) Verify(u *Unlocked) (*VerifyReport, error) {
	rep := &VerifyReport{}
	c, err := d.Container()
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return rep, nil
	}
	rep.LUKSUUID = c.UUID()
	if c.NeedsRepair() {
		rep.Problems = append(rep.Problems, "a LUKS2 header copy is damaged or stale (repair it with travelkit luks repair on the data partition)")
	}
	tree, err := d.ToolsTree()
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return rep, nil
	}
	var man, sums []byte
	if u == nil {
		fs, _ := d.ToolsFS()
		if man, err = fs.ReadFile(kit.ManifestName, kit.MaxManifestSize); err == nil {
			sums, err = fs.ReadFile(kit.SumsName, kit.MaxManifestSize)
		}
		if err != nil {
			rep.Problems = append(rep.Problems, "the tools partition has no manifest.json or SHA256SUMS: "+err.Error())
			return rep, nil
		}
	} else {
		rep.Trusted = true
		if man, err = u.FS.ReadFile(MetaDir + "/" + kit.ManifestName); err == nil {
			sums, err = u.FS.ReadFile(MetaDir + "/" + kit.SumsName)
		}
		if err != nil {
			rep.Problems = append(rep.Problems, "the encrypted volume has no trusted manifest copy (travelkit/manifest.json): "+err.Error())
			return rep, nil
		}
	}
	m, err := kit.ParseManifest(man)
	if err != nil {
		rep.Problems = append(rep.Problems, "manifest: "+err.Error())
		return rep, nil
	}
	rep.KitID = m.KitID
	if m.LUKSUUID != c.UUID() {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the manifest names LUKS UUID %s, the drive has %s", m.LUKSUUID, c.UUID()))
	}
	r, err := kit.Verify(tree, man, sums)
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return rep, nil
	}
	rep.Differences = r.Problems()
	rep.OK = len(rep.Problems) == 0 && r.OK()
	return rep, nil
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
