package drive

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"travelkit/remote"
)

// RemotesDir holds a kit's remotes inside the encrypted volume: NAME.toml each, with
// the credentials to reach it (never on the tools partition).
const RemotesDir = MetaDir + "/remotes"

// ErrNoRemote says a kit has no remote of that name.
var ErrNoRemote = errors.New("no such remote")

func remotePath(name string) string { return RemotesDir + "/" + name + ".toml" }

// Remotes reads the kit's remotes, sorted by name.
func (u *Unlocked) Remotes() ([]*remote.Settings, error) {
	ents, err := u.FS.ReadDir(RemotesDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading %s: %w", RemotesDir, err)
	}
	var out []*remote.Settings
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name, ".toml") {
			continue
		}
		s, err := u.Remote(strings.TrimSuffix(e.Name, ".toml"))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Remote reads one remote.
func (u *Unlocked) Remote(name string) (*remote.Settings, error) {
	if err := remote.ValidName(name); err != nil {
		return nil, err
	}
	st, err := u.FS.Stat(remotePath(name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w %q", ErrNoRemote, name)
		}
		return nil, err
	}
	if st.Size > 256<<10 {
		return nil, fmt.Errorf("%s is too large for a remote's settings", remotePath(name))
	}
	b, err := u.FS.ReadFile(remotePath(name))
	if err != nil {
		return nil, err
	}
	s, err := remote.ParseSettings(b)
	clear(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", remotePath(name), err)
	}
	if s.Name != name {
		return nil, fmt.Errorf("%s names the remote %q", remotePath(name), s.Name)
	}
	return s, nil
}

// SaveRemote writes a remote's settings (replacing them).
func (u *Unlocked) SaveRemote(s *remote.Settings) error {
	if err := remote.ValidName(s.Name); err != nil {
		return err
	}
	b, err := s.Marshal()
	if err != nil {
		return err
	}
	defer clear(b)
	if err := u.FS.MkdirAll(RemotesDir); err != nil {
		return err
	}
	return u.FS.WriteFile(remotePath(s.Name), bytes.NewReader(b), int64(len(b)), time.Now())
}

// RemoveRemote removes a remote's settings.
func (u *Unlocked) RemoveRemote(name string) error {
	if _, err := u.Remote(name); err != nil {
		return err
	}
	return u.FS.Remove(remotePath(name))
}
