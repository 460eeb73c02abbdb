#!/usr/bin/env bash
# Fails when a lower layer reaches up: the dependency direction of README "Layout".
#   http → realm → registration / jose / jwks_fetch → store
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
forbid() { # forbid DIR PATTERN WHY
    local hits
    hits=$(grep -rnE "^\s*(pub(\(crate\))? )?use .*($2)|[^/]($2)::" "$1" --include='*.rs' | grep -vE '^[^:]+:[0-9]+:\s*//' || true)
    if [ -n "$hits" ]; then
        printf 'layer violation (%s):\n%s\n' "$3" "$hits"
        status=1
    fi
}
forbid src/realm        'actix_web|crate::http'                       'realm must not know HTTP'
forbid src/registration 'actix|sled|crate::(http|realm|store|jose)'   'registration is pure'
forbid src/jose         'actix|sled|crate::(http|realm|store)'        'jose is pure'
forbid src/store        'actix|crate::(http|realm|registration|jose)' 'store knows no OAuth'
forbid src/software_statement 'actix|sled|crate::(http|realm|store)'  'statement verification is pure'
forbid src/jwks_fetch.rs 'actix|sled|crate::(http|realm|store)'       'the fetcher is a leaf'
forbid src/load         'crate::(http|realm|registration|jose|store)' 'the load tool is a plain HTTP client'
forbid src/cluster      'crate::(http|realm|registration|jose|store)' 'realm commands are plain HTTP clients'
[ $status -eq 0 ] && echo "layers: ok"
exit $status
