package remote

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Settings are one remote of a kit: its name, where it is, and the credentials to
// reach it. They live inside the kit's encrypted volume (travelkit/remotes/NAME.toml),
// never on the tools partition.
type Settings struct {
	Name     string
	Location Location
	Cred     Credentials
	Added    time.Time
}

// settingsFile is the TOML form.
type settingsFile struct {
	Name        string    `toml:"name"`
	Location    string    `toml:"location"`
	Added       time.Time `toml:"added"`
	HostKey     string    `toml:"host_key,omitempty"`
	CACert      string    `toml:"ca_cert,omitempty"`
	Credentials struct {
		AccessKeyID     string `toml:"aws_access_key_id,omitempty"`
		SecretAccessKey string `toml:"aws_secret_access_key,omitempty"`
		SessionToken    string `toml:"aws_session_token,omitempty"`
		Region          string `toml:"aws_default_region,omitempty"`
		RESTUser        string `toml:"rest_username,omitempty"`
		RESTPassword    string `toml:"rest_password,omitempty"`
		SSHUser         string `toml:"ssh_user,omitempty"`
		SSHKey          string `toml:"ssh_key,omitempty"`
		SSHPassword     string `toml:"ssh_password,omitempty"`
	} `toml:"credentials"`
}

// maxSettings bounds a settings file.
const maxSettings = 256 << 10

// ValidName checks a remote's name: a short word that is also a file name everywhere.
func ValidName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("a remote's name has 1 to 64 characters")
	}
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.' && i > 0) {
			return fmt.Errorf("remote name %q: use letters, digits, '-', '_' and '.'", name)
		}
	}
	return nil
}

// Marshal writes the settings as TOML.
func (s *Settings) Marshal() ([]byte, error) {
	var f settingsFile
	f.Name, f.Location, f.Added = s.Name, s.Location.String(), s.Added.UTC().Truncate(time.Second)
	f.HostKey, f.CACert = s.Cred.HostKey, string(s.Cred.CACert)
	c := &f.Credentials
	c.AccessKeyID, c.SecretAccessKey, c.SessionToken, c.Region = s.Cred.AccessKeyID, s.Cred.SecretAccessKey, s.Cred.SessionToken, s.Cred.Region
	switch s.Location.Kind {
	case REST:
		c.RESTUser, c.RESTPassword = s.Cred.Username, s.Cred.Password
	case SFTP:
		c.SSHUser, c.SSHKey, c.SSHPassword = s.Cred.Username, string(s.Cred.SSHKey), s.Cred.Password
	}
	var b bytes.Buffer
	b.WriteString("# A remote of this kit: where `travelkit copy` sends its backups. Inside the\n# encrypted volume only; it holds credentials.\n")
	if err := toml.NewEncoder(&b).Encode(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ParseSettings reads a settings file; unknown keys are errors.
func ParseSettings(b []byte) (*Settings, error) {
	if len(b) > maxSettings {
		return nil, fmt.Errorf("remote settings larger than %d KiB", maxSettings>>10)
	}
	var f settingsFile
	md, err := toml.Decode(string(b), &f)
	if err != nil {
		return nil, fmt.Errorf("remote settings: %v", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("remote settings: unknown key %q", strings.Join(keys, ", "))
	}
	if err := ValidName(f.Name); err != nil {
		return nil, err
	}
	loc, err := ParseLocation(f.Location)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", f.Name, err)
	}
	if f.HostKey != "" && !strings.HasPrefix(f.HostKey, "SHA256:") {
		return nil, errors.New("remote settings: host_key must be a SHA256: fingerprint")
	}
	s := &Settings{Name: f.Name, Location: loc, Added: f.Added}
	c := f.Credentials
	s.Cred = Credentials{
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Region: c.Region,
		HostKey: f.HostKey, CACert: []byte(f.CACert),
	}
	switch loc.Kind {
	case REST:
		s.Cred.Username, s.Cred.Password = c.RESTUser, c.RESTPassword
	case SFTP:
		s.Cred.Username, s.Cred.Password, s.Cred.SSHKey = c.SSHUser, c.SSHPassword, []byte(c.SSHKey)
	}
	if len(s.Cred.CACert) == 0 {
		s.Cred.CACert = nil
	}
	if len(s.Cred.SSHKey) == 0 {
		s.Cred.SSHKey = nil
	}
	return s, nil
}

// Public describes the settings without any secret: for `remote list`.
type Public struct {
	Name        string    `json:"name"`
	Kind        Kind      `json:"kind"`
	Location    string    `json:"location"`
	Added       time.Time `json:"added"`
	HostKey     string    `json:"host_key,omitempty"`
	CACert      bool      `json:"private_ca,omitempty"`
	Credentials []string  `json:"credentials,omitempty"` // which kinds are stored, never their values
}

// Public returns what may be shown of the settings.
func (s *Settings) Public() Public {
	p := Public{Name: s.Name, Kind: s.Location.Kind, Location: s.Location.String(), Added: s.Added,
		HostKey: s.Cred.HostKey, CACert: len(s.Cred.CACert) > 0}
	if s.Cred.AccessKeyID != "" {
		p.Credentials = append(p.Credentials, "S3 access key")
	}
	if s.Location.Kind == REST && s.Cred.Password != "" {
		p.Credentials = append(p.Credentials, "REST password")
	}
	if len(s.Cred.SSHKey) > 0 {
		p.Credentials = append(p.Credentials, "SSH key")
	}
	if s.Location.Kind == SFTP && s.Cred.Password != "" {
		p.Credentials = append(p.Credentials, "SSH password")
	}
	return p
}
