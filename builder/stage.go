package builder

import (
	"os"

	"travelkit/drive"
	"travelkit/kit"
)

// stagingDir is a folder for the binaries a key change carries over (public files, never
// secrets); the caller removes it.
func stagingDir() (string, error) { return os.MkdirTemp("", "travelkit-tools-") }

// staged is what a change takes over from the kit as it is: the tools partition's files
// kept unchanged (binaries, the boot bundle), copied into a staging folder and checked
// against the trusted manifest on the way (see carried), and, from stage, the trusted
// state's escrow files and recovery-key wraps (see copies).
type staged struct {
	dir     string
	carried []File
	copies  map[string][]byte
	wraps   []kit.HeaderWrap
}

// stage takes over everything but the pages, header backups and manifest pair, which
// the change makes anew: the carried files and the escrow files with their wraps. The
// caller defers remove.
func (s *Session) stage(base *drive.State) (*staged, error) {
	st, err := s.stageCarried(base.Manifest)
	if err != nil {
		return nil, err
	}
	if st.copies, st.wraps, _, err = s.copies(base); err != nil {
		st.remove()
		return nil, err
	}
	return st, nil
}

// stageCarried takes over the carried files only, for a change that makes new escrow
// files (RotateRecovery). The caller defers remove.
func (s *Session) stageCarried(m *kit.Manifest) (*staged, error) {
	dir, err := stagingDir()
	if err != nil {
		return nil, err
	}
	st := &staged{dir: dir}
	if st.carried, err = s.carried(m, dir); err != nil {
		st.remove()
		return nil, err
	}
	return st, nil
}

// tools is the tools set of the files taken over.
func (st *staged) tools() *toolsSet { return &toolsSet{Copies: st.copies, Extra: st.carried} }

// remove deletes the staging folder (public files only; an error leaves litter in the
// temporary folder, nothing more, so it is dropped).
func (st *staged) remove() { os.RemoveAll(st.dir) }
