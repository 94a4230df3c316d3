package backend

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-secure-stdlib/parseutil"
)

// writtenDuration is a TTL as a value and in the form it was written, so a
// read returns "1h" when "1h" was written and 3600 when 3600 was. Terraform's
// generic endpoint resource compares the two and would otherwise see drift.
type writtenDuration struct {
	Value   time.Duration `json:"value"`
	Form    string        `json:"form,omitempty"`
	Numeric bool          `json:"numeric,omitempty"`
}

// parseWrittenDuration reads a duration field from raw request data: a Go
// duration string ("90m"), a number of seconds, or a numeric string.
func parseWrittenDuration(field string, raw any) (writtenDuration, error) {
	value, err := parseutil.ParseDurationSecond(raw)
	if err != nil {
		return writtenDuration{}, fmt.Errorf("invalid %q: %v is not a duration; use seconds (3600) or a unit suffix (1h, 30m)", field, raw)
	}
	if value < 0 {
		return writtenDuration{}, fmt.Errorf("invalid %q: %v is negative; use zero for the default or a positive duration", field, raw)
	}

	switch v := raw.(type) {
	case string:
		return writtenDuration{Value: value, Form: strings.TrimSpace(v)}, nil
	case json.Number:
		return writtenDuration{Value: value, Form: v.String(), Numeric: true}, nil
	default:
		return writtenDuration{Value: value, Form: strconv.FormatInt(int64(value/time.Second), 10), Numeric: true}, nil
	}
}

// readForm returns the duration as it was written, or 0 when it never was.
func (d writtenDuration) readForm() any {
	if d.Form == "" {
		return int64(d.Value / time.Second)
	}
	if d.Numeric {
		return int64(d.Value / time.Second)
	}
	return d.Form
}

// parseStatementList reads a list of SQL statements. A single string is one
// statement: statements are never split on commas or semicolons, because
// both appear inside valid statements and DO blocks.
func parseStatementList(field string, raw any) ([]string, error) {
	switch v := raw.(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(v) == "" {
			return nil, nil
		}
		return []string{v}, nil
	case []string:
		return v, nil
	case []any:
		out := make([]string, 0, len(v))
		for i, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("invalid %q: item %d is %T, not a string; send a list of SQL statements", field, i, item)
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("invalid %q: got %T; send a list of SQL statements", field, raw)
	}
}

// parseStringList reads a list of names, accepting one comma-separated
// string as the Vault CLI sends it.
func parseStringList(field string, raw any) ([]string, error) {
	var items []string
	switch v := raw.(type) {
	case nil:
		return nil, nil
	case string:
		items = strings.Split(v, ",")
	case []string:
		items = v
	case []any:
		for i, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("invalid %q: item %d is %T, not a string", field, i, item)
			}
			items = append(items, s)
		}
	default:
		return nil, fmt.Errorf("invalid %q: got %T; send a list of names", field, raw)
	}

	out := make([]string, 0, len(items))
	for _, item := range items {
		if s := strings.TrimSpace(item); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// parseParameterMap reads the role's parameters: a JSON object from each
// parameter name to its allowed values, sent as an object or as a JSON string.
func parseParameterMap(raw any) (map[string][]string, error) {
	const hint = `send a JSON object from each parameter name to its allowed values, for example {"schema": ["billing", "sales"]}`

	if s, ok := raw.(string); ok {
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		var decoded map[string]any
		if err := json.Unmarshal([]byte(s), &decoded); err != nil {
			return nil, fmt.Errorf(`invalid "parameters": %v; %s`, err, hint)
		}
		raw = decoded
	}

	object, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf(`invalid "parameters": got %T; %s`, raw, hint)
	}

	out := make(map[string][]string, len(object))
	for name, values := range object {
		list, err := parseStatementList("parameters", values)
		if err != nil {
			return nil, fmt.Errorf(`invalid "parameters": parameter %q: its allowed values must be a list of strings; %s`, name, hint)
		}
		out[name] = list
	}
	return out, nil
}
