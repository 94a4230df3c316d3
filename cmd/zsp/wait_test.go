package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDecision(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name         string
		record       requestRecord
		wantApproved bool
		wantErr      string
	}{
		{name: "approved", record: requestRecord{ID: "r1", Status: statusApproved}, wantApproved: true},
		{name: "pending before deadline", record: requestRecord{ID: "r1", Status: statusPending, Deadline: "2026-03-02T11:00:00Z"}},
		{name: "pending without deadline", record: requestRecord{ID: "r1", Status: statusPending}},
		{name: "pending past deadline", record: requestRecord{ID: "r1", Status: statusPending, Deadline: "2026-03-02T09:00:00Z"}, wantErr: "request r1 expired at 2026-03-02T09:00:00Z"},
		{name: "denied", record: requestRecord{ID: "r1", Status: statusDenied, Reviews: []review{{Approver: "ent-dana", Decision: "deny", Comment: "use the runbook"}}}, wantErr: "request r1 was denied by ent-dana: use the runbook"},
		{name: "cancelled", record: requestRecord{ID: "r1", Status: statusCancelled}, wantErr: "request r1 was cancelled"},
		{name: "expired", record: requestRecord{ID: "r1", Status: statusExpired}, wantErr: "request r1 expired"},
		{name: "issued elsewhere", record: requestRecord{ID: "r1", Role: "billing", Status: statusIssued}, wantErr: "already issued to another read of creds/billing"},
		{name: "unknown status", record: requestRecord{ID: "r1", Status: "paused"}, wantErr: `status "paused"`},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			approved, err := decision(&tc.record, now)
			require.Equal(t, tc.wantApproved, approved)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestRecordApprovals(t *testing.T) {
	record := requestRecord{
		RequesterEntityID: "ent-alice",
		Reviews: []review{
			{Approver: "ent-dana", Decision: "approve"},
			{Approver: "ent-dana", Decision: "approve"},
			{Approver: "ent-alice", Decision: "approve"},
			{Approver: "ent-lee", Decision: "deny"},
			{Approver: "ent-sam", Decision: "approve"},
		},
	}

	require.Equal(t, 2, record.approvals())
	require.Equal(t, "ent-lee", record.denial().Approver)
}

func TestAge(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	cases := map[string]string{
		"2026-03-02T09:59:15Z": "45s",
		"2026-03-02T09:48:00Z": "12m",
		"2026-03-02T06:55:00Z": "3h5m",
		"2026-02-27T10:00:00Z": "3d",
		"2026-03-02T10:00:05Z": "0s",
		"not a time":           "-",
	}

	for stamp, want := range cases {
		require.Equal(t, want, age(stamp, now), stamp)
	}
}

func TestWritePending(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	items := []pendingItem{
		{ID: "r1", Role: "orders-fix", Status: statusPending, RequesterName: "alice", RiskScore: 45, CreatedAt: "2026-03-02T09:50:00Z"},
		{ID: "r2", Role: "orders-fix", Status: statusIssued, RequesterName: "bob", RiskScore: 35, CreatedAt: "2026-03-02T08:00:00Z"},
	}
	var out bytes.Buffer

	require.NoError(t, writePending(&out, items, now))

	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	require.Len(t, lines, 3)
	require.Regexp(t, `^ID\s+ROLE\s+REQUESTER\s+SCORE\s+AGE\s+WAITS FOR$`, string(lines[0]))
	require.Regexp(t, `^r1\s+orders-fix\s+alice\s+45\s+10m\s+access$`, string(lines[1]))
	require.Regexp(t, `^r2\s+orders-fix\s+bob\s+35\s+2h\s+extension$`, string(lines[2]))
}

func TestWritePendingEmpty(t *testing.T) {
	var out bytes.Buffer

	require.NoError(t, writePending(&out, nil, time.Now()))
	require.Equal(t, "no requests wait for your approval\n", out.String())
}
