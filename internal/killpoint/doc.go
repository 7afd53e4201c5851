// Package killpoint names the steps of operations that must survive being killed at any
// point (key rotation, refresh). In the shipped binary Here does nothing. A binary built
// with -tags killpoints kills itself (SIGKILL, TerminateProcess on Windows) when it
// reaches the step named by $TRAVELKIT_KILL_AT (or its N-th occurrence: name#N), and
// appends every step it reaches to the file $TRAVELKIT_KILL_LOG: the tests enumerate the
// steps, then kill the process at each, or watch the log to see that an operation is under
// way.
//
// Imports: internal packages only. Today it imports none.
package killpoint
