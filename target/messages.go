package target

import (
	"sync"

	"travelkit/i18n"
)

// refused is a safety refusal whose reason and hint are messages of the catalogue
// (tables [target.refused], [target.hint], [target.doing]), so that a person reads them
// in their language; Reason and Hint are their English text (Error(), logs, scripts).
// A hint with no Key is none.
func refused(path string, reason, hint i18n.Message) *RefusedError {
	e := &RefusedError{Path: path, Reason: reason.In(english()), ReasonMsg: reason}
	if hint.Key != "" {
		e.Hint, e.HintMsg = hint.In(english()), &hint
	}
	return e
}

var english = sync.OnceValue(func() *i18n.Printer { return i18n.New("en") })

// noHint is a refusal without a hint.
var noHint = i18n.Message{}

// errorf is an error the person reads in their language ([target.error]); its Error() is
// the English text, and cause stays in its chain (errors.Is, errors.As).
func errorf(cause error, key string, args ...any) error {
	e := i18n.Errorf(key, args...)
	e.Err = cause
	return e
}

// Holder is a device the kernel built on a disk or a partition: an open encrypted volume,
// an LVM logical volume, a RAID array or another device-mapper device. Name and Dev are
// the system's own names for it, shown as they are; the words around them are the
// catalogue's ([target.holder]).
type Holder struct {
	Kind string // "crypt", "lvm", "dm", "raid", or "" (Name as the kernel lists it)
	Name string // the system's name: luks-1234, vg-root, dm-3, md0
	Dev  string // its device, where it has one: /dev/mapper/luks-1234, /dev/md0
}

// Message is the holder described, for the person.
func (h Holder) Message() i18n.Message {
	switch h.Kind {
	case "crypt":
		return i18n.M("target.holder.crypt", h.Name, h.Dev)
	case "lvm":
		return i18n.M("target.holder.lvm", h.Name)
	case "dm":
		return i18n.M("target.holder.dm", h.Name, h.Dev)
	case "raid":
		return i18n.M("target.holder.raid", h.Dev)
	}
	return i18n.M("target.holder.plain", h.Name)
}

// String is the holder described in English.
func (h Holder) String() string { return h.Message().In(english()) }
