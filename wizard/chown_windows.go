package wizard

import "travelkit/repo"

// chown: on Windows the relaunched copy runs as the person (elevated), who owns what it makes.
func chown(path string, o *repo.Owner) error { return nil }
