package policy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// overrideClass says what an [[override]] entry selects callers by. The
// classes apply in this order, so that the most specific wins.
type overrideClass int

const (
	byGroup overrideClass = iota
	byGID
	byUser
	byUID
)

// selectorKeys are the keys that choose an override's class, by class.
var selectorKeys = []string{byGroup: "group", byGID: "gid", byUser: "user", byUID: "uid"}

const priorityKey = "priority"

// override is one [[override]] entry.
type override struct {
	class    overrideClass
	name     string // group or user name
	id       uint32 // gid or uid
	priority int    // orders group and gid overrides within their class
	seq      int    // position among all overrides, in file order
	at       Origin // where the selector (group = "x", …) is written
	values   layer
}

// String describes the override for provenance: `group "gpu"`, `uid 2001`.
func (o *override) String() string {
	switch o.class {
	case byGroup, byUser:
		return selectorKeys[o.class] + " " + strconv.Quote(o.name)
	}
	return selectorKeys[o.class] + " " + strconv.FormatUint(uint64(o.id), 10)
}

func (o *override) matches(w Who) bool {
	switch o.class {
	case byGroup:
		return o.name != "" && slices.Contains(w.GroupNames, o.name)
	case byGID:
		return o.id == w.GID || slices.Contains(w.Groups, o.id)
	case byUser:
		return o.name == w.User
	}
	return o.id == w.UID
}

// applyOrder sorts overrides as they apply: by class, then by priority
// (lower first, so that higher wins), then in file order.
func applyOrder(a, b *override) int {
	if a.class != b.class {
		return int(a.class) - int(b.class)
	}
	if a.priority != b.priority {
		if a.priority < b.priority {
			return -1
		}
		return 1
	}
	return a.seq - b.seq
}

// overrideList reads the [[override]] array at path.
func (fp *fileParser) overrideList(path string, v any) {
	arr, ok := v.([]any)
	if !ok {
		fp.fail(path, "", wrongType("an array of tables ([[override]])", v))
		return
	}
	for i, el := range arr {
		p := indexPath(path, i)
		m, ok := el.(map[string]any)
		if !ok {
			fp.fail(p, "", wrongType("a table", el))
			continue
		}
		o, ok := fp.selector(p, m)
		rest := make(map[string]any, len(m))
		for k, v := range m {
			if k != priorityKey && !slices.Contains(selectorKeys, k) {
				rest[k] = v
			}
		}
		o.values = layer{}
		fp.table(p, "", rest, o.values, o.String())
		if ok {
			fp.overrides = append(fp.overrides, o)
		}
	}
}

// selector reads the keys that say whom override m applies to.
func (fp *fileParser) selector(path string, m map[string]any) (*override, bool) {
	o := &override{}
	var set []string
	for class, k := range selectorKeys {
		if _, ok := m[k]; ok {
			set = append(set, k)
			o.class = overrideClass(class)
		}
	}
	want := strings.Join(selectorKeys, ", ")
	switch len(set) {
	case 0:
		fp.fail(path, "", fmt.Errorf("needs one of %s", want))
		return o, false
	case 1:
	default:
		fp.fail(path, "", fmt.Errorf("sets %s; needs exactly one of %s", strings.Join(set, " and "), want))
		return o, false
	}
	key := joinPath(path, set[0])
	o.at = fp.origin(key, "")
	ok := true
	var err error
	switch o.class {
	case byGroup, byUser:
		o.name, err = nonEmptyString(m[set[0]])
	default:
		o.id, err = idValue(m[set[0]])
	}
	if err != nil {
		fp.fail(key, "", err)
		ok = false
	}
	if pv, has := m[priorityKey]; has && !fp.priority(joinPath(path, priorityKey), pv, o) {
		ok = false
	}
	return o, ok
}

func (fp *fileParser) priority(path string, v any, o *override) bool {
	n, isInt := v.(int64)
	switch {
	case o.class == byUser || o.class == byUID:
		fp.fail(path, "", errors.New("only group and gid overrides have a priority: a caller has one user"))
	case !isInt:
		fp.fail(path, "", wrongType("an integer", v))
	case n < math.MinInt32 || n > math.MaxInt32:
		fp.fail(path, "", fmt.Errorf("%d is out of range", n))
	default:
		o.priority = int(n)
		return true
	}
	return false
}

func nonEmptyString(v any) (string, error) {
	s, ok := v.(string)
	switch {
	case !ok:
		return "", wrongType("a string", v)
	case s == "":
		return "", errors.New("must not be empty")
	}
	return s, nil
}

func idValue(v any) (uint32, error) {
	n, ok := v.(int64)
	switch {
	case !ok:
		return 0, wrongType("an integer", v)
	case n < 0 || n > math.MaxUint32:
		return 0, fmt.Errorf("%d is not a valid id", n)
	}
	return uint32(n), nil
}
