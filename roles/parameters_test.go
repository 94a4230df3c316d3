package roles

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestResolveParameters(t *testing.T) {
	role := validRole()
	role.Parameters["table"] = []string{"orders"}

	got, err := role.ResolveParameters(map[string]string{"schema": "sales", "table": "orders"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"schema": "sales", "table": "orders"}, got)
}

func TestResolveParametersNone(t *testing.T) {
	role := validRole()
	role.Parameters = nil

	got, err := role.ResolveParameters(nil)
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)
}

func TestResolveParametersRejects(t *testing.T) {
	tests := []struct {
		name       string
		parameters map[string][]string
		given      map[string]string
		field      string
		want       string
	}{
		{
			name:       "value not allowed",
			parameters: map[string][]string{"schema": {"billing", "sales"}},
			given:      map[string]string{"schema": "hr"},
			field:      "schema",
			want:       `invalid parameter "schema": "hr" is not allowed; use one of "billing", "sales"`,
		},
		{
			name:       "SQL in value shown quoted",
			parameters: map[string][]string{"schema": {"billing"}},
			given:      map[string]string{"schema": "x\"; DROP TABLE t; --\n"},
			field:      "schema",
			want:       `invalid parameter "schema": "x\"; DROP TABLE t; --\n" is not allowed; use one of "billing"`,
		},
		{
			name:       "missing parameter",
			parameters: map[string][]string{"schema": {"billing", "sales"}},
			given:      map[string]string{},
			field:      "schema",
			want:       `invalid parameter "schema": missing; set it to one of "billing", "sales"`,
		},
		{
			name:       "undeclared parameter",
			parameters: map[string][]string{"schema": {"billing"}, "table": {"orders"}},
			given:      map[string]string{"schema": "billing", "table": "orders", "db": "x"},
			field:      "db",
			want:       `invalid parameter "db": role "read-schema" does not declare it; use one of "schema", "table"`,
		},
		{
			name:       "role takes none",
			parameters: nil,
			given:      map[string]string{"schema": "billing"},
			field:      "schema",
			want:       `invalid parameter "schema": role "read-schema" takes no parameters; remove it`,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role := validRole()
			role.Parameters = tt.parameters

			_, err := role.ResolveParameters(tt.given)
			require.EqualError(t, err, tt.want)

			var fieldErr *FieldError
			require.True(t, errors.As(err, &fieldErr))
			require.Equal(t, tt.field, fieldErr.Field)
			require.True(t, fieldErr.Parameter)
		})
	}
}
