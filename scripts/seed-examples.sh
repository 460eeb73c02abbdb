#!/usr/bin/env bash
# Runs the seed document's open-registration, read, update, delete, access-token and
# software-statement registration curl examples against a running dynreg (realm alpha as shipped in realms/alpha.json:
# open registration on, static client registration-service), as pasted from the seed with only
# the host replaced. Fails on any unexpected status or content; prints one line per step.
#
#   DYNREG_URL=http://127.0.0.1:8080 scripts/seed-examples.sh
set -euo pipefail

base="${DYNREG_URL:-http://127.0.0.1:8080}"
base="${base%/}"
register_uri="$base/am/oauth2/realms/root/realms/alpha/register"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
body="$work/body.json"

fail() {
    echo "FAIL $1" >&2
    if [[ -s "$body" ]]; then
        echo "response body:" >&2
        cat "$body" >&2
        echo >&2
    fi
    exit 1
}

# expect_status STEP EXPECTED ACTUAL
expect_status() {
    [[ "$3" == "$2" ]] || fail "$1: expected HTTP $2, got $3"
}

# field KEY: a top-level string field of the last response body ("" when absent).
field() {
    python3 - "$body" "$1" <<'PY'
import json, sys
value = json.load(open(sys.argv[1], encoding="utf-8")).get(sys.argv[2])
print("" if value is None else value if isinstance(value, str) else json.dumps(value))
PY
}

# check STEP PYTHON-EXPRESSION: the expression over `b` (the last body as JSON) must be true.
check() {
    python3 - "$body" "$2" <<'PY' || fail "$1: $2"
import json, sys
b = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

# 1. Open registration (seed: "Registration examples > Open registration").
status="$(curl -sS -o "$body" -w '%{http_code}' \
--request POST \
--header 'Content-Type: application/json' \
--data '{
  "redirect_uris": ["https://client.example.com/callback"],
  "client_name#en": "My Client",
  "client_name#ja-Jpan-JP": "\u30AF\u30E9\u30A4\u30A2\u30F3\u30C8\u540D",
  "client_uri": "https://client.example.com/"
}' \
"$register_uri")"
expect_status register 201 "$status"
client_id="$(field client_id)"
client_secret="$(field client_secret)"
token="$(field registration_access_token)"
client_uri="$(field registration_client_uri)"
[[ -n "$client_id" && -n "$client_secret" && -n "$token" ]] ||
    fail "register: client_id, client_secret and registration_access_token expected"
[[ "$client_uri" == "$register_uri?client_id=$client_id" ]] ||
    fail "register: registration_client_uri is $client_uri"
check register 'b["client_name#ja-jpan-jp"] == "クライアント名" and b["scope"] == "address phone openid profile email"'
echo "register: HTTP $status client_id=$client_id"

# 2. Read the client profile.
status="$(curl -sS -o "$body" -w '%{http_code}' \
--request GET \
--header "Authorization: Bearer $token" \
"$register_uri?client_id=$client_id")"
expect_status read 200 "$status"
[[ "$(field client_secret)" == "$client_secret" ]] || fail "read: client_secret differs"
check read '"registration_access_token" not in b and "registration_client_uri" not in b'
echo "read: HTTP $status client_id=$(field client_id)"

# 3. Update the client profile: the seed's PUT exactly, JSON sent with curl's default
#    form Content-Type.
status="$(curl -sS -o "$body" -w '%{http_code}' \
--request PUT \
--header "Authorization: Bearer $token" \
--data '{
  "client_name#en": "My Client",
  "client_name#ja-jpan-jp": "クライアント名",
  "client_id": "'"$client_id"'",
  "client_secret": "'"$client_secret"'",
  "client_uri": "https://client.example.com/",
  "scope": "openid profile",
  "grant_types": ["authorization_code", "implicit"],
  "redirect_uris": ["https://client.example.com/callback"]
}' \
"$register_uri?client_id=$client_id")"
expect_status update 200 "$status"
new_token="$(field registration_access_token)"
[[ -n "$new_token" && "$new_token" != "$token" ]] || fail "update: a new registration_access_token expected"
[[ "$(field client_id)" == "$client_id" ]] || fail "update: client_id changed"
[[ "$(field client_secret)" == "$client_secret" ]] || fail "update: client_secret changed"
check update 'b["scope"] == "openid profile" and b["scopes"] == ["openid", "profile"] and b["grant_types"] == ["authorization_code", "implicit"]'
echo "update: HTTP $status scope=\"$(field scope)\" (registration access token rotated)"

# The old token stops working at once.
status="$(curl -sS -o "$body" -w '%{http_code}' \
--request GET \
--header "Authorization: Bearer $token" \
"$register_uri?client_id=$client_id")"
expect_status "read with the old token" 401 "$status"
echo "read with the old token: HTTP $status"

# 4. Delete the client profile.
status="$(curl -sS -o "$body" -w '%{http_code}' \
--request DELETE \
--header "Authorization: Bearer $new_token" \
"$register_uri?client_id=$client_id")"
expect_status delete 204 "$status"
echo "delete: HTTP $status"

status="$(curl -sS -o "$body" -w '%{http_code}' \
--request GET \
--header "Authorization: Bearer $new_token" \
"$register_uri?client_id=$client_id")"
expect_status "read after delete" 401 "$status"
echo "read after delete: HTTP $status"

# 5. Registration with an access token (seed: "Registration with an access token").
status="$(curl -sS -o "$body" -w '%{http_code}' \
--request POST \
--user 'registration-service:forgerock' \
--data 'grant_type=client_credentials' \
--data 'scope=dynamic_client_registration' \
"$base/am/oauth2/realms/root/realms/alpha/access_token")"
expect_status "access token" 200 "$status"
access_token="$(field access_token)"
check "access token" 'b["token_type"] == "Bearer" and b["scope"] == "dynamic_client_registration" and b["expires_in"] > 0'
echo "access token: HTTP $status scope=$(field scope) expires_in=$(field expires_in)"

status="$(curl -sS -o "$body" -w '%{http_code}' \
--request POST \
--header 'Content-Type: application/json' \
--header "Authorization: Bearer $access_token" \
--data '{
  "redirect_uris": ["https://client.example.com/callback"],
  "client_name#en": "My Client",
  "client_name#ja-Jpan-JP": "\u30AF\u30E9\u30A4\u30A2\u30F3\u30C8\u540D",
  "client_uri": "https://client.example.com/"
}' \
"$register_uri")"
expect_status "register with the access token" 201 "$status"
check "register with the access token" 'b["client_uri"] == "https://client.example.com/" and b["registration_access_token"]'
echo "register with the access token: HTTP $status client_id=$(field client_id)"

# 6. Registration with a software statement (seed: "Registration with a software statement"):
#    the seed's statement expired in 2023, so a fresh one with the same claims is minted for
#    alpha's "My Software Publisher" (HS256, secret "secret").
statement="$(python3 "$(dirname "$0")/mint-seed-statement.py")"
status="$(curl -sS -o "$body" -w '%{http_code}' \
--request POST \
--header 'Content-Type: application/json' \
--data '{
  "redirect_uris": ["https://client.example.com/callback"],
  "client_name#en": "My Client",
  "client_name#ja-Jpan-JP": "\u30AF\u30E9\u30A4\u30A2\u30F3\u30C8\u540D",
  "client_uri": "https://client.example.com/",
  "software_statement": "'"$statement"'"
}' \
"$register_uri")"
expect_status "register with a software statement" 201 "$status"
check "register with a software statement" 'b["software_statement"] and "name" not in b and "sub" not in b'
echo "register with a software statement: HTTP $status client_id=$(field client_id)"

# The seed's literal statement is refused: it expired on 2023-02-01.
seed_statement='eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJyZWdpc3RyYXJAZXhhbXBsZS5jb20iLCJuYW1lIjoiSm9obiBEb2UiLCJpYXQiOjE2NzUyNDYxOTQsImV4cCI6MTY3NTI0OTc5NCwiaXNzIjoiaHR0cHM6Ly9wdWJsaXNoZXIuZXhhbXBsZS5jb20iLCJyZWRpcmVjdF91cmlzIjpbImh0dHBzOi8vY2xpZW50LmV4YW1wbGUuY29tL2NhbGxiYWNrIl19.7_3nu39GtTTz_RPKZMjj1JuwWWTgeE4Iqx7p3-cfiPg'
status="$(curl -sS -o "$body" -w '%{http_code}' \
--request POST \
--header 'Content-Type: application/json' \
--data '{"redirect_uris": ["https://client.example.com/callback"], "software_statement": "'"$seed_statement"'"}' \
"$register_uri")"
expect_status "the seed's expired statement" 400 "$status"
check "the seed's expired statement" 'b["error"] == "invalid_software_statement"'
echo "the seed's expired statement: HTTP $status $(field error)"
