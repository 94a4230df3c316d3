package postgres

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestQuoteIdentifier(t *testing.T) {
	q := Quoter{}

	require.Equal(t, `"zsp_app"`, q.QuoteIdentifier("zsp_app"))
	require.Equal(t, `"we""ird"`, q.QuoteIdentifier(`we"ird`))
	require.Equal(t, `"Mixed Case"`, q.QuoteIdentifier("Mixed Case"))
}

func TestQuoteLiteral(t *testing.T) {
	q := Quoter{}

	require.Equal(t, `'plain'`, q.QuoteLiteral("plain"))
	require.Equal(t, `'it''s'`, q.QuoteLiteral("it's"))
	require.Equal(t, `E'back\\slash'`, q.QuoteLiteral(`back\slash`))
	require.Equal(t, `E'both\\''s'`, q.QuoteLiteral(`both\'s`))
	require.Equal(t, `'nul'`, q.QuoteLiteral("n\x00ul"))
}

// TestQuoteRoundTrip reads quoted values back from the server under both
// settings of standard_conforming_strings.
func TestQuoteRoundTrip(t *testing.T) {
	conn := testPostgres.AdminConn(t)
	values := []string{"", "plain", "it's", `"double"`, `back\slash`, `\'; DROP TABLE x; --`, "ünïcode ✓", "$$dollar$$"}

	for _, setting := range []string{"on", "off"} {
		_, err := conn.Exec(testContext(t), "SET standard_conforming_strings = "+setting)
		require.NoError(t, err)

		for _, value := range values {
			var literal, identifier string
			query := "SELECT " + Quoter{}.QuoteLiteral(value) + " AS " + Quoter{}.QuoteIdentifier(value+"x")
			rows, err := conn.Query(testContext(t), query)
			require.NoError(t, err, "value %q with standard_conforming_strings %s", value, setting)
			identifier = rows.FieldDescriptions()[0].Name
			require.True(t, rows.Next())
			require.NoError(t, rows.Scan(&literal))
			rows.Close()

			require.Equal(t, value, literal, "standard_conforming_strings %s", setting)
			require.Equal(t, value+"x", identifier)
		}
	}
}

func TestFormatExpiration(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)

	require.Equal(t, "2030-01-02 02:04:05+00", FormatExpiration(time.Date(2030, 1, 2, 3, 4, 5, 0, berlin)))
	require.Equal(t, "2030-01-02 03:04:05.123456+00", FormatExpiration(time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)))
}
