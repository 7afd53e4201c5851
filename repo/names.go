package repo

import (
	"os/user"
	"strconv"
	"sync"
)

var (
	namesMu sync.Mutex
	users   = map[uint32]string{}
	groups  = map[uint32]string{}
)

func userName(uid uint32) string {
	namesMu.Lock()
	defer namesMu.Unlock()
	if n, ok := users[uid]; ok {
		return n
	}
	n := ""
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		n = u.Username
	}
	users[uid] = n
	return n
}

func groupName(gid uint32) string {
	namesMu.Lock()
	defer namesMu.Unlock()
	if n, ok := groups[gid]; ok {
		return n
	}
	n := ""
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		n = g.Name
	}
	groups[gid] = n
	return n
}
