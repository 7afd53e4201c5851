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
