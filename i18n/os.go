package i18n

import "os"

// OS is the running operating system, for Choose.
func OS() System { return osSystem{} }

type osSystem struct{}

func (osSystem) Getenv(key string) string { return os.Getenv(key) }

func (osSystem) UserLanguages() []string { return userLanguages() }
