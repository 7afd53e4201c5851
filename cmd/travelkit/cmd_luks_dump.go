package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"travelkit/internal/termsafe"
	"travelkit/luks"
)

func newLuksDumpCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:  "dump DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksDump(args[0], asJSON) },
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "")
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

// hexText is text travelkit formatted itself (hex over several lines): not escaped.
type hexText string

// hexLines formats bytes as hex, 16 bytes a line, the way luksDump shows salts.
func hexLines(b []byte, indent string) string {
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
	st := c.State()
	// every string the header holds (label, subsystem, types, ciphers, flags) comes from
	// the drive: escaped for the terminal; only the hex travelkit formats is not
	p := func(format string, a ...any) {
		for i, x := range a {
			if s, ok := x.(string); ok {
				a[i] = termsafe.Name(s)
			}
		}
		fmt.Fprintf(w, format, a...)
	}
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
	p("Keyslots area:  %d [bytes]\n", c.KeyslotsAreaSize())
	p("UUID:           %s\n", c.UUID())
	p("Label:          %s\n", orNone(c.Label(), "(no label)"))
	p("Subsystem:      %s\n", orNone(c.Subsystem(), "(no subsystem)"))
	p("Flags:          %s\n", orNone(strings.Join(c.Flags(), " "), "(no flags)"))
	if req := c.Requirements(); len(req) > 0 {
		p("Requirements:   %s\n", strings.Join(req, " "))
	}
	p("Header copies:  %s\n", headerCopies(st))
	p("\nData segments:\n")
	for _, s := range c.Segments() {
		p("  %d: %s\n", s.ID, s.Type)
		p("\toffset: %d [bytes]\n", s.Offset)
		if s.Size < 0 {
			p("\tlength: (whole device)\n")
		} else {
			p("\tlength: %d [bytes]\n", s.Size)
		}
		p("\tcipher: %s\n", s.Cipher)
		p("\tsector: %d [bytes]\n", s.SectorSize)
	}
	p("\nKeyslots:\n")
	for _, k := range c.Keyslots() {
		prio := map[int]string{0: "ignored", 2: "preferred"}[k.Priority]
		p("  %d: %s\n", k.ID, k.Type)
		p("\tKey:        %d bits\n", k.KeySize*8)
		p("\tPriority:   %s\n", orNone(prio, "normal"))
		p("\tCipher:     %s\n", k.AreaCipher)
		p("\tCipher key: %d bits\n", k.AreaKeyLen*8)
		p("\tPBKDF:      %s\n", k.PBKDF.Type)
		if k.PBKDF.Type == "pbkdf2" {
			p("\tHash:       %s\n", k.PBKDF.Hash)
			p("\tIterations: %d\n", k.PBKDF.Iterations)
		} else {
			p("\tTime cost:  %d\n", k.PBKDF.Iterations)
			p("\tMemory:     %d\n", k.PBKDF.MemoryKiB)
			p("\tThreads:    %d\n", k.PBKDF.Parallel)
		}
		p("\tSalt:       %s\n", hexText(hexLines(k.Salt, "\t            ")))
		p("\tAF stripes: %d\n", k.AFStripes)
		p("\tAF hash:    %s\n", k.AFHash)
		p("\tArea offset:%d [bytes]\n", k.AreaOffset)
		p("\tArea length:%d [bytes]\n", k.AreaSize)
		for _, d := range k.Digests {
			p("\tDigest ID:  %d\n", d)
		}
	}
	p("Tokens:\n")
	for _, t := range c.Tokens() {
		p("  %d: %s\n", t.ID, t.Type)
		for _, ks := range t.Keyslots {
			p("\tKeyslot:    %d\n", ks)
		}
	}
	p("Digests:\n")
	for _, d := range c.Digests() {
		p("  %d: %s\n", d.ID, d.Type)
		p("\tHash:       %s\n", d.Hash)
		p("\tIterations: %d\n", d.Iterations)
		p("\tSalt:       %s\n", hexText(hexLines(d.Salt, "\t            ")))
		p("\tDigest:     %s\n", hexText(hexLines(d.Digest, "\t            ")))
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
