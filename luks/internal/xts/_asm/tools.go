//go:build tools

// The amd64 generator loads travelkit/luks/internal/xts (its declarations are the
// signatures the assembly implements); this keeps that module among the requirements.
package tools

import _ "travelkit/luks/internal/xts"
