package profile

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"travelkit/image/fat32"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/ssss"
)

// Profile is a parsed and validated kit profile. Sizes are in bytes.
type Profile struct {
	Name      string   // kit id: LUKS2 label, manifest kit_id
	Languages []string // RESTORE pages
	Drive     Drive
	LUKS      LUKS
	Keys      Keys
	Escrow    []Escrow
	Tools     Tools
	TPM       TPM
	Boot      Boot
}

// Drive is the [drive] table.
type Drive struct {
	ToolsSize int64 // bytes of the FAT32 tools partition; the LUKS2 partition takes the rest
}

// LUKS is the [luks] table. Zero costs are calibrated to UnlockTime.
type LUKS struct {
	SectorSize      int           // 512 or 4096
	KeySize         int           // bits: 256 or 512 (aes-xts-plain64)
	PBKDF           string        // argon2id, argon2i or pbkdf2
	UnlockTime      time.Duration // calibration target
	PBKDFMemoryKiB  uint32        // argon2 memory cost; 0: calibrated
	PBKDFIterations uint32        // argon2 passes or pbkdf2 iterations; 0: calibrated
	PBKDFParallel   uint32        // argon2 lanes; 0: min(4, CPUs)
}

// Keys is the [keys] table.
type Keys struct {
	RecoveryKey bool // add a recovery key in keyslot 1
	// EscrowThreshold is how many escrow files rebuild the recovery key: 1 (each holds the
	// whole key) or k > 1 (each holds one ssss share; any k of them rebuild it).
	EscrowThreshold int
}

// Escrow is one [[escrow]] entry: a colleague who gets escrow/<Name>.age.
type Escrow struct {
	Name      string
	Recipient string // age1..., age1pq1... or an ssh public key
}

// Tools is the [tools] table.
type Tools struct {
	Platforms []string // GOOS/GOARCH pairs whose binaries go on the tools partition
}

// Boot is the [boot] table: whether the kit boots computers into its restore and rescue
// menu, and the menu's languages.
type Boot struct {
	// Enable: nil means "when a boot bundle is available"; true requires one.
	Enable *bool
	// Languages of the boot menu, the first being the default; empty: the profile's
	// languages. The menu speaks en, es, fr and ru; ar and fa show English with a note.
	Languages []string
}

// TPM is the [tpm] table.
type TPM struct {
	Enroll bool  // seal a key to this machine's TPM2 at build time
	PCRs   []int // sha256 bank
	PIN    bool  // ask for a PIN
}

// Defaults.
const (
	DefaultToolsSize  = 256 << 20
	DefaultSectorSize = 4096
	DefaultKeySize    = 512
	DefaultPBKDF      = "argon2id"
	DefaultUnlockTime = 2 * time.Second
	MaxNameLength     = 40
)

// New returns a profile with every default and the given name.
func New(name string) *Profile {
	return &Profile{
		Name:      name,
		Languages: []string{"en"},
		Drive:     Drive{ToolsSize: DefaultToolsSize},
		LUKS: LUKS{
			SectorSize: DefaultSectorSize,
			KeySize:    DefaultKeySize,
			PBKDF:      DefaultPBKDF,
			UnlockTime: DefaultUnlockTime,
		},
		Keys:  Keys{RecoveryKey: true, EscrowThreshold: 1},
		Tools: Tools{Platforms: kit.Platforms()},
		TPM:   TPM{Enroll: false, PCRs: []int{7}, PIN: true},
	}
}

// Default is the built-in profile of the README's demo kit: "demo-kit", instructions in
// every language, no escrow, the default costs (the CLI may lower them for a demo).
func Default() *Profile {
	p := New("demo-kit")
	p.Languages = kit.Languages()
	return p
}

// MaxSize bounds a profile file: the example, with every comment, is about 4 KiB; a
// larger file (a device or a log given by mistake, or a crafted one) is refused before it
// is read whole.
const MaxSize = 1 << 20

// Load reads and parses a profile file; errors name the path as given.
func Load(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// FormatOptions turns the [luks] table into the options of luks.Format for a kit's data
// partition (label: the kit name).
func (p *Profile) FormatOptions() luks.FormatOptions {
	return luks.FormatOptions{
		KeySize:    p.LUKS.KeySize / 8,
		SectorSize: p.LUKS.SectorSize,
		Label:      p.Name,
		PBKDF:      p.LUKS.KDF(),
	}
}

// KDF returns the key derivation for new keyslots.
func (l LUKS) KDF() luks.PBKDF {
	return luks.PBKDF{
		Type:       l.PBKDF,
		Iterations: l.PBKDFIterations,
		MemoryKiB:  l.PBKDFMemoryKiB,
		Parallel:   l.PBKDFParallel,
		IterTime:   l.UnlockTime,
	}
}

// Validate checks a profile built in code (Parse validates what it reads, with lines).
func (p *Profile) Validate() error {
	var errs []error
	p.validate(func(_ keyPath, key, msg string) {
		errs = append(errs, fmt.Errorf("%s: %s", key, msg))
	})
	return errors.Join(errs...)
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)

// ValidName checks a kit name: 1 to 40 characters from A-Z a-z 0-9 . _ - (it becomes the
// LUKS2 label and part of file names).
func ValidName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("kit name %q: use 1 to %d letters, digits, '.', '_' or '-'", name, MaxNameLength)
	}
	return nil
}

// validate reports every invalid value; at names the key for Parse to find its line.
func (p *Profile) validate(report func(at keyPath, key, msg string)) {
	if err := ValidName(p.Name); err != nil {
		report(keyPath{"name"}, "name", err.Error())
	}
	if len(p.Languages) == 0 {
		report(keyPath{"languages"}, "languages", "at least one language is needed")
	}
	for i, l := range p.Boot.Languages {
		if err := kit.ValidLanguage(l); err != nil {
			report(keyPath{"boot", "languages"}, "boot.languages", err.Error())
		} else if slices.Index(p.Boot.Languages, l) != i {
			report(keyPath{"boot", "languages"}, "boot.languages", fmt.Sprintf("%q listed twice", l))
		}
	}
	for i, l := range p.Languages {
		if err := kit.ValidLanguage(l); err != nil {
			report(keyPath{"languages"}, "languages", err.Error())
		} else if slices.Index(p.Languages, l) != i {
			report(keyPath{"languages"}, "languages", fmt.Sprintf("%q listed twice", l))
		}
	}
	switch {
	case p.Drive.ToolsSize%(1<<20) != 0:
		report(keyPath{"drive", "tools_size"}, "drive.tools_size", fmt.Sprintf("%d bytes is not a whole number of MiB (partitions are aligned to 1 MiB)", p.Drive.ToolsSize))
	default:
		if _, err := fat32.ChooseGeometry(p.Drive.ToolsSize, 0); err != nil {
			report(keyPath{"drive", "tools_size"}, "drive.tools_size", strings.TrimPrefix(err.Error(), "fat32: "))
		}
	}

	l := p.LUKS
	if l.SectorSize != 512 && l.SectorSize != 4096 {
		report(keyPath{"luks", "sector_size"}, "luks.sector_size", fmt.Sprintf("%d: use 512 or 4096", l.SectorSize))
	}
	if l.KeySize != 256 && l.KeySize != 512 {
		report(keyPath{"luks", "key_size"}, "luks.key_size", fmt.Sprintf("%d: use 512 (AES-256-XTS) or 256 (AES-128-XTS) bits", l.KeySize))
	}
	if l.UnlockTime < 100*time.Millisecond || l.UnlockTime > 5*time.Minute {
		report(keyPath{"luks", "unlock_time"}, "luks.unlock_time", fmt.Sprintf("%v: use 100ms to 5m", l.UnlockTime))
	}
	// The KDF bounds are luks's; here they only get the profile's key names.
	for _, e := range luks.KDFErrors(l.KDF().Validate()) {
		key := map[luks.KDFField]string{
			luks.KDFType: "pbkdf", luks.KDFIterations: "pbkdf_iterations",
			luks.KDFMemory: "pbkdf_memory_kib", luks.KDFParallel: "pbkdf_parallel",
		}[e.Field]
		if key == "" {
			key = "pbkdf" // hash and memory cap: not profile keys, never set by one
		}
		report(keyPath{"luks", key}, "luks."+key, e.Msg)
	}

	seen := map[string]int{}
	for i, e := range p.Escrow {
		at := func(k string) keyPath { return keyPath{"escrow", k}.entry(i) }
		if err := kit.ValidEscrowName(e.Name); err != nil {
			report(at("name"), "escrow.name", err.Error())
		} else if j, dup := seen[strings.ToLower(e.Name)]; dup {
			report(at("name"), "escrow.name", fmt.Sprintf("%q is also the name of escrow entry %d (names must differ, ignoring case: they become file names)", e.Name, j+1))
		} else {
			seen[strings.ToLower(e.Name)] = i
		}
		if _, err := kit.ParseRecipient(e.Recipient); err != nil {
			report(at("recipient"), "escrow.recipient", err.Error())
		}
	}
	switch k, n := p.Keys.EscrowThreshold, len(p.Escrow); {
	case k < 1:
		report(keyPath{"keys", "escrow_threshold"}, "keys.escrow_threshold", fmt.Sprintf("%d: use 1 (each escrow file holds the whole recovery key) or more (k-of-n shares)", k))
	case k > 1 && k > n:
		report(keyPath{"keys", "escrow_threshold"}, "keys.escrow_threshold", fmt.Sprintf("%d is more than the %d [[escrow]] entries: nobody could ever rebuild the recovery key; lower it or add entries", k, n))
	case k > ssss.MaxShares:
		report(keyPath{"keys", "escrow_threshold"}, "keys.escrow_threshold", fmt.Sprintf("%d: at most %d", k, ssss.MaxShares))
	}
	if len(p.Escrow) > ssss.MaxShares {
		report(keyPath{"escrow"}, "escrow", fmt.Sprintf("%d entries: at most %d", len(p.Escrow), ssss.MaxShares))
	}
	if len(p.Escrow) > 0 && !p.Keys.RecoveryKey {
		report(keyPath{"keys", "recovery_key"}, "keys.recovery_key", "escrow needs a recovery key: set recovery_key = true or remove the [[escrow]] entries")
	}

	if len(p.Tools.Platforms) == 0 {
		report(keyPath{"tools", "platforms"}, "tools.platforms", "at least one platform is needed")
	}
	for i, pl := range p.Tools.Platforms {
		if err := kit.ValidPlatform(pl); err != nil {
			report(keyPath{"tools", "platforms"}, "tools.platforms", err.Error())
		} else if slices.Index(p.Tools.Platforms, pl) != i {
			report(keyPath{"tools", "platforms"}, "tools.platforms", fmt.Sprintf("%q listed twice", pl))
		}
	}

	if len(p.TPM.PCRs) == 0 && p.TPM.Enroll {
		report(keyPath{"tpm", "pcrs"}, "tpm.pcrs", "at least one PCR is needed (7: Secure Boot state)")
	}
	for i, pcr := range p.TPM.PCRs {
		if pcr < 0 || pcr > 23 {
			report(keyPath{"tpm", "pcrs"}, "tpm.pcrs", fmt.Sprintf("PCR %d: use 0 to 23", pcr))
		} else if slices.Index(p.TPM.PCRs, pcr) != i {
			report(keyPath{"tpm", "pcrs"}, "tpm.pcrs", fmt.Sprintf("PCR %d listed twice", pcr))
		}
	}
}

//go:embed example.toml
var example string

// Example returns a commented example profile, for `travelkit profile example`.
func Example() string { return example }
