package approval_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

func TestScore(t *testing.T) {
	hours, err := approval.ParseBusinessHours("mon-fri 09:00-18:00", "Europe/Berlin")
	require.NoError(t, err)

	// Monday 2025-01-06 10:00 and Saturday 2025-01-11 10:00 in Berlin (UTC+1).
	inside := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	outside := time.Date(2025, 1, 11, 9, 0, 0, 0, time.UTC)

	// base is a tier 3 request inside business hours with nothing unusual.
	base := func() approval.RiskInput {
		return approval.RiskInput{Tier: 3, DefaultTTL: time.Hour, At: inside, Hours: hours, HoursConfigured: true}
	}

	type factor struct {
		name   string
		points int
	}

	tests := []struct {
		name    string
		change  func(*approval.RiskInput)
		score   int
		factors []factor
	}{
		{"tier 3 base", func(in *approval.RiskInput) {}, 5, []factor{{"tier_base", 5}}},
		{"tier 2 base", func(in *approval.RiskInput) { in.Tier = 2 }, 15, []factor{{"tier_base", 15}}},
		{"tier 1 base", func(in *approval.RiskInput) { in.Tier = 1 }, 35, []factor{{"tier_base", 35}}},
		{"tier 0 base", func(in *approval.RiskInput) { in.Tier = 0 }, 50, []factor{{"tier_base", 50}}},
		{"unknown tier scores as tier 0", func(in *approval.RiskInput) { in.Tier = 7 }, 50, []factor{{"tier_base", 50}}},

		{"ttl zero means default", func(in *approval.RiskInput) { in.RequestedTTL = 0 }, 5, []factor{{"tier_base", 5}}},
		{"ttl equal to default", func(in *approval.RiskInput) { in.RequestedTTL = time.Hour }, 5, []factor{{"tier_base", 5}}},
		{"ttl above default", func(in *approval.RiskInput) { in.RequestedTTL = 90 * time.Minute }, 15, []factor{{"tier_base", 5}, {"ttl_above_default", 10}}},
		{"ttl exactly twice default", func(in *approval.RiskInput) { in.RequestedTTL = 2 * time.Hour }, 15, []factor{{"tier_base", 5}, {"ttl_above_default", 10}}},
		{"ttl above twice default", func(in *approval.RiskInput) { in.RequestedTTL = 2*time.Hour + time.Second }, 25, []factor{{"tier_base", 5}, {"ttl_above_default", 20}}},
		{"ttl against tier default", func(in *approval.RiskInput) { in.Tier = 0; in.DefaultTTL = 0; in.RequestedTTL = 45 * time.Minute }, 60, []factor{{"tier_base", 50}, {"ttl_above_default", 10}}},

		{"outside business hours", func(in *approval.RiskInput) { in.At = outside }, 15, []factor{{"tier_base", 5}, {"outside_business_hours", 10}}},
		{"hours not configured", func(in *approval.RiskInput) { in.At = outside; in.HoursConfigured = false }, 5, []factor{{"tier_base", 5}}},

		{"break-glass", func(in *approval.RiskInput) { in.Emergency = true }, 25, []factor{{"tier_base", 5}, {"break_glass", 20}}},

		{"not on call", func(in *approval.RiskInput) { in.HasSchedule = true }, 15, []factor{{"tier_base", 5}, {"not_on_call", 10}}},
		{"on call", func(in *approval.RiskInput) { in.HasSchedule = true; in.OnCall = true }, 5, []factor{{"tier_base", 5}}},
		{"no schedule", func(in *approval.RiskInput) { in.HasSchedule = false; in.OnCall = false }, 5, []factor{{"tier_base", 5}}},

		{"one denial", func(in *approval.RiskInput) { in.RecentDenials = 1 }, 10, []factor{{"tier_base", 5}, {"recent_denials", 5}}},
		{"three denials", func(in *approval.RiskInput) { in.RecentDenials = 3 }, 20, []factor{{"tier_base", 5}, {"recent_denials", 15}}},
		{"denials capped", func(in *approval.RiskInput) { in.RecentDenials = 40 }, 20, []factor{{"tier_base", 5}, {"recent_denials", 15}}},
		{"huge denial count", func(in *approval.RiskInput) { in.RecentDenials = int(^uint(0) >> 1) }, 20, []factor{{"tier_base", 5}, {"recent_denials", 15}}},
		{"negative denials", func(in *approval.RiskInput) { in.RecentDenials = -2 }, 5, []factor{{"tier_base", 5}}},

		{"unusual parameters", func(in *approval.RiskInput) { in.UnusualParameters = true }, 15, []factor{{"tier_base", 5}, {"unusual_parameters", 10}}},

		{"tier 2 night with long ttl", func(in *approval.RiskInput) {
			in.Tier = 2
			in.At = outside
			in.RequestedTTL = 3 * time.Hour
		}, 45, []factor{{"tier_base", 15}, {"ttl_above_default", 20}, {"outside_business_hours", 10}}},

		{"tier 1 break-glass not on call", func(in *approval.RiskInput) {
			in.Tier = 1
			in.Emergency = true
			in.HasSchedule = true
			in.RecentDenials = 2
		}, 75, []factor{{"tier_base", 35}, {"break_glass", 20}, {"not_on_call", 10}, {"recent_denials", 10}}},

		{"every factor capped at 100", func(in *approval.RiskInput) {
			in.Tier = 0
			in.DefaultTTL = 30 * time.Minute
			in.RequestedTTL = 2 * time.Hour
			in.At = outside
			in.Emergency = true
			in.HasSchedule = true
			in.RecentDenials = 5
			in.UnusualParameters = true
		}, 100, []factor{
			{"tier_base", 50}, {"ttl_above_default", 20}, {"outside_business_hours", 10}, {"break_glass", 20},
			{"not_on_call", 10}, {"recent_denials", 15}, {"unusual_parameters", 10},
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.change(&in)

			score, factors := approval.Score(in)
			require.Equal(t, tt.score, score)

			got := make([]factor, 0, len(factors))
			for _, f := range factors {
				got = append(got, factor{f.Name, f.Points})
				require.NotEmpty(t, f.Detail, "factor %s has no detail", f.Name)
			}
			require.Equal(t, tt.factors, got)
		})
	}
}

func TestScoreFactorDetails(t *testing.T) {
	hours, err := approval.ParseBusinessHours("mon-fri 09:00-18:00", "Europe/Berlin")
	require.NoError(t, err)

	_, factors := approval.Score(approval.RiskInput{
		Tier:            7,
		DefaultTTL:      time.Hour,
		RequestedTTL:    150 * time.Minute,
		At:              time.Date(2025, 1, 11, 21, 30, 0, 0, time.UTC),
		Hours:           hours,
		HoursConfigured: true,
		RecentDenials:   1,
	})

	details := make(map[string]string)
	for _, f := range factors {
		details[f.Name] = f.Detail
	}
	require.Equal(t, "unknown risk tier 7 scored as tier 0, the most critical", details["tier_base"])
	require.Equal(t, "requested ttl 2h30m is more than twice the default 1h", details["ttl_above_default"])
	require.Equal(t, `requested at Sat 22:30 Europe/Berlin, outside business hours "mon-fri 09:00-18:00"`, details["outside_business_hours"])
	require.Equal(t, "1 denial of this requester in the last 30 days", details["recent_denials"])
}

func TestScoreStaysInRange(t *testing.T) {
	for tier := -1; tier <= 4; tier++ {
		for mask := range 1 << 5 {
			in := approval.RiskInput{
				Tier:              tier,
				RequestedTTL:      time.Duration(mask&1) * 24 * time.Hour,
				Emergency:         mask&2 != 0,
				HasSchedule:       mask&4 != 0,
				RecentDenials:     (mask & 8) * 3,
				UnusualParameters: mask&16 != 0,
			}

			score, factors := approval.Score(in)
			require.GreaterOrEqual(t, score, 0, "tier %d mask %05b", tier, mask)
			require.LessOrEqual(t, score, approval.MaxScore, "tier %d mask %05b", tier, mask)

			sum := 0
			for _, f := range factors {
				require.Positive(t, f.Points, "factor %s", f.Name)
				sum += f.Points
			}
			require.Equal(t, min(sum, approval.MaxScore), score, "tier %d mask %05b", tier, mask)
		}
	}
}
