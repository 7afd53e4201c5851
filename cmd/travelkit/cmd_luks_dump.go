package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"travelkit/luks"
)

func newLuksDumpCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "dump DEVICE",
		Short: "Show the LUKS2 header: keyslots, tokens, segments, digests",
		Long: `Show the LUKS2 header of DEVICE, like cryptsetup luksDump, plus the state of
both header copies. Nothing secret is shown and nothing is written.

With --json, print the header's JSON metadata and the header state as one JSON
object: {"header": {...}, "metadata": {...}}.`,
		Example: `  travelkit luks dump kit.luks
  travelkit luks dump /dev/sdb2 --json | jq .metadata.keyslots`,
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksDump(args[0], asJSON) },
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the JSON metadata and header state")
	return cmd
}

func runLuksDump(path string, asJSON bool) error {
	d, c, err := openContainer(path, false)
	if err != nil {
		return err
	}
	defer d.Close()
	if asJSON {
		return dumpJSON(os.Stdout, c)
	}
	return dumpText(os.Stdout, c)
}

// headerStateJSON is the "header" member of `luks dump --json`.
type headerStateJSON struct {
	Version      int    `json:"version"`
	UUID         string `json:"uuid"`
	Label        string `json:"label"`
	Subsystem    string `json:"subsystem"`
	Seqid        uint64 `json:"seqid"`
	HeaderSize   int64  `json:"hdr_size"`
	DataOffset   int64  `json:"data_offset"`
	PayloadSize  int64  `json:"payload_size"`
	Cipher       string `json:"cipher"`
	KeySize      int    `json:"key_size"`
	SectorSize   int    `json:"sector_size"`
	UsedCopy     string `json:"used_copy"`
	InSync       bool   `json:"in_sync"`
	PrimaryErr   string `json:"primary_error,omitempty"`
	SecondaryErr string `json:"secondary_error,omitempty"`
}

func dumpJSON(w io.Writer, c *luks.Container) error {
	st := c.State()
	h := headerStateJSON{Version: c.Version(), UUID: c.UUID(), Label: c.Label(), Subsystem: c.Subsystem(), Seqid: c.Seqid(),
		HeaderSize: c.HeaderSize(), DataOffset: c.DataOffset(), PayloadSize: c.PayloadSize(), Cipher: c.Cipher(),
		KeySize: c.KeySize(), SectorSize: c.SectorSize(), UsedCopy: st.UsedCopy, InSync: st.InSync}
	if st.PrimaryErr != nil {
		h.PrimaryErr = st.PrimaryErr.Error()
	}
	if st.SecondaryErr != nil {
		h.SecondaryErr = st.SecondaryErr.Error()
	}
	meta := json.RawMessage(c.MetadataJSON())
	if !json.Valid(meta) {
		meta = json.RawMessage("null")
	}
	out, err := json.MarshalIndent(struct {
		Header   headerStateJSON `json:"header"`
		Metadata json.RawMessage `json:"metadata"`
	}{h, meta}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", out)
	return err
}

// metadata is the part of the LUKS2 JSON metadata that the text dump shows.
type metadata struct {
	Keyslots map[string]struct {
		Type     string `json:"type"`
		KeySize  int    `json:"key_size"`
		Priority *int   `json:"priority"`
		AF       struct {
			Type    string `json:"type"`
			Stripes int    `json:"stripes"`
			Hash    string `json:"hash"`
		} `json:"af"`
		Area struct {
			Type       string `json:"type"`
			Offset     string `json:"offset"`
			Size       string `json:"size"`
			Encryption string `json:"encryption"`
			KeySize    int    `json:"key_size"`
		} `json:"area"`
		KDF struct {
			Type       string `json:"type"`
			Hash       string `json:"hash"`
			Iterations int64  `json:"iterations"`
			Time       int64  `json:"time"`
			Memory     int64  `json:"memory"`
			CPUs       int64  `json:"cpus"`
			Salt       string `json:"salt"`
		} `json:"kdf"`
	} `json:"keyslots"`
	Tokens map[string]struct {
		Type     string   `json:"type"`
		Keyslots []string `json:"keyslots"`
	} `json:"tokens"`
	Segments map[string]struct {
		Type       string `json:"type"`
		Offset     string `json:"offset"`
		Size       string `json:"size"`
		IVTweak    string `json:"iv_tweak"`
		Encryption string `json:"encryption"`
		SectorSize int    `json:"sector_size"`
	} `json:"segments"`
	Digests map[string]struct {
		Type       string   `json:"type"`
		Keyslots   []string `json:"keyslots"`
		Segments   []string `json:"segments"`
		Hash       string   `json:"hash"`
		Iterations int64    `json:"iterations"`
		Salt       string   `json:"salt"`
		Digest     string   `json:"digest"`
	} `json:"digests"`
	Config struct {
		JSONSize     string   `json:"json_size"`
		KeyslotsSize string   `json:"keyslots_size"`
		Flags        []string `json:"flags"`
		Requirements *struct {
			Mandatory []string `json:"mandatory"`
		} `json:"requirements"`
	} `json:"config"`
}

// sortedIDs returns the numeric keys of a metadata object in order.
func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, _ := strconv.Atoi(ids[i])
		b, _ := strconv.Atoi(ids[j])
		return a < b
	})
	return ids
}

// hexLines formats base64 data as hex, 16 bytes a line, the way luksDump shows salts.
func hexLines(b64, indent string) string {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "(invalid base64)"
	}
	var sb strings.Builder
	for i, x := range b {
		if i > 0 && i%16 == 0 {
			sb.WriteString("\n" + indent)
		}
		fmt.Fprintf(&sb, "%02x ", x)
	}
	return strings.TrimRight(sb.String(), " ")
}

func dumpText(w io.Writer, c *luks.Container) error {
	var m metadata
	if err := json.Unmarshal(c.MetadataJSON(), &m); err != nil {
		return fmt.Errorf("failed to read the header's JSON metadata: %w", err)
	}
	st := c.State()
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	orNone := func(s, none string) string {
		if s == "" {
			return none
		}
		return s
	}
	p("LUKS header information\n")
	p("Version:        %d\n", c.Version())
	if c.Version() == 1 {
		p("                (LUKS1: travelkit reads it; to change keys, convert it: cryptsetup convert --type luks2)\n")
	}
	p("Epoch:          %d\n", c.Seqid())
	p("Metadata area:  %d [bytes]\n", c.HeaderSize())
	p("Keyslots area:  %s [bytes]\n", m.Config.KeyslotsSize)
	p("UUID:           %s\n", c.UUID())
	p("Label:          %s\n", orNone(c.Label(), "(no label)"))
	p("Subsystem:      %s\n", orNone(c.Subsystem(), "(no subsystem)"))
	p("Flags:          %s\n", orNone(strings.Join(m.Config.Flags, " "), "(no flags)"))
	if m.Config.Requirements != nil && len(m.Config.Requirements.Mandatory) > 0 {
		p("Requirements:   %s\n", strings.Join(m.Config.Requirements.Mandatory, " "))
	}
	p("Header copies:  %s\n", headerCopies(st))
	p("\nData segments:\n")
	for _, id := range sortedIDs(m.Segments) {
		s := m.Segments[id]
		p("  %s: %s\n", id, s.Type)
		p("\toffset: %s [bytes]\n", s.Offset)
		if s.Size == "dynamic" {
			p("\tlength: (whole device)\n")
		} else {
			p("\tlength: %s [bytes]\n", s.Size)
		}
		p("\tcipher: %s\n", s.Encryption)
		p("\tsector: %d [bytes]\n", s.SectorSize)
	}
	p("\nKeyslots:\n")
	for _, id := range sortedIDs(m.Keyslots) {
		k := m.Keyslots[id]
		prio := "normal"
		if k.Priority != nil {
			switch *k.Priority {
			case 0:
				prio = "ignored"
			case 2:
				prio = "preferred"
			}
		}
		p("  %s: %s\n", id, k.Type)
		p("\tKey:        %d bits\n", k.KeySize*8)
		p("\tPriority:   %s\n", prio)
		p("\tCipher:     %s\n", k.Area.Encryption)
		p("\tCipher key: %d bits\n", k.Area.KeySize*8)
		p("\tPBKDF:      %s\n", k.KDF.Type)
		if k.KDF.Type == "pbkdf2" {
			p("\tHash:       %s\n", k.KDF.Hash)
			p("\tIterations: %d\n", k.KDF.Iterations)
		} else {
			p("\tTime cost:  %d\n", k.KDF.Time)
			p("\tMemory:     %d\n", k.KDF.Memory)
			p("\tThreads:    %d\n", k.KDF.CPUs)
		}
		p("\tSalt:       %s\n", hexLines(k.KDF.Salt, "\t            "))
		p("\tAF stripes: %d\n", k.AF.Stripes)
		p("\tAF hash:    %s\n", k.AF.Hash)
		p("\tArea offset:%s [bytes]\n", k.Area.Offset)
		p("\tArea length:%s [bytes]\n", k.Area.Size)
		for _, did := range sortedIDs(m.Digests) {
			for _, ks := range m.Digests[did].Keyslots {
				if ks == id {
					p("\tDigest ID:  %s\n", did)
				}
			}
		}
	}
	p("Tokens:\n")
	for _, id := range sortedIDs(m.Tokens) {
		t := m.Tokens[id]
		p("  %s: %s\n", id, t.Type)
		for _, ks := range t.Keyslots {
			p("\tKeyslot:    %s\n", ks)
		}
	}
	p("Digests:\n")
	for _, id := range sortedIDs(m.Digests) {
		d := m.Digests[id]
		p("  %s: %s\n", id, d.Type)
		p("\tHash:       %s\n", d.Hash)
		p("\tIterations: %d\n", d.Iterations)
		p("\tSalt:       %s\n", hexLines(d.Salt, "\t            "))
		p("\tDigest:     %s\n", hexLines(d.Digest, "\t            "))
	}
	return nil
}

func headerCopies(st luks.HeaderState) string {
	if st.PrimaryErr == nil && st.SecondaryErr == nil {
		if st.InSync {
			return "both valid and in sync"
		}
		return "both valid, not in sync (using the " + st.UsedCopy + "; run `travelkit luks repair`)"
	}
	var parts []string
	if st.PrimaryErr != nil {
		parts = append(parts, "primary DAMAGED ("+st.PrimaryErr.Error()+")")
	}
	if st.SecondaryErr != nil {
		parts = append(parts, "secondary DAMAGED ("+st.SecondaryErr.Error()+")")
	}
	return strings.Join(parts, ", ") + "; using the " + st.UsedCopy + "; run `travelkit luks repair`"
}
