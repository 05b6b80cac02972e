#!/usr/bin/env bash
# Stage 20 of `make test` (ci/test.sh): the unit and integration suites under ASan+UBSan
# (build-asan), then under TSan (build-tsan); both always run, and the stage fails if either
# failed. See ci/sanitize.sh.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
fail=0
ci/sanitize.sh address || fail=1
ci/sanitize.sh thread || fail=1
exit $fail
