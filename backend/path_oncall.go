package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
)

const oncallPrefix = "oncall/"

// scheduleEntry is a stored on-call schedule.
type scheduleEntry struct {
	SchemaVersion int          `json:"schema_version"`
	Shifts        []shiftEntry `json:"shifts"`
	Description   string       `json:"description"`
}

// shiftEntry is one shift: the entities on call from Start until End. Start
// and End keep the text that was written, so a read returns it unchanged.
type shiftEntry struct {
	Members []string `json:"members"`
	Start   string   `json:"start"`
	End     string   `json:"end"`
}

func pathOncall(b *backend) []*framework.Path {
	return []*framework.Path{
		{
			Pattern: "oncall/?$",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "oncall-schedules",
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{
					Callback:     b.pathOncallList,
					Summary:      "List the on-call schedules.",
					Responses:    listResponses("Schedule names."),
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "list"},
				},
			},
			HelpSynopsis:    "List on-call schedules.",
			HelpDescription: "Lists the names of the on-call schedules task roles can name in oncall_schedule.",
		},
		{
			Pattern: "oncall/" + nameSegment,
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "oncall-schedule",
			},
			Fields: map[string]*framework.FieldSchema{
				"name": {Type: framework.TypeString, Description: "Name of the schedule.", Required: true},
				"shifts": {
					Type:        framework.TypeSlice,
					Description: `Shifts, each an object {"members": [entity IDs], "start": RFC 3339 time, "end": RFC 3339 time}. A member is on call from start until end.`,
				},
				"description": {Type: framework.TypeString, Description: "What the rotation covers."},
			},
			ExistenceCheck: b.scheduleExists,
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{
					Callback: b.pathScheduleRead,
					Summary:  "Read an on-call schedule.",
					Responses: map[int][]framework.Response{200: {{Description: "OK", Fields: map[string]*framework.FieldSchema{
						"shifts":      {Type: framework.TypeSlice, Description: "Shifts as written."},
						"description": {Type: framework.TypeString, Description: "What the rotation covers."},
					}}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "read"},
				},
				logical.CreateOperation: &framework.PathOperation{
					Callback:     b.pathScheduleWrite,
					Summary:      "Create an on-call schedule.",
					Responses:    map[int][]framework.Response{204: {{Description: "No Content"}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "create"},
				},
				logical.UpdateOperation: &framework.PathOperation{
					Callback:     b.pathScheduleWrite,
					Summary:      "Update an on-call schedule. Fields not sent keep their value.",
					Responses:    map[int][]framework.Response{204: {{Description: "No Content"}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "update"},
				},
				logical.DeleteOperation: &framework.PathOperation{
					Callback:     b.pathScheduleDelete,
					Summary:      "Delete an on-call schedule.",
					Responses:    map[int][]framework.Response{204: {{Description: "No Content"}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "delete"},
				},
			},
			HelpSynopsis:    "Manage an on-call schedule.",
			HelpDescription: strings.TrimSpace(oncallHelp),
		},
	}
}

func (b *backend) scheduleExists(ctx context.Context, req *logical.Request, d *framework.FieldData) (bool, error) {
	schedule, err := getSchedule(ctx, req.Storage, d.Get("name").(string))
	return schedule != nil, err
}

func (b *backend) pathOncallList(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	names, err := req.Storage.List(ctx, oncallPrefix)
	if err != nil {
		return nil, fmt.Errorf("list on-call schedules: %w", err)
	}
	return logical.ListResponse(names), nil
}

func (b *backend) pathScheduleRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	schedule, err := getSchedule(ctx, req.Storage, d.Get("name").(string))
	if err != nil || schedule == nil {
		return nil, err
	}

	shifts := make([]map[string]any, 0, len(schedule.Shifts))
	for _, shift := range schedule.Shifts {
		shifts = append(shifts, map[string]any{"members": nonNil(shift.Members), "start": shift.Start, "end": shift.End})
	}
	return &logical.Response{Data: map[string]any{"shifts": shifts, "description": schedule.Description}}, nil
}

func (b *backend) pathScheduleWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	if err := roles.ValidateName("name", name); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}

	schedule, err := getSchedule(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if schedule == nil {
		schedule = &scheduleEntry{SchemaVersion: schemaVersion}
	}

	if raw, ok := d.Raw["shifts"]; ok {
		shifts, err := parseShifts(raw)
		if err != nil {
			return logical.ErrorResponse(err.Error()), nil
		}
		schedule.Shifts = shifts
	}
	if raw, ok := d.GetOk("description"); ok {
		schedule.Description = raw.(string)
	}
	if _, err := schedule.model(name); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}

	if err := putJSON(ctx, req.Storage, oncallPrefix+name, schedule); err != nil {
		return nil, err
	}
	return nil, nil
}

// parseShifts reads the shifts field: a list of objects, or a JSON string of
// one as the CLI sends it.
func parseShifts(raw any) ([]shiftEntry, error) {
	const hint = `send a list of {"members": ["<entity id>"], "start": "2026-01-05T09:00:00Z", "end": "2026-01-12T09:00:00Z"}`

	encoded, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf(`invalid "shifts": %v; %s`, err, hint)
	}
	if s, ok := raw.(string); ok {
		encoded = []byte(s)
	}

	var shifts []shiftEntry
	if err := json.Unmarshal(encoded, &shifts); err != nil {
		return nil, fmt.Errorf(`invalid "shifts": %v; %s`, err, hint)
	}
	return shifts, nil
}

// model converts the stored schedule, checking every shift.
func (s *scheduleEntry) model(name string) (approval.Schedule, error) {
	schedule := approval.Schedule{Name: name}
	for i, shift := range s.Shifts {
		start, err := time.Parse(time.RFC3339, shift.Start)
		if err != nil {
			return approval.Schedule{}, fmt.Errorf(`invalid "shifts": shift %d start %q is not an RFC 3339 time such as 2026-01-05T09:00:00Z`, i, shift.Start)
		}
		end, err := time.Parse(time.RFC3339, shift.End)
		if err != nil {
			return approval.Schedule{}, fmt.Errorf(`invalid "shifts": shift %d end %q is not an RFC 3339 time such as 2026-01-12T09:00:00Z`, i, shift.End)
		}
		schedule.Shifts = append(schedule.Shifts, approval.Shift{Members: shift.Members, Start: start, End: end})
	}
	if err := schedule.Validate(); err != nil {
		return approval.Schedule{}, fmt.Errorf(`invalid "shifts": %w`, err)
	}
	return schedule, nil
}

func (b *backend) pathScheduleDelete(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	if err := req.Storage.Delete(ctx, oncallPrefix+name); err != nil {
		return nil, fmt.Errorf("delete on-call schedule %q: %w", name, err)
	}
	return nil, nil
}

// getSchedule returns the named schedule, or nil when it does not exist.
func getSchedule(ctx context.Context, s logical.Storage, name string) (*scheduleEntry, error) {
	schedule := &scheduleEntry{}
	found, err := getJSON(ctx, s, oncallPrefix+name, schedule)
	if err != nil || !found {
		return nil, err
	}
	return schedule, nil
}

// onCall reports whether entityID is on shift now in the named schedule.
func onCall(ctx context.Context, s logical.Storage, name, entityID string, now time.Time) (bool, error) {
	if name == "" {
		return false, nil
	}
	entry, err := getSchedule(ctx, s, name)
	if err != nil || entry == nil {
		return false, err
	}
	schedule, err := entry.model(name)
	if err != nil {
		return false, fmt.Errorf("on-call schedule %q: %w", name, err)
	}
	return schedule.OnCall(entityID, now), nil
}

const oncallHelp = `
An on-call schedule lists shifts: which identity entities are on call from
when until when. A task role that names the schedule in oncall_schedule
gives its members on shift the expedited path: approval by policy on tiers 2
and 3, one approval on tiers 0 and 1.
`
