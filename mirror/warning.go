package mirror

import (
	"fmt"
	"sync"
	"time"

	"travelkit/i18n"
)

// Warning is what a copy tells while it goes on: a transient failure it retries, or a
// notice. What is a message of the catalogue ([mirror.doing], [mirror.notice]), so that a
// face writes it in the person's language; String is the English text (--json, logs).
type Warning struct {
	What i18n.Message
	Err  error         // the failure that is retried; nil for a notice
	Wait time.Duration // the pause before the next try
}

// String is the warning in English: "sending data/ab…: <error>; trying again in 2s".
func (w Warning) String() string {
	what := w.What.In(english())
	if w.Err == nil {
		return what
	}
	return fmt.Sprintf("%s: %v; trying again in %s", what, w.Err, w.Wait.Round(time.Second))
}

var english = sync.OnceValue(func() *i18n.Printer { return i18n.New("en") })

// errorf is an error the person reads in their language ([mirror.error]); its Error() is
// the English text, and cause stays in its chain (errors.Is).
func errorf(cause error, key string, args ...any) error {
	e := i18n.Errorf(key, args...)
	e.Err = cause
	return e
}
