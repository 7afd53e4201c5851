package drive

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"filippo.io/age"

	"travelkit/kit"
	"travelkit/ssss"
)

// maxEscrowFile bounds an escrow file read from the tools partition (they are a few
// hundred bytes; a post-quantum one a few KiB).
const maxEscrowFile = kit.MaxEscrowSize

// SharesNeededError says that the escrow files and shares given do not reach the escrow
// threshold, how many more are needed, and whose escrow files exist on the kit.
type SharesNeededError struct {
	Need, Have int
	From       []string // colleagues whose shares were given
	Others     []string // colleagues whose escrow files are on the kit and were not opened
}

func (e *SharesNeededError) Error() string {
	more := e.Need - e.Have
	s := "s"
	if more == 1 {
		s = ""
	}
	msg := fmt.Sprintf("%d more share%s needed", more, s)
	if len(e.Others) > 0 {
		msg += ": escrow files exist for " + strings.Join(e.Others, ", ")
	}
	msg += fmt.Sprintf(" (%d of %d given", e.Have, e.Need)
	if len(e.From) > 0 {
		msg += ": " + strings.Join(e.From, ", ")
	}
	return msg + ")"
}

// Escrow is what the kit's tools partition says of its escrow (its own manifest, not
// trusted: it only decides how shares are combined, and a wrong answer opens nothing).
type Escrow struct {
	Threshold int               // 0 when unknown
	Names     map[int]string    // share index -> colleague
	Files     map[string][]byte // escrow/<name>.age -> content
}

// ReadEscrow reads the escrow files and the escrow part of the manifest from the tools
// partition.
func (d *Drive) ReadEscrow() (*Escrow, error) {
	fs, err := d.ToolsFS()
	if err != nil {
		return nil, err
	}
	e := &Escrow{Names: map[int]string{}, Files: map[string][]byte{}}
	if b, err := fs.ReadFile(kit.ManifestName, kit.MaxManifestSize); err == nil {
		if m, err := kit.ParseManifest(b); err == nil {
			e.Threshold = m.EscrowThreshold
			if e.Threshold <= 1 {
				e.Threshold = 1
			}
			for _, x := range m.Escrow {
				if x.Share > 0 {
					e.Names[x.Share] = x.Name
				}
			}
		}
	}
	ents, err := fs.ReadDir("escrow")
	if err != nil {
		return e, nil
	}
	for _, x := range ents {
		if x.IsDir || !strings.HasSuffix(x.Name, ".age") || x.Name == "luks-header.age" || x.Size > maxEscrowFile {
			continue
		}
		if b, err := fs.ReadFile("escrow/"+x.Name, maxEscrowFile); err == nil {
			e.Files[x.Name] = b
		}
	}
	return e, nil
}

// RecoveryKey rebuilds the recovery key from the escrow files the identities open and the
// shares given (decrypted elsewhere, --share-file). One escrow file holding the whole key
// is enough; shares are combined under the kit's threshold. Too few shares give a
// *SharesNeededError naming whose escrow files exist.
func (e *Escrow) RecoveryKey(ids []age.Identity, given []ssss.Share) (string, error) {
	var shares []ssss.Share
	shares = append(shares, given...)
	opened := map[string]bool{}
	names := make([]string, 0, len(e.Files))
	for n := range e.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if len(ids) == 0 {
			break
		}
		c, err := kit.OpenEscrowFile(e.Files[n], ids...)
		if err != nil {
			continue
		}
		if c.Key != "" {
			return c.Key, nil
		}
		opened[strings.TrimSuffix(n, ".age")] = true
		shares = append(shares, c.Share)
	}
	if len(shares) == 0 {
		if len(ids) > 0 {
			return "", ErrNoEscrowOpens
		}
		return "", errors.New("no share given")
	}
	k := e.Threshold
	if k == 1 {
		k = 0 // shares on a kit whose manifest says 1: try every threshold
	}
	key, err := kit.CombineShares(shares, k)
	var more *kit.NeedMoreError
	if errors.As(err, &more) {
		ne := &SharesNeededError{Need: more.Need, Have: more.Have}
		from := map[string]bool{}
		for _, s := range shares {
			if n := e.Names[s.Index]; n != "" {
				from[n] = true
			}
		}
		for n := range from {
			ne.From = append(ne.From, n)
		}
		for _, n := range names {
			name := strings.TrimSuffix(n, ".age")
			if !opened[name] && !from[name] {
				ne.Others = append(ne.Others, name)
			}
		}
		sort.Strings(ne.From)
		return "", ne
	}
	return key, err
}

// ErrNoEscrowOpens means none of the kit's escrow files opens with the identities given.
var ErrNoEscrowOpens = errors.New("none of the escrow files on the tools partition opens with this identity")
