package policy

import (
	"errors"
	"strings"
)

// ErrUnknownKey is the cause of a ConfigError about a key that the schema
// does not have: `config check` suggests the closest known key for it.
var ErrUnknownKey = errors.New("unknown key")

// Keys returns every key that holds a value, dotted as in a top-level
// file ("run.args.allowed"), in the order Explain prints them.
func Keys() []string {
	keys := make([]string, len(leaves))
	for i := range leaves {
		keys[i] = leaves[i].key
	}
	return keys
}

// DefaultValue returns the built-in value of key, written as TOML, and
// whether key exists. Keys inside an override ("override[2].gpu.max_count")
// are looked up without their override prefix.
func DefaultValue(key string) (string, bool) {
	l := leafByKey[SchemaKey(key)]
	if l == nil {
		return "", false
	}
	return formatValue(l.field(Default())), true
}

// SchemaKey returns key as the schema names it: without the
// "override[N]." prefix of a key set in an override.
func SchemaKey(key string) string {
	if strings.HasPrefix(key, overrideKey+"[") {
		if _, rest, ok := strings.Cut(key, "]."); ok {
			return rest
		}
	}
	return key
}

// Overrides returns how many [[override]] entries the configuration has.
func (c *Config) Overrides() int { return len(c.overrides) }
