package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

const (
	defaultRiskTier      = 2
	defaultMaxExtensions = 1
	maxRequiredApprovals = 10
	maxExtensionsLimit   = 10
)

// newRoleEntry returns a role with the defaults a create applies; an update
// changes only the fields it sends.
func newRoleEntry() *roleEntry {
	return &roleEntry{
		SchemaVersion:       schemaVersion,
		RiskTier:            defaultRiskTier,
		AutoApproveMaxScore: approval.DefaultAutoApproveMaxScore,
		MaxExtensions:       defaultMaxExtensions,
	}
}

func rolePolicyFields() map[string]*framework.FieldSchema {
	return map[string]*framework.FieldSchema{
		"risk_tier": {
			Type:        framework.TypeInt,
			Description: "How critical the task is, 0 (most critical) to 3. Tier 0: 30m/1h TTLs, two approvals including the security group. Tier 1: 1h/4h, one approval. Tiers 2 and 3: 1h/8h, auto-approved at or below auto_approve_max_score. Default 2.",
			Default:     defaultRiskTier,
		},
		"requester_groups": {
			Type:        framework.TypeCommaStringSlice,
			Description: "Vault identity groups whose members may ask for this role. Empty lets any identity entity ask.",
		},
		"approver_groups": {
			Type:        framework.TypeCommaStringSlice,
			Description: "Vault identity groups whose current members may approve requests below the security threshold.",
		},
		"required_approvals": {
			Type:        framework.TypeInt,
			Description: "Distinct approvals a request needs. Zero uses the tier's default.",
		},
		"security_approver_groups": {
			Type:        framework.TypeCommaStringSlice,
			Description: "Vault identity groups that approve requests at or above the security threshold, and tier 0 requests.",
		},
		"auto_approve_max_score": {
			Type:        framework.TypeInt,
			Description: "Highest risk score approved by policy on tiers 2 and 3; -1 turns auto-approval off. Tiers 0 and 1 never auto-approve. Default 25.",
			Default:     approval.DefaultAutoApproveMaxScore,
		},
		"require_justification": {
			Type:        framework.TypeBool,
			Description: "Requests must carry a justification. Break-glass requests always must.",
		},
		"allow_emergency": {
			Type:        framework.TypeBool,
			Description: "Accept break-glass requests (emergency=true): approved at once on tiers 2 and 3 and flagged for review; one approval from any approver on tiers 0 and 1.",
		},
		"oncall_schedule": {
			Type:        framework.TypeString,
			Description: "Name of an on-call schedule (oncall/<name>). Its members on shift get the expedited path.",
		},
		"business_hours_only": {
			Type:        framework.TypeBool,
			Description: "Reject requests outside the configured business hours, except break-glass requests.",
		},
		"log_statements": {
			Type:        framework.TypeBool,
			Description: "Set log_statement = 'all' on each account, so the database log ties every statement to the account, and the request record ties the account to the requester and the justification. The connection's admin must be allowed to set log_statement.",
		},
		"max_extensions": {
			Type:        framework.TypeInt,
			Description: "How many times a grant may be extended through requests/<id>/extend. Default 1.",
			Default:     defaultMaxExtensions,
		},
	}
}

// applyRolePolicyFields copies the approval fields present in the request.
func applyRolePolicyFields(role *roleEntry, d *framework.FieldData) error {
	ints := map[string]*int{
		"risk_tier":              &role.RiskTier,
		"required_approvals":     &role.RequiredApprovals,
		"auto_approve_max_score": &role.AutoApproveMaxScore,
		"max_extensions":         &role.MaxExtensions,
	}
	for field, target := range ints {
		if raw, ok := d.GetOk(field); ok {
			*target = raw.(int)
		}
	}

	lists := map[string]*[]string{
		"requester_groups":         &role.RequesterGroups,
		"approver_groups":          &role.ApproverGroups,
		"security_approver_groups": &role.SecurityApproverGroups,
	}
	for field, target := range lists {
		raw, ok := d.Raw[field]
		if !ok {
			continue
		}
		list, err := parseStringList(field, raw)
		if err != nil {
			return err
		}
		*target = list
	}

	bools := map[string]*bool{
		"log_statements":        &role.LogStatements,
		"require_justification": &role.RequireJustification,
		"allow_emergency":       &role.AllowEmergency,
		"business_hours_only":   &role.BusinessHoursOnly,
	}
	for field, target := range bools {
		if raw, ok := d.GetOk(field); ok {
			*target = raw.(bool)
		}
	}

	if raw, ok := d.GetOk("oncall_schedule"); ok {
		role.OncallSchedule = strings.TrimSpace(raw.(string))
	}
	return nil
}

// validateRolePolicy checks the approval fields together, so a role that
// could never be approved is rejected when it is written.
func validateRolePolicy(ctx context.Context, s logical.Storage, role *roleEntry) error {
	if _, err := approval.DefaultsForTier(role.RiskTier); err != nil {
		return fmt.Errorf(`invalid "risk_tier": %d; use 0 (most critical) to 3`, role.RiskTier)
	}
	if role.RequiredApprovals < 0 || role.RequiredApprovals > maxRequiredApprovals {
		return fmt.Errorf(`invalid "required_approvals": %d is out of range; use 0 for the tier's default, or 1 to %d`, role.RequiredApprovals, maxRequiredApprovals)
	}
	if role.AutoApproveMaxScore < -1 || role.AutoApproveMaxScore > 100 {
		return fmt.Errorf(`invalid "auto_approve_max_score": %d is out of range; use -1 (never) or 0 to 100`, role.AutoApproveMaxScore)
	}
	if role.MaxExtensions < 0 || role.MaxExtensions > maxExtensionsLimit {
		return fmt.Errorf(`invalid "max_extensions": %d is out of range; use 0 to %d`, role.MaxExtensions, maxExtensionsLimit)
	}
	if role.RiskTier <= 1 && len(role.ApproverGroups) == 0 && len(role.SecurityApproverGroups) == 0 {
		return fmt.Errorf(`missing "approver_groups": tier %d requests always need an approval; name the identity groups that approve`, role.RiskTier)
	}
	if role.AllowEmergency && len(role.ApproverGroups) == 0 && len(role.SecurityApproverGroups) == 0 {
		return fmt.Errorf(`missing "approver_groups": allow_emergency needs approvers, who approve break-glass on tiers 0 and 1 and review it afterwards on tiers 2 and 3`)
	}
	if role.RiskTier == 0 && len(role.SecurityApproverGroups) == 0 {
		return fmt.Errorf(`missing "security_approver_groups": tier 0 requests need an approval from the security group; name it`)
	}

	if role.OncallSchedule != "" {
		schedule, err := getSchedule(ctx, s, role.OncallSchedule)
		if err != nil {
			return err
		}
		if schedule == nil {
			return fmt.Errorf(`invalid "oncall_schedule": no schedule named %q; create it at oncall/%s first`, role.OncallSchedule, role.OncallSchedule)
		}
	}
	return nil
}

// policy returns the role's approval policy.
func (r *roleEntry) policy(cfg *engineConfig) approval.Policy {
	return approval.Policy{
		Tier:                   r.RiskTier,
		RequiredApprovals:      r.RequiredApprovals,
		ApproverGroups:         r.ApproverGroups,
		SecurityApproverGroups: r.SecurityApproverGroups,
		AutoApproveMaxScore:    r.AutoApproveMaxScore,
		SecurityThreshold:      cfg.SecurityScoreThreshold,
		AllowEmergency:         r.AllowEmergency,
	}
}

// tierDefaults returns the defaults of the role's tier. Roles are validated
// on write, so the tier is known to be valid.
func (r *roleEntry) tierDefaults() approval.TierDefaults {
	defaults, err := approval.DefaultsForTier(r.RiskTier)
	if err != nil {
		defaults, _ = approval.DefaultsForTier(0)
	}
	return defaults
}
