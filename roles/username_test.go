package roles

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"
)

var usernamePattern = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

// seededReader returns a deterministic random source, so a test can compute
// the random part a username should contain.
func seededReader(seed uint64) *rand.ChaCha8 {
	var key [32]byte
	copy(key[:], strconv.FormatUint(seed, 10))
	return rand.NewChaCha8(key)
}

func TestGenerateLongMultibyteNames(t *testing.T) {
	template, err := ParseUsernameTemplate(DefaultUsernameTemplate)
	require.NoError(t, err)

	role := strings.Repeat("restart-billing-app-", 10)
	require.Len(t, role, 200)
	displayName := "Zoë Ångström-Łukasiewicz 日本語 — oidc-" + strings.Repeat("ü", 40)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

	seen := make(map[string]bool, 1000)
	for i := range 1000 {
		name, err := template.Generate(role, displayName, now, seededReader(uint64(i)))
		require.NoError(t, err)

		expectedRandom, err := randomString(seededReader(uint64(i)), randomLength)
		require.NoError(t, err)

		require.Regexp(t, usernamePattern, name)
		require.LessOrEqual(t, len(name), 63)
		require.NotContains(t, name, "__")
		require.True(t, strings.HasSuffix(name, "_"+expectedRandom), "%q does not end with the random part %q", name, expectedRandom)
		require.True(t, strings.HasPrefix(name, "zsp_restart_billing_app"), "%q lost the role", name)
		require.Contains(t, name, "zo_ngstr")
		require.False(t, seen[name], "duplicate username %q", name)
		seen[name] = true
	}
}

func TestGenerateCryptoRandomUnique(t *testing.T) {
	template, err := ParseUsernameTemplate(DefaultUsernameTemplate)
	require.NoError(t, err)

	seen := make(map[string]bool, 1000)
	for range 1000 {
		name, err := template.Generate("app", "alice", time.Now(), nil)
		require.NoError(t, err)
		require.Regexp(t, `^zsp_app_alice_[a-z0-9]{12}$`, name)
		require.False(t, seen[name], "duplicate username %q", name)
		seen[name] = true
	}
}

func TestGenerateShapes(t *testing.T) {
	now := time.Unix(1893553445, 0)
	random := bytes.Repeat([]byte{0, 1, 2, 3, 35, 36, 71}, 4)
	const randomPart = "abcd9a9abcd9"

	tests := []struct {
		name        string
		template    string
		role        string
		displayName string
		want        string
	}{
		{name: "default", template: DefaultUsernameTemplate, role: "App", displayName: "oidc-Alice", want: "zsp_app_oidc_alice_" + randomPart},
		{name: "empty display name", template: DefaultUsernameTemplate, role: "app", displayName: "", want: "zsp_app_" + randomPart},
		{name: "display name of symbols", template: DefaultUsernameTemplate, role: "app", displayName: "日本語!!", want: "zsp_app_" + randomPart},
		{name: "empty role and display name", template: DefaultUsernameTemplate, role: "", displayName: "", want: "zsp_" + randomPart},
		{name: "leading part empty", template: "{{display_name}}_{{random}}", role: "app", displayName: "--", want: randomPart},
		{name: "unix time and spaces", template: "V_{{ role }}_{{unix_time}}_{{random}}", role: "app", displayName: "x", want: "v_app_1893553445_" + randomPart},
		{name: "digit first", template: "{{random}}_{{role}}", role: "app", displayName: "x", want: randomPart + "_app"},
		{name: "role shortened", template: "{{role}}_{{random}}", role: strings.Repeat("b", 100), displayName: "ignored", want: strings.Repeat("b", 50) + "_" + randomPart},
		{
			name:        "longer part shortened first",
			template:    "{{role}}_{{display_name}}_{{unix_time}}_{{random}}",
			role:        strings.Repeat("r", 60),
			displayName: strings.Repeat("d", 10),
			want:        strings.Repeat("r", 28) + "_" + strings.Repeat("d", 10) + "_1893553445_" + randomPart,
		},
		{
			name:        "both parts shortened evenly",
			template:    "{{role}}_{{display_name}}_{{random}}",
			role:        strings.Repeat("r", 60),
			displayName: strings.Repeat("d", 60),
			want:        strings.Repeat("r", 24) + "_" + strings.Repeat("d", 25) + "_" + randomPart,
		},
		{
			name:        "cut leaves no trailing underscore",
			template:    "{{role}}_{{random}}",
			role:        strings.Repeat("r", 49) + "-x" + strings.Repeat("y", 20),
			displayName: "",
			want:        strings.Repeat("r", 49) + "_" + randomPart,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			template, err := ParseUsernameTemplate(tt.template)
			require.NoError(t, err)

			got, err := template.Generate(tt.role, tt.displayName, now, bytes.NewReader(random))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.LessOrEqual(t, len(got), 63)
		})
	}
}

func TestParseUsernameTemplateErrors(t *testing.T) {
	tests := []struct {
		template string
		want     string
	}{
		{template: "zsp_{{role}}", want: "missing {{random}}; add it so every username is unique"},
		{template: "{{random}}{{random}}", want: "uses {{random}} 2 times; use it once"},
		{template: "zsp-{{random}}", want: `literal text "zsp-" contains '-'`},
		{template: "zsp_é{{random}}", want: `contains 'é'`},
		{template: "zsp_{{user}}_{{random}}", want: `unknown placeholder "{{user}}"; use {{role}}, {{display_name}}, {{random}} or {{unix_time}}`},
		{template: "zsp_{{random", want: `invalid placeholder "{{random"`},
		{template: strings.Repeat("x", 52) + "{{random}}", want: "need 64 bytes, but a username is at most 63 bytes"},
		{template: strings.Repeat("x", 42) + "{{unix_time}}{{random}}", want: "need 64 bytes"},
		{template: "", want: "missing {{random}}"},
	}

	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			_, err := ParseUsernameTemplate(tt.template)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestRandomStringDropsBiasedBytes(t *testing.T) {
	source := append(bytes.Repeat([]byte{252, 253, 254, 255}, 3), bytes.Repeat([]byte{251, 36, 0}, 10)...)

	got, err := randomString(bytes.NewReader(source), randomLength)
	require.NoError(t, err)
	require.Equal(t, "9aa9aa9aa9aa", got)
}

func TestRandomStringSourceErrors(t *testing.T) {
	readErr := errors.New("entropy source closed")

	_, err := randomString(iotest.ErrReader(readErr), randomLength)
	require.ErrorIs(t, err, readErr)
	require.ErrorContains(t, err, "read random bytes for {{random}}")

	_, err = randomString(bytes.NewReader(bytes.Repeat([]byte{255}, 10000)), randomLength)
	require.ErrorContains(t, err, "random source returned too few usable bytes")
}

func TestGenerateUnixTimeKept(t *testing.T) {
	template, err := ParseUsernameTemplate("{{role}}_{{display_name}}_{{unix_time}}_{{random}}")
	require.NoError(t, err)

	now := time.Unix(1893553445, 0)
	name, err := template.Generate(strings.Repeat("r", 200), strings.Repeat("d", 200), now, nil)
	require.NoError(t, err)
	require.Len(t, name, 63)
	require.Regexp(t, `^r+_d+_1893553445_[a-z0-9]{12}$`, name)
}
